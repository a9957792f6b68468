# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure provisioning N keys in one instance: the role, a uri-based baseline and the request floors, at chosen round trips.

Run through ``scripts/nox -s benchmark -- [options]`` (it stages the collection, starts a fresh emulator and passes
``--state-file`` and ``--collections-path``). For each N of ``--sizes`` and each delay of ``--delays`` (milliseconds added
to every key management request by an emulator fault rule, posted again after every reset) it measures, in the same run
and against the same emulator:

* the role ``ibm.hs_crypto.hs_crypto_instance``: check mode on the empty instance, first run, re-run (default
  concurrency); at delays above 0 also a first run with ``hs_crypto_instance_concurrency: 1``, to show what the pool buys;
* at the delays of ``--baseline-delays`` only, a baseline playbook doing the job the way users do without this
  collection: ``ansible.builtin.uri`` for the token, one listing, and a loop creating the missing keys (first run,
  re-run, check mode). At 100 ms a uri loop over 1,000 keys takes more than 10 minutes and is not the comparison the
  latency target names;
* the sequential floor: a minimal Python script sending exactly the requests the job needs (token, discovery, listing,
  one create per missing key) one after the other over one keep-alive session (first run, re-run);
* the parallel floor: the same requests, the creates sent from ``--floor-workers`` threads, each with its own session
  (first run).

Then, optionally: ``--memory-sizes`` (peak RSS of the batch module process, first run and re-run, at delay 0);
``--rate-limit R`` (the role's first run at the largest size and delay while the emulator answers 429 to more than R
requests a second per instance: 429s counted, extra requests in percent, whether the role failed); ``--fleet IxK``
(I instances of K keys each, the role over one host per instance with ``--forks``, against a fleet floor, at the largest
delay).

Wall times are from ``time.perf_counter``; requests, writes and 429 answers are deltas of the emulator's counters. Each
figure is printed as soon as it is measured and the ``--json`` file is rewritten after each one (``"complete": false``
until the end), so a run cut short keeps what it measured. Nothing is asserted: the targets are printed beside the
figures.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.metadata
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time

import requests
import yaml

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
# The fleet's identity and instances, added through the control endpoint (the config is additive and survives resets).
FLEET_API_KEY = "hsc-emulator-bench-fleet-api-key-0008"
FLEET_IAM_ID = "IBMid-bench-fleet"

# Targets, printed beside the figures (the brief of the latency work; nothing fails on them).
TARGET_PARALLEL = 1.3    # at 100 ms, first run over 1,000 keys at most 1.3x the parallel floor
TARGET_RERUN = 4         # re-run: at most 4 requests per instance
TARGET_BASELINE = 10.0   # at 0 ms, first run at least 10x faster than the uri baseline
TARGET_SEQUENTIAL = 3.0  # at 0 ms, first run at most 3x the sequential floor
TARGET_EXTRA = 5.0       # under the rate limit, at most 5 % extra requests (429s / answered requests)


