# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure the compliance playbook over many instances and keys, against the read floors, in the same run.

Run through ``scripts/nox -s compliance_benchmark -- [--instances 50] [--keys 1000] [--forks 8]`` (it stages the collection
and starts the emulator). The emulator gets ``--instances`` instances (half HPCS, half Key Protect Standard) and one identity
through its control endpoint; each instance gets ``--keys`` keys: root keys, a third of them with a rotation policy, a tenth
with dual authorization, some imported, some standard, one registration per hundred keys. Then, against the same emulator:

* the playbook ``ibm.hs_crypto.compliance`` over an inventory of all the instances, with ``--forks`` and
  ``hs_crypto_compliance_concurrency`` set to ``--concurrency``, which writes the three reports (JSON, HTML, JUnit);
* the sequential floor (unless ``--skip-sequential``): a Python loop sending exactly the reads the rules need (one token,
  then per instance the key listing, the policies of each active or suspended root key, the instance policies and the
  registrations);
* the parallel floor: the same reads as the playbook sends them, ``--forks`` instances at a time, the policy reads of each
  instance from ``--concurrency`` threads.

Figures: wall time, requests (the emulator's counters), and the playbook's time as a ratio to each floor. Printed, and
written as JSON with ``--json``. Wall times are ``time.perf_counter``; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import requests
import yaml

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
API_KEY = "hsc-emulator-bench-api-key-0006"
ACCOUNT = "b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21"


def instance_ids(count):
    return ["c0a11a00-0000-4000-8000-%012d" % index for index in range(1, count + 1)]


def emulator_config(ids):
    instances = {}
    for index, instance in enumerate(ids):
        if index % 2:
            instances[instance] = {"name": "kp-%03d" % index, "region": "us-south", "service": "kms", "plan": "tiered-pricing"}
        else:
            instances[instance] = {"name": "hpcs-%03d" % index, "region": "us-south"}
    return {"api_keys": {API_KEY: {"iam_id": "IBMid-bench", "name": "bench", "instances": list(ids)}}, "instances": instances}


class Emulator:
    def __init__(self, state_file):
        with open(state_file, encoding="utf-8") as handle:
            state = json.load(handle)
        self.http = state["http_url"]
        self.https = state["https_url"]
        self.ca_path = state["ca_path"]
        self.local = threading.local()

    def control(self, method, path, **kwargs):
        response = requests.request(method, f"{self.http}/_emulator/{path}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def session(self):
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def token(self):
        data = {"grant_type": GRANT, "apikey": API_KEY}
        answer = self.session().post(f"{self.https}/identity/token", data=data, timeout=60, verify=self.ca_path)
        answer.raise_for_status()
        return answer.json()["access_token"]

    def kms(self, token, instance, method, path, **kwargs):
        headers = {"Authorization": "Bearer " + token, "Bluemix-Instance": instance, "Accept": "application/json"}
        # verify per request: requests lets REQUESTS_CA_BUNDLE override a session's own setting.
        answer = self.session().request(method, f"{self.https}/api/v2/{path}", headers=headers, timeout=60, verify=self.ca_path, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
        return answer.json() if answer.content else None

    def requests_total(self):
        return self.control("GET", "counters")["total"]


def seed_instance(emulator, token, instance, keys):
    """``keys`` keys in one instance; returns nothing (the emulator holds them)."""
    for number in range(keys):
        resource = {"type": KEY_TYPE, "name": "bench-%05d" % number, "aliases": ["bench-%05d" % number]}
        kind = number % 20
        if kind == 19:
            resource["extractable"] = True
        else:
            resource["extractable"] = False
            if kind == 18:
                resource["payload"] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1}, "resources": [resource]}
        key = emulator.kms(token, instance, "POST", "keys", json=body)["resources"][0]
        policies = []
        if number % 3 == 0 and kind < 18:
            policies.append({"type": POLICY_TYPE, "rotation": {"enabled": True, "interval_month": 3}})
        if number % 10 == 0 and kind < 19:
            policies.append({"type": POLICY_TYPE, "dualAuthDelete": {"enabled": True}})
        if policies:
            emulator.kms(token, instance, "PUT", f"keys/{key['id']}/policies",
                         json={"metadata": {"collectionType": POLICY_TYPE, "collectionTotal": len(policies)}, "resources": policies})
        if number % 100 == 50 and kind < 18:
            emulator.control("POST", "registrations", json={
                "instance_id": instance, "key_id": key["id"],
                "resource_crn": f"crn:v1:bluemix:public:cloud-object-storage:global:a/{ACCOUNT}:bench-cos:bucket:b-{number}"})


def read_instance(emulator, token, instance, workers=1):
    """The reads the rules need for one instance (the policy reads from ``workers`` threads); the number of requests sent."""
    sent = 0
    keys, offset = [], 0
    while True:
        page = emulator.kms(token, instance, "GET", "keys", params={"state": "0,1,2,3,5", "limit": 5000, "offset": offset})["resources"]
        sent += 1
        keys.extend(page)
        if len(page) < 5000:
            break
        offset += len(page)
    read = [key["id"] for key in keys if not key.get("extractable") and key.get("state") in (1, 2)]
    if workers == 1:
        for key_id in read:
            emulator.kms(token, instance, "GET", f"keys/{key_id}/policies")
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda key_id: emulator.kms(token, instance, "GET", f"keys/{key_id}/policies"), read))
    sent += len(read)
    emulator.kms(token, instance, "GET", "instance/policies")
    emulator.kms(token, instance, "GET", "keys/registrations", params={"limit": 5000})
    return sent + 2


