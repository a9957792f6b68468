# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The migration end to end: an HPCS source seeded through the emulator's API, moved to Key Protect with the playbooks.

Usage: python scenario.py INTEGRATION_CONFIG BASE_DIR [ansible-playbook options]

BASE_DIR/input stands for the user's vault (the material of the imported key, the API key) and is not scanned;
BASE_DIR/run receives everything the runs write (Ansible's log at -vvvv, output, temporary files, the migration
directory, the rewrapped data keys), which runme.sh then scans for secrets. Every check reads the emulator's request
log or state, or a file the run wrote: a step that claims success without doing the work fails here.
"""

import base64
import csv
import json
import os
import subprocess
import sys

import requests
import yaml

KEY_TYPE = "application/vnd.ibm.kms.key+json"
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
SOURCE = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"  # instance A (HPCS) of tests/hpcs_emulator/default_config.json
TARGETS = {"kp-standard": ("5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d", "tiered-pricing"),
           "dedicated": ("7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f", "dedicated")}
DATA_KEYS = 24  # data keys of the "application", wrapped with two source root keys
ACCOUNT = "b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21"
COS_BUCKET = f"crn:v1:bluemix:public:cloud-object-storage:global:a/{ACCOUNT}:1a2b3c4d-0000-4000-8000-000000000001:bucket:payments-archive"
ICD = f"crn:v1:bluemix:public:databases-for-postgresql:us-south:a/{ACCOUNT}:2b3c4d5e-0000-4000-8000-000000000002::"
VSI = f"crn:v1:bluemix:public:is:us-south:a/{ACCOUNT}::instance:0717_6f7a8b9c-0000-4000-8000-000000000003"


def b64(data):
    return base64.b64encode(data).decode("ascii")


def check(condition, message):
    if not condition:
        raise SystemExit(f"scenario: FAILED: {message}")
    print(f"scenario: ok: {message}")


class Emulator:
    def __init__(self, config):
        self.url = config["hs_crypto_emulator_url"]
        self.control_url = config["hs_crypto_emulator_http_url"] + "/_emulator/"
        self.verify = config["hs_crypto_ca_path"]
        self.api_key = config["hs_crypto_api_key"]
        response = requests.post(self.url + "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": self.api_key},
                                 verify=self.verify, timeout=30)
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def control(self, method, path, body=None, params=None):
        response = requests.request(method, self.control_url + path, json=body, params=params, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def kms(self, instance, method, path, body=None, params=None, ring=None):
        headers = {"Authorization": "Bearer " + self.token, "Bluemix-Instance": instance, "Accept": "application/json"}
        if ring:
            headers["X-Kms-Key-Ring"] = ring
        response = requests.request(method, self.url + "/api/v2/" + path, json=body, params=params, headers=headers,
                                    verify=self.verify, timeout=30)
        if response.status_code >= 400:
            raise SystemExit(f"scenario: {method} {path} on {instance} answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def create_key(self, instance, ring=None, **resource):
        body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1}, "resources": [dict({"type": KEY_TYPE}, **resource)]}
        return self.kms(instance, "POST", "keys", body, ring=ring)["resources"][0]

    def keys(self, instance, states="0,1,2,3,5"):
        return self.kms(instance, "GET", "keys", params={"state": states, "limit": 5000})["resources"]

    def mark(self):
        return self.control("GET", "requests")["last_seq"]

    def requests_since(self, mark):
        return [entry for entry in self.control("GET", "requests", params={"since": mark})["requests"] if entry["service"] == "kms"]


def seed(emu, input_dir):
    """The source estate: rings, generated/imported/standard keys, policies, registrations, data keys of an application."""
    emu.control("POST", "reset")
    source = SOURCE
    emu.kms(source, "POST", "key_rings/payments")
    secrets = {}
    payments = emu.create_key(source, ring="payments", name="payments-root", extractable=False, aliases=["payments-root", "pay-kek"],
                              description="Root key of the payments ledger")
    emu.kms(source, "PUT", f"keys/{payments['id']}/policies", {
        "metadata": {"collectionType": POLICY_TYPE, "collectionTotal": 2},
        "resources": [{"type": POLICY_TYPE, "rotation": {"enabled": True, "interval_month": 3}},
                      {"type": POLICY_TYPE, "dualAuthDelete": {"enabled": True}}]})
    backup = emu.create_key(source, name="backup-root", extractable=False, aliases=["backup-root"])
    imported_material = os.urandom(32)
    secrets["imported root key material"] = b64(imported_material)
    imported = emu.create_key(source, name="byok-root", extractable=False, aliases=["byok-root"], payload=b64(imported_material))
    standard_material = os.urandom(32)
    secrets["standard key material"] = b64(standard_material)
    emu.create_key(source, ring="payments", name="ledger-hmac", extractable=True, aliases=["ledger-hmac"], payload=b64(standard_material))
    old = emu.create_key(source, name="old-root", extractable=False, aliases=["old-root"])
    emu.kms(source, "POST", f"keys/{old['id']}/actions/disable")
    gone = emu.create_key(source, name="gone-root", extractable=False, aliases=["gone-root"])
    emu.kms(source, "DELETE", f"keys/{gone['id']}")
    for policy in ("metrics", "dualAuthDelete"):
        emu.kms(source, "PUT", "instance/policies", {
            "metadata": {"collectionType": POLICY_TYPE, "collectionTotal": 1},
            "resources": [{"policy_type": policy, "policy_data": {"enabled": True}}]}, params={"policy": policy})
    for key, crn in ((payments, COS_BUCKET), (payments, ICD), (backup, VSI)):
        emu.control("POST", "registrations", {"instance_id": source, "key_id": key["id"], "resource_crn": crn})

    # The application's data keys: 2/3 wrapped with payments-root, 1/3 with byok-root, as base64 files and JSON files.
    plaintexts = []
    for index in range(DATA_KEYS):
        key = payments if index % 3 else imported
        folder = os.path.join(input_dir, "..", "run", "app", "wdeks-hpcs", "payments" if index % 3 else "byok")
        os.makedirs(folder, exist_ok=True)
        plaintext = os.urandom(32)
        plaintexts.append(b64(plaintext))
        wrapped = emu.kms(source, "POST", f"keys/{key['id']}/actions/wrap", {"plaintext": b64(plaintext)})["ciphertext"]
        name = os.path.join(folder, f"dek-{index:03d}" + (".json" if index % 2 else ".b64"))
        with open(name, "w", encoding="utf-8") as handle:
            handle.write(json.dumps({"ciphertext": wrapped}) if index % 2 else wrapped + "\n")
    for index, value in enumerate(plaintexts):
        secrets[f"data key plaintext {index}"] = value
    secrets["API key"] = emu.api_key
    secrets["IAM token"] = emu.token
    return {"payments": payments, "backup": backup, "imported": imported, "old": old, "gone": gone}, secrets, imported_material


class Runner:
    """ansible-playbook at -vvvv with every file it writes under BASE/run (scanned afterwards)."""

    def __init__(self, base, extra, secrets):
        self.base = base
        self.secrets = secrets
        self.run_dir = os.path.join(base, "run")
        self.extra = extra
        for name in ("out", "tmp", "local", "remote", "home"):
            os.makedirs(os.path.join(self.run_dir, name), exist_ok=True)
        self.count = 0

    def __call__(self, step, *args, expect_rc=0):
        self.count += 1
        env = dict(os.environ, ANSIBLE_LOG_PATH=os.path.join(self.run_dir, "ansible.log"), ANSIBLE_LOCAL_TEMP=os.path.join(self.run_dir, "local"),
                   ANSIBLE_REMOTE_TMP=os.path.join(self.run_dir, "remote"), ANSIBLE_HOME=os.path.join(self.run_dir, "home"),
                   TMPDIR=os.path.join(self.run_dir, "tmp"), ANSIBLE_KEEP_REMOTE_FILES="0", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
        # The implicit localhost (no inventory): Ansible runs its modules with the controller's own Python.
        command = ["ansible-playbook", f"ibm.hs_crypto.migrate_{step}",
                   "-e", "@" + os.path.join(self.base, "input", "migration.yml"),
                   "-e", "@" + os.path.join(self.base, "input", "material.yml"),
                   "--vault-password-file", os.path.join(self.base, "input", "vault-password"), "-vvvv"] + list(args) + self.extra
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        with open(os.path.join(self.run_dir, "out", "stdout.txt"), "a", encoding="utf-8") as handle:
            handle.write(f"### {step} {' '.join(args)}\n{result.stdout}\n{result.stderr}\n")
        label = f"{step} {' '.join(args)}".strip()
        if result.returncode != expect_rc:
            lines = result.stdout.splitlines()
            shown = [index for index, line in enumerate(lines) if line.startswith(("fatal", "failed:"))]
            tasks = [max((i for i in range(index) if lines[i].startswith("TASK [")), default=index) for index in shown]
            tail = "\n".join(lines[task] + "\n" + lines[index] + "\n" + "\n".join(line for line in lines[index:index + 2000] if '"msg"' in line)
                             for task, index in zip(tasks, shown)) or "\n".join(lines[-25:])
            for value in self.secrets.values():  # the failure is shown; the known secrets never are
                tail = tail.replace(value, "<secret>")
            raise SystemExit(f"scenario: FAILED: migrate_{label} exited {result.returncode}, expected {expect_rc}\n{tail[-6000:]}")
        recap = [line for line in result.stdout.splitlines() if line.startswith("localhost ")]
        print(f"scenario: migrate_{label}: exit {result.returncode}; {recap[-1] if recap else ''}")
        return result.stdout, recap[-1] if recap else ""


def changed_count(recap):
    return int(recap.split("changed=")[1].split()[0])


def writes(entries):
    return [e for e in entries if e["write"]]


def main(config_path, base, *extra):
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    personality = config.get("hs_crypto_personality", "hpcs")
    target_id, target_plan = TARGETS["kp-standard" if personality == "kp-standard" else "dedicated"]
    input_dir = os.path.join(base, "input")
    os.makedirs(input_dir, exist_ok=True)
    emu = Emulator(config)
    seeded, secrets, imported_material = seed(emu, input_dir)
    run = Runner(base, list(extra), secrets)
    migration_dir = os.path.join(run.run_dir, "migration")
    app = os.path.join(run.run_dir, "app")

    # The user's files: the migration variables, and the imported key's material in Ansible Vault.
    common = {"endpoint": config["hs_crypto_emulator_url"], "iam_url": config["hs_crypto_emulator_url"], "ca_path": config["hs_crypto_ca_path"],
              "api_key": "{{ vault_hs_crypto_api_key }}"}
    migration = {
        "hs_crypto_migration_dir": migration_dir,
        "hs_crypto_migration_source": dict(common, instance_id=SOURCE),
        "hs_crypto_migration_target": {"instance_id": target_id, "endpoint": config["hs_crypto_emulator_url"], "plan": target_plan},
        "hs_crypto_migration_rewrap": [
            {"source_key": "payments-root", "src_dir": os.path.join(app, "wdeks-hpcs", "payments"), "dest_dir": os.path.join(app, "wdeks-kp", "payments")},
            {"source_key": "byok-root", "src_dir": os.path.join(app, "wdeks-hpcs", "byok"), "dest_dir": os.path.join(app, "wdeks-kp", "byok")},
        ],
        "hs_crypto_migration_rewrap_chunk": 5,
    }
    with open(os.path.join(input_dir, "migration.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(migration, handle)
    with open(os.path.join(input_dir, "vault-password"), "w", encoding="utf-8") as handle:
        handle.write(b64(os.urandom(24)) + "\n")
    with open(os.path.join(input_dir, "material.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump({"vault_hs_crypto_api_key": emu.api_key,
                        "hs_crypto_migration_material": {seeded["imported"]["id"]: b64(imported_material)}}, handle)
    subprocess.run(["ansible-vault", "encrypt", os.path.join(input_dir, "material.yml"), "--vault-password-file",
                    os.path.join(input_dir, "vault-password")], check=True, capture_output=True)
    with open(os.path.join(input_dir, "secrets.json"), "w", encoding="utf-8") as handle:
        json.dump(secrets, handle)
    source_keys_before = {k["id"]: k["state"] for k in emu.keys(SOURCE)}

    # 1. Plan: read-only, the same in check mode; no file written in check mode.
    mark = emu.mark()
    run("plan", "--check")
    check(not os.path.exists(migration_dir), "plan --check wrote no file")
    run("plan")
    sent = emu.requests_since(mark)
    dummy, recap = run("plan")
    check(changed_count(recap) == 0, "plan again: the same files, nothing changed")
    check(sent and not writes(sent) and {e["method"] for e in sent} <= {"GET", "HEAD"},
          f"plan sent {len(sent)} key management requests, all reads (GET/HEAD), to source and target")
    with open(os.path.join(migration_dir, "plan.json"), encoding="utf-8") as handle:
        plan = json.load(handle)
    actions = {k["source"]["name"]: k["action"] for k in plan["plan"]["keys"]}
    check(actions == {"payments-root": "create", "backup-root": "create", "byok-root": "import", "ledger-hmac": "copy",
                      "old-root": "skip", "gone-root": "skip"}, f"plan classified every source key: {actions}")
    with open(os.path.join(migration_dir, "target.yml"), encoding="utf-8") as handle:
        declared = yaml.safe_load(handle)
    names = sorted(k["name"] for k in declared["hs_crypto_instance_keys"])
    check(names == ["backup-root", "byok-root", "payments-root"], f"the declaration holds the root keys to create or import: {names}")
    byok = next(k for k in declared["hs_crypto_instance_keys"] if k["name"] == "byok-root")
    check("hs_crypto_migration_material" in byok.get("payload", "") and secrets["imported root key material"] not in json.dumps(declared),
          "the declaration names the imported key's material by its vault variable, never the material")
    payments_entry = next(k for k in declared["hs_crypto_instance_keys"] if k["name"] == "payments-root")
    check(declared["hs_crypto_instance_policies"].get("dual_auth_delete") is True and declared["hs_crypto_instance_policies"].get("metrics") is True,
          "the instance's dual authorization and metrics policies are declared for the target")
    check(payments_entry.get("key_ring") == "payments" and payments_entry.get("rotation", {}).get("interval_month") == 3
          and payments_entry.get("dual_auth_delete") is True, "payments-root keeps its ring, rotation interval and dual authorization")
    check(not os.path.exists(os.path.join(migration_dir, "crkm.csv")), "no CRKM row before the target keys exist")
    with open(os.path.join(migration_dir, "plan.md"), encoding="utf-8") as handle:
        report = handle.read()
    check("payments-root" in report and "cloud-object-storage" in report, "plan.md lists the keys and the services to re-key")

    # 2. Apply: check mode writes nothing; a failure half-way resumes; a re-run changes nothing.
    mark = emu.mark()
    run("apply", "--check")
    check(not writes(emu.requests_since(mark)), "apply --check sent no write")
    rule = emu.control("POST", "faults", {"rules": [{"service": "kms", "method": "POST", "path": "^/api/v2/keys$", "status": 500, "skip": 1,
                                                     "times": 1000}]})["ids"][0]
    stdout, dummy = run("apply", expect_rc=2)
    faults = emu.control("GET", "faults")
    emu.control("DELETE", "faults")
    half = [k for k in emu.keys(target_id) if k["state"] == 1]
    check(0 < len(half) < 3 and "keys failed" in stdout, f"the fault (rule {rule}) stopped apply half-way: the target holds "
          f"{sorted(k['name'] for k in half)} of the 3 root keys ({faults['rules'][0]['applied']} create(s) answered 500)")
    run("apply")
    target_keys = [k for k in emu.keys(target_id) if k["state"] == 1]
    names = sorted(k["name"] for k in target_keys)
    check(names == ["backup-root", "byok-root", "ledger-hmac", "payments-root"], f"the resumed apply completed the target, no duplicate: {names}")
    mark = emu.mark()
    dummy, recap = run("apply")
    check(not writes(emu.requests_since(mark)) and changed_count(recap) == 0, "apply again: no write, nothing changed")

    # 3. Verify: every key present, standard material the same; what is left is the registrations on source keys.
    mark = emu.mark()
    run("verify", "--check")
    run("verify")
    dummy, recap = run("verify")
    check(not writes(emu.requests_since(mark)) and changed_count(recap) == 0, "verify sent no write; run again, it changed nothing")
    with open(os.path.join(migration_dir, "verify.json"), encoding="utf-8") as handle:
        verified = json.load(handle)
    check(verified["verified"] is True, "verify: the target matches the plan")
    materials = {k["source"]["name"]: k.get("material") for k in verified["plan"]["keys"] if k["action"] in ("copy", "import")}
    check(materials.get("ledger-hmac") == "same", f"verify compared the standard key's material: {materials}")
    with open(os.path.join(migration_dir, "crkm.csv"), encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    by_source = {row[0]: row[1] for row in rows}
    targets = {k["name"]: k["crn"] for k in target_keys}
    check(by_source == {seeded["payments"]["crn"]: targets["payments-root"], seeded["backup"]["crn"]: targets["backup-root"]},
          f"crkm.csv maps each registered source root key to its target key ({len(rows)} rows, no header)")
    check(verified["summary"]["registrations_left"] == 3, "verify reports the 3 resources still registered to source keys")

    # Bad input is refused before any request, naming the variable and the rule.
    mark = emu.mark()
    stdout, dummy = run("rewrap", "-e", json.dumps({"hs_crypto_migration_rewrap": [{"src_dir": app}, {"source_key": "x", "files": "f"}]}),
                        expect_rc=2)
    check("hs_crypto_migration_rewrap[0].source_key is required" in stdout and "hs_crypto_migration_rewrap[1].files must be a list" in stdout
          and not emu.requests_since(mark), "rewrap refused bad entries, naming each, before any request")
    stdout, dummy = run("retire", expect_rc=2)
    check("hs_crypto_migration_retire_confirm" in stdout and not emu.requests_since(mark), "retire without a confirmation: refused before any request")

    # 4. Rewrap: check mode sends nothing; every data key rewrapped; a re-run skips them all without a request.
    mark = emu.mark()
    run("rewrap", "--check")
    check(not [e for e in emu.requests_since(mark) if e["method"] == "POST"], "rewrap --check sent no unwrap or wrap")
    check(not os.path.exists(os.path.join(app, "wdeks-kp")), "rewrap --check wrote no file")
    stdout, recap = run("rewrap")
    check(f"of {DATA_KEYS}" in stdout, "rewrap showed its progress")
    new_ids = {k["name"]: k["id"] for k in target_keys}
    plain_by_file = {}
    for index in range(DATA_KEYS):
        folder = "payments" if index % 3 else "byok"
        name = f"dek-{index:03d}" + (".json" if index % 2 else ".b64")
        with open(os.path.join(app, "wdeks-kp", folder, name), encoding="utf-8") as handle:
            rewrapped = json.load(handle)
        expected_key = new_ids["payments-root" if index % 3 else "byok-root"]
        if rewrapped["key_id"] != expected_key:
            check(False, f"{folder}/{name} was wrapped with {rewrapped['key_id']}, expected {expected_key}")
        plain = emu.kms(target_id, "POST", f"keys/{expected_key}/actions/unwrap", {"ciphertext": rewrapped["ciphertext"]})["plaintext"]
        plain_by_file[name] = plain == secrets[f"data key plaintext {index}"]
    check(all(plain_by_file.values()), f"all {DATA_KEYS} rewrapped data keys unwrap with their target key to the original plaintext")
    mark = emu.mark()
    dummy, recap = run("rewrap")
    check(not [e for e in emu.requests_since(mark) if e["method"] == "POST"] and changed_count(recap) == 0,
          "rewrap again: every data key skipped, no unwrap or wrap sent")

    # 5. Retire: confirmation required; keys still registered refused; never a deletion; the rest disabled.
    mark = emu.mark()
    run("retire", "-e", "hs_crypto_migration_retire_confirm=wrong", expect_rc=2)
    check(not writes(emu.requests_since(mark)), "retire without the right confirmation wrote nothing")
    confirm = ["-e", f"hs_crypto_migration_retire_confirm={SOURCE}"]
    run("retire", "--check", *confirm, expect_rc=2)
    check(not writes(emu.requests_since(mark)), "retire --check sent no write")
    run("retire", *confirm, expect_rc=2)
    states = {k["id"]: k["state"] for k in emu.keys(SOURCE)}
    check(states[seeded["imported"]["id"]] == 2 and states[seeded["payments"]["id"]] == 1 and states[seeded["backup"]["id"]] == 1,
          "retire disabled byok-root (no registration) and refused payments-root and backup-root (still registered)")
    # The services act on the migration intents: their registrations move from the source keys to the target keys.
    for source_key, crn, target_name in ((seeded["payments"], COS_BUCKET, "payments-root"), (seeded["payments"], ICD, "payments-root"),
                                         (seeded["backup"], VSI, "backup-root")):
        emu.control("DELETE", "registrations", {"instance_id": SOURCE, "key_id": source_key["id"], "resource_crn": crn})
        emu.control("POST", "registrations", {"instance_id": target_id, "key_id": new_ids[target_name], "resource_crn": crn})
    run("verify")
    with open(os.path.join(migration_dir, "verify.json"), encoding="utf-8") as handle:
        check(json.load(handle)["summary"]["registrations_left"] == 0, "verify after the services re-keyed: nothing left on source keys")
    run("retire", *confirm)
    mark = emu.mark()
    dummy, recap = run("retire", *confirm)
    check(not writes(emu.requests_since(mark)) and changed_count(recap) == 0, "retire again: nothing changed")
    states = {k["id"]: k["state"] for k in emu.keys(SOURCE)}
    check(all(states[seeded[name]["id"]] == 2 for name in ("payments", "backup", "imported")), "every moved source root key is disabled")
    check(set(states) == set(source_keys_before) and states[seeded["gone"]["id"]] == 5, "no source key was deleted")
    check(sorted(k["name"] for k in emu.keys(target_id) if k["state"] == 1) == ["backup-root", "byok-root", "ledger-hmac", "payments-root"],
          "the target holds exactly the moved keys")
    with open(os.path.join(run.run_dir, "out", "results.json"), "w", encoding="utf-8") as handle:
        json.dump({"plan": plan, "verify": verified}, handle)
    print(f"scenario: {run.count} playbook runs, source HPCS -> Key Protect {target_plan}: passed")


if __name__ == "__main__":
    main(*sys.argv[1:])
