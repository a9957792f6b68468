# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure provisioning N keys in one instance: the role, a uri-based baseline, and the request floor.

Run through ``scripts/benchmark`` (it sets up the venv, stages the collection and starts the
emulator). For each N it measures, in the same run and against the same emulator:

* the role ``ibm.hs_crypto.hs_crypto_instance``: check mode on the empty instance, first run, re-run;
* a baseline playbook doing the job the way users do without this collection: ``ansible.builtin.uri``
  for the token, one listing, and a loop creating the missing keys (first run, re-run, check mode);
* the floor: a minimal Python script sending exactly the requests the job needs
  (token, discovery, listing, one create per missing key);
* the peak memory (max RSS) of the batch module process itself, run directly.

Wall times are from ``time.perf_counter``; request counts and writes are the emulator's counters.
Figures are printed as a table and written as JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import requests
import yaml

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
KEY_TYPE = "application/vnd.ibm.kms.key+json"


class Emulator:
    def __init__(self, state_file):
        with open(state_file, encoding="utf-8") as handle:
            state = json.load(handle)
        self.http = state["http_url"]
        self.https = state["https_url"]
        self.ca_path = state["ca_path"]
        config = state["config"]
        self.api_key = next(k for k, v in config["api_keys"].items() if v.get("name", "").lower().startswith("alice"))
        self.instance = next(i for i, v in config["instances"].items() if v.get("name") == "A")

    def control(self, method, path, **kwargs):
        response = requests.request(method, f"{self.http}/_emulator/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def counters(self):
        return self.control("GET", "counters")

    def reset(self):
        self.control("POST", "reset")


def declared_keys(n):
    return [{"name": "bench-key-%05d" % i, "aliases": ["bench-alias-%05d" % i], "description": "Benchmark key %d" % i}
            for i in range(n)]


def measure(emulator, command, env=None):
    """Run a command; return wall seconds, KMS/total request deltas, writes, max RSS of the children."""
    before = emulator.counters()
    start = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = emulator.counters()
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise SystemExit(f"benchmark step failed: {' '.join(command)}")
    return {"seconds": round(elapsed, 3), "requests": after["total"] - before["total"], "writes": after["writes"] - before["writes"]}


def write_role_project(workdir, emulator, n):
    inventory = {"bench": {"hosts": {"bench-instance": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "hs_crypto_instance_id": emulator.instance, "hs_crypto_instance_api_key": emulator.api_key,
        "hs_crypto_instance_iam_url": emulator.https, "hs_crypto_instance_broker_url": emulator.https,
        "hs_crypto_instance_ca_path": emulator.ca_path, "hs_crypto_instance_keys": declared_keys(n)}}}}
    playbook = [{"name": "Role", "hosts": "bench", "gather_facts": False, "roles": [{"role": "ibm.hs_crypto.hs_crypto_instance"}]}]
    return _write(workdir, "role", inventory, playbook)


def write_baseline_project(workdir, emulator, n):
    """The job done with ansible.builtin.uri: token, one listing, a loop creating what is missing.

    The reads run in check mode too (check_mode: false), as a user would write them; uri has no check
    mode, so in a --check run the create loop is skipped: the baseline predicts nothing.
    """
    inventory = {"bench": {"hosts": {"bench-instance": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "kms_url": emulator.https, "iam_url": emulator.https, "ca": emulator.ca_path, "instance": emulator.instance,
        "api_key": emulator.api_key, "wanted": declared_keys(n)}}}}
    headers = {"Authorization": "Bearer {{ token.json.access_token }}", "Bluemix-Instance": "{{ instance }}"}
    playbook = [{"name": "Baseline", "hosts": "bench", "gather_facts": False, "tasks": [
        {"name": "Token",
         "ansible.builtin.uri": {"url": "{{ iam_url }}/identity/token", "method": "POST", "ca_path": "{{ ca }}",
                                 "body_format": "form-urlencoded", "body": {"grant_type": GRANT, "apikey": "{{ api_key }}"}},
         "register": "token", "no_log": True, "check_mode": False},
        {"name": "List", "ansible.builtin.uri": {"url": "{{ kms_url }}/api/v2/keys?limit=5000", "ca_path": "{{ ca }}", "headers": headers},
         "register": "listing", "check_mode": False},
        {"name": "Create the missing keys", "ansible.builtin.uri": {
            "url": "{{ kms_url }}/api/v2/keys", "method": "POST", "ca_path": "{{ ca }}", "headers": headers, "status_code": 201,
            "body_format": "json", "body": {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
                                            "resources": [{"type": KEY_TYPE, "name": "{{ item.name }}", "aliases": "{{ item.aliases }}",
                                                           "description": "{{ item.description }}", "extractable": False}]}},
         "loop": "{{ wanted }}", "loop_control": {"label": "{{ item.name }}"},
         "when": "item.name not in (listing.json.resources | map(attribute='name') | list)"},
    ]}]
    return _write(workdir, "baseline", inventory, playbook)