class Emulator:
    """The emulator of the state file: its URLs, CA, control endpoint, and Alice's key for instance A."""

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
        response = requests.request(method, f"{self.http}/_emulator/{path}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def counters(self):
        return self.control("GET", "counters")

    def prepare(self, delay_ms, rate_limit=None):
        """Reset (keys, log, counters and fault rules go), then post the rules of the scenario again.

        The first rule that matches and fires wins, and a delay rule fires on every request: the rate limit goes first,
        so that it sees every request. It carries the same delay, because a 429 costs a round trip too; the requests it
        lets through fall to the delay rule.
        """
        self.control("POST", "reset")
        rules = []
        if rate_limit:
            rule = {"service": "kms", "status": 429, "per_second": rate_limit, "burst": int(math.ceil(rate_limit))}
            if delay_ms:
                rule["delay"] = delay_ms / 1000.0
            rules.append(rule)
        if delay_ms:
            rules.append({"service": "kms", "delay": delay_ms / 1000.0})
        if rules:
            self.control("POST", "faults", json={"rules": rules})

    def key_count(self, api_key, instance):
        """Keys the instance holds (read with the fault rules removed, so the check itself is not throttled)."""
        self.control("DELETE", "faults")
        session = new_session(self.ca_path)
        token = session.post(self.https + "/identity/token", data={"grant_type": GRANT, "apikey": api_key}, timeout=60).json()
        headers = {"Authorization": "Bearer " + token["access_token"], "Bluemix-Instance": instance}
        listing = session.get(self.https + "/api/v2/keys", params={"limit": 5000}, headers=headers, timeout=60)
        listing.raise_for_status()
        return len(listing.json().get("resources", []))


def declared_keys(n):
    return [{"name": "bench-key-%05d" % i, "aliases": ["bench-alias-%05d" % i], "description": "Benchmark key %d" % i}
            for i in range(n)]


def fleet_ids(count):
    return ["f1ee7000-0000-4000-8000-%012d" % index for index in range(1, count + 1)]


def fleet_config(ids):
    """HPCS instances (discovery through the broker, as for instance A) and one API key that reaches them all."""
    return {"api_keys": {FLEET_API_KEY: {"iam_id": FLEET_IAM_ID, "name": "bench-fleet", "instances": list(ids)}},
            "instances": {instance: {"name": "fleet-%03d" % index, "region": "us-south"} for index, instance in enumerate(ids, 1)}}


def parse_fleet(text):
    """``50x200`` -> (50, 200)."""
    instances, keys = text.lower().split("x", 1)
    return int(instances), int(keys)


def measure(emulator, command, allow_failure=False):
    """Run a command; wall seconds and the emulator's counter deltas (requests, writes, 429 answers).

    A failing command ends the benchmark, except where ``allow_failure`` asks for the failure to be recorded instead
    (the rate-limit scenario, whose point is to see whether the role holds).
    """
    before = emulator.counters()
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = emulator.counters()
    figure = {"seconds": round(elapsed, 3), "requests": after["total"] - before["total"], "writes": after["writes"] - before["writes"],
              "throttled": after["by_status"].get("429", 0) - before["by_status"].get("429", 0), "load1": round(os.getloadavg()[0], 2)}
    if completed.returncode != 0:
        tail = completed.stdout[-4000:] + completed.stderr[-4000:]
        if not allow_failure:
            sys.stderr.write(tail)
            raise SystemExit(f"benchmark step failed: {' '.join(command)}")
        figure["failed"] = True
        figure["output_tail"] = tail[-3000:]
    elif allow_failure:
        figure["failed"] = False
    return figure


def connection_vars(emulator, api_key):
    return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "hs_crypto_instance_api_key": api_key, "hs_crypto_instance_iam_url": emulator.https,
            "hs_crypto_instance_broker_url": emulator.https, "hs_crypto_instance_ca_path": emulator.ca_path}


ROLE_PLAYBOOK = [{"name": "Role", "hosts": "bench", "gather_facts": False, "roles": [{"role": "ibm.hs_crypto.hs_crypto_instance"}]}]


def write_role_project(workdir, emulator, n):
    host = dict(connection_vars(emulator, emulator.api_key), hs_crypto_instance_id=emulator.instance, hs_crypto_instance_keys=declared_keys(n))
    return _write(workdir, "role", {"bench": {"hosts": {"bench-instance": host}}}, ROLE_PLAYBOOK)


def write_fleet_project(workdir, emulator, ids, n):
    """One host per instance; the keys and the connection in the group's vars (the same declaration everywhere)."""
    hosts = {"fleet-%03d" % index: {"hs_crypto_instance_id": instance} for index, instance in enumerate(ids, 1)}
    group = dict(connection_vars(emulator, FLEET_API_KEY), hs_crypto_instance_keys=declared_keys(n))
    return _write(workdir, "fleet", {"bench": {"hosts": hosts, "vars": group}}, ROLE_PLAYBOOK)


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


# --- floors: exactly the requests the job needs, from plain Python ---------------------------------------------------

def new_session(ca_path):
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE would override the session's CA bundle
    session.verify = ca_path
    return session