def floor(emulator, ids, forks, concurrency=1):
    started = time.perf_counter()
    token = emulator.token()
    if forks == 1:
        sent = sum(read_instance(emulator, token, instance, concurrency) for instance in ids)
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=forks) as pool:
            sent = sum(pool.map(lambda instance: read_instance(emulator, token, instance, concurrency), ids))
    return time.perf_counter() - started, sent + 1


def playbook(emulator, ids, forks, concurrency, collections_path, workdir):
    hosts = {"i%03d" % index: {"hs_crypto_instance_id": instance, "hs_crypto_instance_endpoint": emulator.https,
                               "hs_crypto_instance_service": "key_protect" if index % 2 else "hs_crypto"}
             for index, instance in enumerate(ids)}
    group = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "hs_crypto_instance_iam_url": emulator.https,
             "hs_crypto_instance_ca_path": emulator.ca_path, "hs_crypto_instance_api_key": API_KEY,
             "hs_crypto_compliance_dir": os.path.join(workdir, "reports"), "hs_crypto_compliance_concurrency": concurrency}
    inventory = os.path.join(workdir, "inventory.yml")
    with open(inventory, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"hpcs_instances": {"hosts": hosts, "vars": group}}, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_FORKS=str(forks))
    before = emulator.requests_total()
    started = time.perf_counter()
    done = subprocess.run(["ansible-playbook", "ibm.hs_crypto.compliance", "-i", inventory], env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the compliance playbook failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    sizes = {name: os.path.getsize(os.path.join(workdir, "reports", name)) for name in os.listdir(os.path.join(workdir, "reports"))}
    return elapsed, emulator.requests_total() - before, sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--state-file", required=True)
    parser.add_argument("--collections-path", required=True)
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--forks", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per instance (the role's variable)")
    parser.add_argument("--skip-sequential", action="store_true", help="do not measure the sequential floor (slow at 50 x 1000)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    emulator = Emulator(args.state_file)
    ids = instance_ids(args.instances)
    emulator.control("POST", "reset")
    emulator.control("POST", "config", json=emulator_config(ids))
    started = time.perf_counter()
    token = emulator.token()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda instance: seed_instance(emulator, token, instance, args.keys), ids))
    print(f"seeded {args.instances} instances x {args.keys} keys in {time.perf_counter() - started:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="hs-crypto-compliance-bench-") as workdir:
        play_time, play_requests, sizes = playbook(emulator, ids, args.forks, args.concurrency, args.collections_path, workdir)
    print(f"playbook: {play_time:.1f} s, {play_requests} requests", flush=True)
    parallel_time, parallel_requests = floor(emulator, ids, args.forks, args.concurrency)
    print(f"parallel floor: {parallel_time:.1f} s, {parallel_requests} requests", flush=True)
    figures = {
        "instances": args.instances, "keys_per_instance": args.keys, "forks": args.forks, "concurrency": args.concurrency,
        "playbook": {"seconds": round(play_time, 2), "requests": play_requests, "report_bytes": sizes},
        "parallel_floor": {"seconds": round(parallel_time, 2), "requests": parallel_requests,
                           "threads": f"{args.forks} instances x {args.concurrency} policy readers"},
        "ratio_to_parallel_floor": round(play_time / parallel_time, 2),
    }
    names = ["playbook", "parallel_floor"]
    if not args.skip_sequential:
        sequential_time, sequential_requests = floor(emulator, ids, 1)
        print(f"sequential floor: {sequential_time:.1f} s, {sequential_requests} requests", flush=True)
        figures["sequential_floor"] = {"seconds": round(sequential_time, 2), "requests": sequential_requests}
        figures["ratio_to_sequential_floor"] = round(play_time / sequential_time, 2)
        names.append("sequential_floor")
    print(f"{'':28}{'seconds':>10}{'requests':>10}")
    for name in names:
        print(f"{name:28}{figures[name]['seconds']:>10}{figures[name]['requests']:>10}")
    print(f"playbook / parallel floor ({args.forks} x {args.concurrency} threads): {figures['ratio_to_parallel_floor']}x"
          + (f"; / sequential floor: {figures['ratio_to_sequential_floor']}x" if "ratio_to_sequential_floor" in figures else "")
          + f"; reports: {sizes}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()