def _write(workdir, name, inventory, playbook):
    folder = os.path.join(workdir, name)
    os.makedirs(folder, exist_ok=True)
    paths = (os.path.join(folder, "inventory.yml"), os.path.join(folder, "playbook.yml"))
    for path, data in zip(paths, (inventory, playbook)):
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(data, handle, sort_keys=False)
    return paths


def playbook_command(paths, *extra):
    return ["ansible-playbook", "-i", paths[0], paths[1]] + list(extra)


def floor(emulator, n):
    """Exactly the requests the job needs, from one Python process with one keep-alive session."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE would override the session's CA bundle
    session.verify = emulator.ca_path
    token = session.post(emulator.https + "/identity/token", data={"grant_type": GRANT, "apikey": emulator.api_key}, timeout=30).json()
    auth = {"Authorization": "Bearer " + token["access_token"]}
    session.get(f"{emulator.https}/crypto_v2/instances/{emulator.instance}", headers=auth, timeout=30).raise_for_status()
    headers = dict(auth, **{"Bluemix-Instance": emulator.instance})
    listing = session.get(emulator.https + "/api/v2/keys", params={"limit": 5000}, headers=headers, timeout=30).json()
    have = set(k["name"] for k in listing.get("resources", []))
    for key in declared_keys(n):
        if key["name"] in have:
            continue
        body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
                "resources": [dict(key, type=KEY_TYPE, extractable=False)]}
        session.post(emulator.https + "/api/v2/keys", json=body, headers=headers, timeout=30).raise_for_status()


def floor_command(state_file, n):
    return [sys.executable, os.path.abspath(__file__), "--floor", str(n), "--state-file", state_file]


# Runs the module file as Ansible does (JSON arguments in a file), and reports its own peak RSS at exit.
PEAK_WRAPPER = ("import atexit, resource, runpy, sys\n"
                "atexit.register(lambda: sys.stderr.write('MAXRSS_KIB=%d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
                "sys.argv = sys.argv[1:]\n"
                "runpy.run_path(sys.argv[0], run_name='__main__')\n")


def module_peak_memory(emulator, collections_path, n):
    """Max RSS (MiB) of the batch module process converging n keys."""
    args = {"ANSIBLE_MODULE_ARGS": {"instance_id": emulator.instance, "endpoint": emulator.https, "api_key": emulator.api_key,
                                    "iam_url": emulator.https, "ca_path": emulator.ca_path, "crypto_keys": declared_keys(n)}}
    module = os.path.join(collections_path, "ansible_collections", "ibm", "hs_crypto", "plugins", "modules", "hs_crypto_key_batch.py")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(args, handle)
    try:
        completed = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, module, handle.name], capture_output=True, text=True,
                                   env=dict(os.environ, PYTHONPATH=collections_path), check=False)
    finally:
        os.unlink(handle.name)
    result = json.loads(completed.stdout)
    if result.get("failed"):
        raise SystemExit(f"module failed: {result.get('msg')}")
    peak = [line for line in completed.stderr.splitlines() if line.startswith("MAXRSS_KIB=")]
    return int(peak[-1].split("=", 1)[1]) / 1024.0


def run_size(emulator, state_file, collections_path, workdir, n):
    figures = {"n": n}
    emulator.reset()
    role = write_role_project(workdir, emulator, n)
    figures["role_check"] = measure(emulator, playbook_command(role, "--check"))
    figures["role_first"] = measure(emulator, playbook_command(role))
    figures["role_rerun"] = measure(emulator, playbook_command(role))

    emulator.reset()
    baseline = write_baseline_project(workdir, emulator, n)
    figures["baseline_first"] = measure(emulator, playbook_command(baseline))
    figures["baseline_rerun"] = measure(emulator, playbook_command(baseline))
    figures["baseline_check"] = measure(emulator, playbook_command(baseline, "--check"))

    emulator.reset()
    figures["floor_first"] = measure(emulator, floor_command(state_file, n))
    figures["floor_rerun"] = measure(emulator, floor_command(state_file, n))

    emulator.reset()
    figures["module_peak_mib_first"] = round(module_peak_memory(emulator, collections_path, n), 1)
    figures["module_peak_mib_rerun"] = round(module_peak_memory(emulator, collections_path, n), 1)
    return figures


def ratio(a, b):
    return round(a / b, 2) if b else None


def report(all_figures):
    lines = ["| N | run | role s | role req | baseline s | baseline req | floor s | floor req | role/baseline | role/floor |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for f in all_figures:
        for run, role, base, flo in (("first", "role_first", "baseline_first", "floor_first"),
                                     ("re-run", "role_rerun", "baseline_rerun", "floor_rerun"),
                                     ("check", "role_check", "baseline_check", None)):
            fl = f[flo] if flo else {"seconds": None, "requests": None}
            lines.append("| %d | %s | %.2f | %d | %.2f | %d | %s | %s | %s | %s |" % (
                f["n"], run, f[role]["seconds"], f[role]["requests"], f[base]["seconds"], f[base]["requests"],
                "-" if fl["seconds"] is None else "{:.2f}".format(fl["seconds"]), "-" if fl["requests"] is None else fl["requests"],
                ratio(f[role]["seconds"], f[base]["seconds"]), "-" if fl["seconds"] is None else ratio(f[role]["seconds"], fl["seconds"])))
    lines.append("")
    for f in all_figures:
        lines.append("N=%d: role check mode writes=%d (must be 0); role re-run requests=%d (target <= 4); "
                     "first run %.1fx faster than baseline (target >= 10x), %.2fx the floor (target <= 3x); "
                     "re-run %.1fx faster than baseline; batch module peak RSS %.1f MiB (first run), %.1f MiB (re-run)" % (
                         f["n"], f["role_check"]["writes"], f["role_rerun"]["requests"],
                         f["baseline_first"]["seconds"] / f["role_first"]["seconds"], f["role_first"]["seconds"] / f["floor_first"]["seconds"],
                         f["baseline_rerun"]["seconds"] / f["role_rerun"]["seconds"], f["module_peak_mib_first"], f["module_peak_mib_rerun"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", required=True, help="the emulator's state file")
    parser.add_argument("--collections-path", help="folder holding ansible_collections/ibm/hs_crypto")
    parser.add_argument("--sizes", default="100,1000", help="comma-separated key counts")
    parser.add_argument("--json", help="write the figures here as JSON")
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    emulator = Emulator(options.state_file)
    if options.floor is not None:
        floor(emulator, options.floor)
        return
    all_figures = []
    with tempfile.TemporaryDirectory(prefix="hs-crypto-bench-") as workdir:
        for n in [int(s) for s in options.sizes.split(",")]:
            print("measuring N=%d ..." % n, flush=True)
            all_figures.append(run_size(emulator, options.state_file, options.collections_path, workdir, n))
    text = report(all_figures)
    print(text)
    if options.json:
        with open(options.json, "w", encoding="utf-8") as handle:
            json.dump({"figures": all_figures, "report": text}, handle, indent=2)


if __name__ == "__main__":
    main()