def converge_instance(https, ca_path, api_key, instance, n, workers):
    """Token, discovery, listing, then one create per missing key: in this thread (``workers`` 1) or from ``workers``
    threads, each with a keep-alive session of its own (a shared one would serialise them on its pool)."""
    session = new_session(ca_path)
    token = session.post(https + "/identity/token", data={"grant_type": GRANT, "apikey": api_key}, timeout=60).json()
    auth = {"Authorization": "Bearer " + token["access_token"]}
    session.get(f"{https}/crypto_v2/instances/{instance}", headers=auth, timeout=60).raise_for_status()
    headers = dict(auth, **{"Bluemix-Instance": instance})
    listing = session.get(https + "/api/v2/keys", params={"limit": 5000}, headers=headers, timeout=60).json()
    have = set(k["name"] for k in listing.get("resources", []))
    missing = [key for key in declared_keys(n) if key["name"] not in have]
    local = threading.local()

    def create(key):
        if workers > 1 and not hasattr(local, "session"):
            local.session = new_session(ca_path)
        body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
                "resources": [dict(key, type=KEY_TYPE, extractable=False)]}
        (local.session if workers > 1 else session).post(https + "/api/v2/keys", json=body, headers=headers, timeout=60).raise_for_status()

    if workers <= 1:
        for key in missing:
            create(key)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(create, missing))  # list(): raises the first failure


def _fleet_instance(job):
    """One instance of the fleet floor, in a worker process (a top-level function: the pool pickles it)."""
    converge_instance(*job)


def fleet_floor(emulator, instances, n, workers, forks):
    """Every instance's requests; ``forks`` processes take the instances, as Ansible's forks take the hosts."""
    jobs = [(emulator.https, emulator.ca_path, FLEET_API_KEY, instance, n, workers) for instance in fleet_ids(instances)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=forks) as pool:
        list(pool.map(_fleet_instance, jobs))


def floor_command(state_file, n, workers):
    return [sys.executable, os.path.abspath(__file__), "--floor", str(n), "--floor-workers", str(workers), "--state-file", state_file]


def fleet_floor_command(state_file, fleet, workers, forks):
    return [sys.executable, os.path.abspath(__file__), "--fleet-floor", fleet, "--floor-workers", str(workers), "--forks", str(forks),
            "--state-file", state_file]


# --- memory ----------------------------------------------------------------------------------------------------------

# Runs the module file as Ansible does (JSON arguments in a file), and reports its own peak RSS at exit.
PEAK_WRAPPER = ("import atexit, resource, runpy, sys\n"
                "atexit.register(lambda: sys.stderr.write('MAXRSS_KIB=%d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
                "sys.argv = sys.argv[1:]\n"
                "runpy.run_path(sys.argv[0], run_name='__main__')\n")


def module_peak_memory(emulator, collections_path, n):
    """Max RSS (MiB) of the batch module process converging n keys, and its wall seconds."""
    args = {"ANSIBLE_MODULE_ARGS": {"instance_id": emulator.instance, "endpoint": emulator.https, "api_key": emulator.api_key,
                                    "iam_url": emulator.https, "ca_path": emulator.ca_path, "crypto_keys": declared_keys(n)}}
    module = os.path.join(collections_path, "ansible_collections", "ibm", "hs_crypto", "plugins", "modules", "hs_crypto_key_batch.py")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(args, handle)
    try:
        start = time.perf_counter()
        completed = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, module, handle.name], capture_output=True, text=True,
                                   env=dict(os.environ, PYTHONPATH=collections_path), check=False)
        elapsed = time.perf_counter() - start
    finally:
        os.unlink(handle.name)
    result = json.loads(completed.stdout)
    if result.get("failed"):
        raise SystemExit(f"module failed: {result.get('msg')}")
    peak = [line for line in completed.stderr.splitlines() if line.startswith("MAXRSS_KIB=")]
    return round(int(peak[-1].split("=", 1)[1]) / 1024.0, 1), round(elapsed, 3)


# --- the run -----------------------------------------------------------------------------------------------------------

LABELS = {
    "role_check": "role, check mode", "role_first": "role, first run", "role_rerun": "role, re-run",
    "role_first_sequential": "role, first run, concurrency 1",
    "baseline_first": "uri baseline, first run", "baseline_rerun": "uri baseline, re-run", "baseline_check": "uri baseline, check mode",
    "sequential_floor_first": "sequential floor, first run", "sequential_floor_rerun": "sequential floor, re-run",
    "parallel_floor_first": "parallel floor, first run",
}


class Recorder:
    """Every figure of the run; prints each one as it comes and rewrites the JSON file, so a run cut short keeps them."""

    def __init__(self, json_path, options):
        self.json_path = json_path
        self.data = {"complete": False, "options": options, "machine": machine(), "figures": [], "memory": [],
                     "rate_limit": None, "fleet": None}

    def note(self, where, name, figure):
        extra = " (%d answered 429)" % figure["throttled"] if figure.get("throttled") else ""
        print(f"{where:<22} {LABELS.get(name, name):<38} {figure['seconds']:9.2f} s {figure['requests']:7d} requests "
              f"{figure['writes']:7d} writes{extra}  [load {figure['load1']}]", flush=True)
        self.save()

    def save(self):
        if self.json_path:
            with open(self.json_path, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, indent=2)


def machine():
    """What the figures depend on besides the code: cores, Python, ansible-core, and the load when the run began."""
    try:
        core = importlib.metadata.version("ansible-core")
    except importlib.metadata.PackageNotFoundError:
        core = None
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "ansible_core": core,
            "load_at_start": [round(value, 2) for value in os.getloadavg()]}


def run_size(recorder, emulator, options, workdir, n, delay_ms):
    """Every measurement of one (N, delay); each starts from an empty instance with the delay rule posted."""
    figures = {"n": n, "delay_ms": delay_ms}
    recorder.data["figures"].append(figures)
    where = f"N={n} delay={delay_ms}ms"

    def step(name, command):
        figures[name] = measure(emulator, command)
        recorder.note(where, name, figures[name])

    emulator.prepare(delay_ms)
    role = write_role_project(workdir, emulator, n)
    step("role_check", playbook_command(role, "--check"))
    step("role_first", playbook_command(role))
    step("role_rerun", playbook_command(role))
    if delay_ms:
        emulator.prepare(delay_ms)
        step("role_first_sequential", playbook_command(role, "-e", json.dumps({"hs_crypto_instance_concurrency": 1})))

    if delay_ms in options.baseline_delays:
        emulator.prepare(delay_ms)
        baseline = write_baseline_project(workdir, emulator, n)
        step("baseline_first", playbook_command(baseline))
        step("baseline_rerun", playbook_command(baseline))
        step("baseline_check", playbook_command(baseline, "--check"))

    emulator.prepare(delay_ms)
    step("sequential_floor_first", floor_command(options.state_file, n, 1))
    step("sequential_floor_rerun", floor_command(options.state_file, n, 1))

    emulator.prepare(delay_ms)
    step("parallel_floor_first", floor_command(options.state_file, n, options.floor_workers))
    figures["parallel_floor_first"]["threads"] = options.floor_workers
    figures["ratios"] = ratios(figures)
    recorder.save()


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def seconds(figures, name):
    return figures[name]["seconds"] if name in figures else None


def ratios(figures):
    return {"role_first/parallel_floor": ratio(seconds(figures, "role_first"), seconds(figures, "parallel_floor_first")),
            "role_first/sequential_floor": ratio(seconds(figures, "role_first"), seconds(figures, "sequential_floor_first")),
            "baseline_first/role_first": ratio(seconds(figures, "baseline_first"), seconds(figures, "role_first")),
            "role_first_sequential/role_first": ratio(seconds(figures, "role_first_sequential"), seconds(figures, "role_first")),
            "role_rerun_requests": figures["role_rerun"]["requests"]}


def run_memory(recorder, emulator, options, n):
    """The batch module's peak RSS at n keys, first run and re-run, at delay 0."""
    emulator.prepare(0)
    first, first_seconds = module_peak_memory(emulator, options.collections_path, n)
    rerun, rerun_seconds = module_peak_memory(emulator, options.collections_path, n)
    figure = {"n": n, "peak_mib_first": first, "peak_mib_rerun": rerun, "seconds_first": first_seconds, "seconds_rerun": rerun_seconds}
    recorder.data["memory"].append(figure)
    print(f"memory N={n}: batch module peak RSS {first} MiB (first run, {first_seconds:.1f} s), {rerun} MiB (re-run, {rerun_seconds:.1f} s)",
          flush=True)
    recorder.save()


def run_rate_limit(recorder, emulator, workdir, n, delay_ms, per_second):
    """The role's first run while the emulator allows ``per_second`` requests a second per instance (burst as many)."""
    emulator.prepare(delay_ms, rate_limit=per_second)
    role = write_role_project(workdir, emulator, n)
    figure = measure(emulator, playbook_command(role), allow_failure=True)
    applied = [rule["applied"] for rule in emulator.control("GET", "faults")["rules"] if rule.get("per_second")]
    figure.update(n=n, delay_ms=delay_ms, per_second=per_second, burst=int(math.ceil(per_second)), rule_applied=sum(applied),
                  keys_present=emulator.key_count(emulator.api_key, emulator.instance))
    answered = figure["requests"] - figure["throttled"]
    figure["extra_percent"] = round(100.0 * figure["throttled"] / answered, 2) if answered else None
    recorder.data["rate_limit"] = figure
    recorder.note(f"N={n} delay={delay_ms}ms", f"role, first run, rate limit {per_second:g}/s", figure)
    print(f"rate limit: {figure['throttled']} answers were 429 (the rule gave {figure['rule_applied']}), extra requests "
          f"{figure['extra_percent']} % (target <= {TARGET_EXTRA} %); {figure['keys_present']} of {n} keys present", flush=True)
    if figure["failed"]:
        print("!" * 100 + "\n!!! THE ROLE FAILED UNDER THE RATE LIMIT (output tail below; figures recorded, not raised)\n" + "!" * 100,
              flush=True)
        print(figure["output_tail"], flush=True)


def run_fleet(recorder, emulator, options, workdir, delay_ms):
    """The role over ``instances`` hosts with ``--forks``, first run and re-run, against the fleet floor."""
    instances, n = parse_fleet(options.fleet)
    ids = fleet_ids(instances)
    emulator.control("POST", "config", json=fleet_config(ids))
    figure = {"instances": instances, "keys_per_instance": n, "forks": options.forks, "floor_workers": options.floor_workers,
              "delay_ms": delay_ms}
    recorder.data["fleet"] = figure
    where = f"fleet {instances}x{n} {delay_ms}ms"
    emulator.prepare(delay_ms)
    project = write_fleet_project(workdir, emulator, ids, n)
    for name in ("role_first", "role_rerun"):
        figure[name] = measure(emulator, playbook_command(project, "-f", str(options.forks)))
        recorder.note(where, name, figure[name])
    emulator.prepare(delay_ms)
    figure["parallel_floor_first"] = measure(emulator, fleet_floor_command(options.state_file, options.fleet, options.floor_workers, options.forks))
    recorder.note(where, "parallel_floor_first", figure["parallel_floor_first"])
    figure["role_first/parallel_floor"] = ratio(figure["role_first"]["seconds"], figure["parallel_floor_first"]["seconds"])
    figure["role_rerun_requests_per_instance"] = round(figure["role_rerun"]["requests"] / instances, 2)
    recorder.save()


# --- the report ------------------------------------------------------------------------------------------------------

def mark(met):
    return "-" if met is None else ("yes" if met else "NO")


def targets(data):
    """Each target the figures can be held against: what, where, the figure, met or not."""
    found = []
    for f in data["figures"]:
        where = f"N={f['n']}, {f['delay_ms']} ms"
        r = f.get("ratios")
        if not r:
            continue
        found.append(("check mode makes no write", where, f["role_check"]["writes"], f["role_check"]["writes"] == 0))
        found.append((f"re-run <= {TARGET_RERUN} requests per instance", where, r["role_rerun_requests"], r["role_rerun_requests"] <= TARGET_RERUN))
        if f["delay_ms"]:
            value = r["role_first/parallel_floor"]
            found.append((f"first run <= {TARGET_PARALLEL}x the parallel floor (named for 1,000 keys at 100 ms)", where, value,
                          None if value is None else value <= TARGET_PARALLEL))
        else:
            value = r["baseline_first/role_first"]
            if value is not None:
                found.append((f"first run >= {TARGET_BASELINE:g}x faster than the uri baseline (0 ms)", where, value, value >= TARGET_BASELINE))
            value = r["role_first/sequential_floor"]
            found.append((f"first run <= {TARGET_SEQUENTIAL:g}x the sequential floor (0 ms)", where, value, value <= TARGET_SEQUENTIAL))
    limit = data.get("rate_limit")
    if limit:
        where = f"N={limit['n']}, {limit['delay_ms']} ms, {limit['per_second']:g}/s"
        found.append(("the role does not fail under the rate limit", where, "failed" if limit["failed"] else "ok", not limit["failed"]))
        value = limit["extra_percent"]
        found.append((f"extra requests under the rate limit <= {TARGET_EXTRA:g} %", where, value, None if value is None else value <= TARGET_EXTRA))
    fleet = data.get("fleet")
    if fleet and "role_first/parallel_floor" in fleet:
        where = f"fleet {fleet['instances']}x{fleet['keys_per_instance']}, {fleet['delay_ms']} ms"
        value = fleet["role_rerun_requests_per_instance"]
        found.append((f"re-run <= {TARGET_RERUN} requests per instance", where, value, value <= TARGET_RERUN))
    return [{"target": t, "where": w, "figure": v, "met": m} for t, w, v, m in found]


def cell(figure, key):
    return "-" if figure is None else ("%.2f" % figure[key] if key == "seconds" else str(figure[key]))


def report(data):
    lines = []
    for delay in sorted(set(f["delay_ms"] for f in data["figures"])):
        lines += ["", f"Delay {delay} ms per key management request", "",
                  "| N | run | seconds | requests | writes |", "|---|---|---:|---:|---:|"]
        for f in (f for f in data["figures"] if f["delay_ms"] == delay):
            for name, label in LABELS.items():
                if name in f:
                    suffix = " (%d threads)" % f[name]["threads"] if "threads" in f[name] else ""
                    lines.append(f"| {f['n']} | {label}{suffix} | {cell(f[name], 'seconds')} | {cell(f[name], 'requests')} | {cell(f[name], 'writes')} |")
    lines += ["", "| N | delay ms | role first / parallel floor | role first / sequential floor | baseline first / role first "
              "| role first c=1 / role first | role re-run requests |", "|---|---:|---:|---:|---:|---:|---:|"]
    for f in data["figures"]:
        r = f.get("ratios")
        if r:
            lines.append("| %d | %d | %s | %s | %s | %s | %s |" % (
                f["n"], f["delay_ms"], *("-" if r[k] is None else r[k] for k in (
                    "role_first/parallel_floor", "role_first/sequential_floor", "baseline_first/role_first", "role_first_sequential/role_first",
                    "role_rerun_requests"))))
    for m in data["memory"]:
        lines.append(f"\nBatch module peak RSS at N={m['n']}, 0 ms: {m['peak_mib_first']} MiB (first run), {m['peak_mib_rerun']} MiB (re-run)")
    limit = data.get("rate_limit")
    if limit:
        lines.append(f"\nRate limit {limit['per_second']:g}/s per instance (burst {limit['burst']}), N={limit['n']}, {limit['delay_ms']} ms: "
                     f"role first run {limit['seconds']:.2f} s, {limit['requests']} requests, {limit['throttled']} answered 429, "
                     f"extra {limit['extra_percent']} %, {limit['keys_present']} keys present, role "
                     f"{'FAILED' if limit['failed'] else 'succeeded'}")
    fleet = data.get("fleet")
    if fleet and "role_first/parallel_floor" in fleet:
        lines.append(f"\nFleet {fleet['instances']} instances x {fleet['keys_per_instance']} keys, {fleet['forks']} forks, {fleet['delay_ms']} ms: "
                     f"role first run {fleet['role_first']['seconds']:.2f} s ({fleet['role_first']['requests']} requests), re-run "
                     f"{fleet['role_rerun']['seconds']:.2f} s ({fleet['role_rerun']['requests']} requests); floor "
                     f"({fleet['forks']} processes x {fleet['floor_workers']} threads) {fleet['parallel_floor_first']['seconds']:.2f} s "
                     f"({fleet['parallel_floor_first']['requests']} requests); role / floor {fleet['role_first/parallel_floor']}x")
    lines += ["", "| target | where | figure | met |", "|---|---|---:|---|"]
    lines += [f"| {t['target']} | {t['where']} | {t['figure']} | {mark(t['met'])} |" for t in data["targets"]]
    return "\n".join(lines)


def numbers(text, kind=int):
    return [kind(s) for s in text.split(",") if s.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", required=True, help="the emulator's state file")
    parser.add_argument("--collections-path", help="folder holding ansible_collections/ibm/hs_crypto")
    parser.add_argument("--sizes", default="100,1000", help="comma-separated key counts")
    parser.add_argument("--delays", default="0", help="comma-separated delays in milliseconds added to every key management request")
    parser.add_argument("--baseline-delays", default="0", help="the delays at which the uri baseline runs too (comma-separated ms)")
    parser.add_argument("--floor-workers", type=int, default=10, help="threads of the parallel floor (per instance in the fleet)")
    parser.add_argument("--rate-limit", type=float, help="requests per second per instance (burst as many): one extra role run")
    parser.add_argument("--memory-sizes", default="", help="comma-separated key counts for the batch module's peak RSS (0 ms)")
    parser.add_argument("--fleet", help="INSTANCESxKEYS, e.g. 50x200: the role over a fleet against the fleet floor")
    parser.add_argument("--forks", type=int, default=10, help="Ansible forks of the fleet run (and processes of its floor)")
    parser.add_argument("--json", help="write the figures here as JSON (rewritten after each figure)")
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fleet-floor", help=argparse.SUPPRESS)
    options = parser.parse_args()
    emulator = Emulator(options.state_file)
    if options.floor is not None:
        converge_instance(emulator.https, emulator.ca_path, emulator.api_key, emulator.instance, options.floor, options.floor_workers)
        return
    if options.fleet_floor:
        fleet_floor(emulator, *parse_fleet(options.fleet_floor), options.floor_workers, options.forks)
        return
    sizes, delays = numbers(options.sizes), numbers(options.delays)
    options.baseline_delays = numbers(options.baseline_delays)
    recorder = Recorder(options.json, {"sizes": sizes, "delays_ms": delays, "baseline_delays_ms": options.baseline_delays,
                                       "floor_workers": options.floor_workers, "rate_limit": options.rate_limit,
                                       "memory_sizes": numbers(options.memory_sizes), "fleet": options.fleet, "forks": options.forks})
    with tempfile.TemporaryDirectory(prefix="hs-crypto-bench-") as workdir:
        for n in sizes:
            for delay_ms in delays:
                print(f"measuring N={n} at {delay_ms} ms ...", flush=True)
                run_size(recorder, emulator, options, workdir, n, delay_ms)
        for n in numbers(options.memory_sizes):
            run_memory(recorder, emulator, options, n)
        if options.rate_limit:
            run_rate_limit(recorder, emulator, workdir, max(sizes), max(delays), options.rate_limit)
        if options.fleet:
            run_fleet(recorder, emulator, options, workdir, max(delays))
    recorder.data["targets"] = targets(recorder.data)
    recorder.data["load_at_end"] = [round(value, 2) for value in os.getloadavg()]
    recorder.data["complete"] = True
    text = report(recorder.data)
    recorder.data["report"] = text
    print(text)
    recorder.save()


if __name__ == "__main__":
    main()
