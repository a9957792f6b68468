# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key compliance over an inventory of three instances, with the collection's playbooks, as a security team runs it.

Usage: python scenario.py INTEGRATION_CONFIG BASE_DIR [ansible-playbook options]

The instances are seeded through the emulator's API so that rules fail and pass; the clock is moved to age the keys
and to let a waiver expire. Checks read the reports the run wrote and the emulator's request log: the evaluation never
writes, the gate fails the run at its threshold, the remediation rotates exactly the overdue keys, and the report after
it has no rotation finding left. BASE_DIR/reports keeps the reports for the browser and schema check.
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import requests
import yaml

KEY_TYPE = "application/vnd.ibm.kms.key+json"
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
# tests/hpcs_emulator/default_config.json: instance A (HPCS), Key Protect Standard (us-south, tiered-pricing) and
# cross-region (eu-de).
INSTANCES = {"payments-hpcs": "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b", "keys-kp": "5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d",
             "keys-kp-xr": "6e2d8c3b-0f9a-4b4c-9d7e-3f2a1b0c9d8e"}
DAY = 86400
ENV = None
ACCOUNT = "b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21"
BUCKET = f"crn:v1:bluemix:public:cloud-object-storage:global:a/{ACCOUNT}:1a2b3c4d-0000-4000-8000-000000000001:bucket:old-backups"


def check(condition, message):
    if not condition:
        raise SystemExit(f"scenario: FAILED: {message}")
    print(f"scenario: ok: {message}")


class Emulator:
    def __init__(self, config):
        self.url = config["hs_crypto_emulator_url"]
        self.control_url = config["hs_crypto_emulator_http_url"] + "/_emulator/"
        self.verify = config["hs_crypto_ca_path"]
        response = requests.post(self.url + "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": config["hs_crypto_api_key"]},
                                 verify=self.verify, timeout=30)
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def control(self, method, path, body=None, params=None):
        response = requests.request(method, self.control_url + path, json=body, params=params, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def kms(self, instance, method, path, body=None, params=None):
        headers = {"Authorization": "Bearer " + self.token, "Bluemix-Instance": instance, "Accept": "application/json"}
        response = requests.request(method, self.url + "/api/v2/" + path, json=body, params=params, headers=headers, verify=self.verify,
                                    timeout=30)
        if response.status_code >= 400:
            raise SystemExit(f"scenario: {method} {path} on {instance} answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def create_key(self, instance, **resource):
        body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1}, "resources": [dict({"type": KEY_TYPE}, **resource)]}
        return self.kms(instance, "POST", "keys", body)["resources"][0]

    def key_policies(self, instance, key_id, rotation=None, dual=None):
        resources = []
        if rotation is not None:
            resources.append({"type": POLICY_TYPE, "rotation": rotation})
        if dual is not None:
            resources.append({"type": POLICY_TYPE, "dualAuthDelete": {"enabled": dual}})
        body = {"metadata": {"collectionType": POLICY_TYPE, "collectionTotal": len(resources)}, "resources": resources}
        self.kms(instance, "PUT", f"keys/{key_id}/policies", body)

    def instance_policy(self, instance, policy, data):
        self.kms(instance, "PUT", "instance/policies", {"metadata": {"collectionType": POLICY_TYPE, "collectionTotal": 1},
                                                        "resources": [{"policy_type": policy, "policy_data": data}]},
                 params={"policy": policy})

    def advance(self, days):
        self.control("POST", "clock", {"advance": days * DAY})

    def mark(self):
        return self.control("GET", "requests")["last_seq"]

    def requests_since(self, mark):
        return [e for e in self.control("GET", "requests", params={"since": mark})["requests"] if e["service"] == "kms"]


def seed(emu):
    """A: rotation on (3 months), rotation off, an imported key, a suspended key with a registration; Key Protect: good."""
    emu.control("POST", "reset")
    hpcs, kp, xr = INSTANCES["payments-hpcs"], INSTANCES["keys-kp"], INSTANCES["keys-kp-xr"]
    keys = {}
    keys["rotating"] = emu.create_key(hpcs, name="payments-root", extractable=False, aliases=["payments-root"])
    emu.key_policies(hpcs, keys["rotating"]["id"], rotation={"enabled": True, "interval_month": 3}, dual=True)
    keys["static"] = emu.create_key(hpcs, name="legacy-root", extractable=False, aliases=["legacy-root"])
    keys["imported"] = emu.create_key(hpcs, name="byok-root", extractable=False, aliases=["byok-root"],
                                      payload="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    keys["suspended"] = emu.create_key(hpcs, name="old-backup-root", extractable=False, aliases=["old-backup-root"])
    emu.control("POST", "registrations", {"instance_id": hpcs, "key_id": keys["suspended"]["id"], "resource_crn": BUCKET})
    emu.kms(hpcs, "POST", f"keys/{keys['suspended']['id']}/actions/disable")
    for instance in (kp, xr):
        # (Not allowedNetwork private-only: the run reaches the instances on their public endpoint, as most runs do.)
        for policy, data in (("dualAuthDelete", {"enabled": True}), ("metrics", {"enabled": True}),
                             ("keyCreateImportAccess", {"enabled": True, "attributes": {"enforce_token": True}})):
            emu.instance_policy(instance, policy, data)
        key = emu.create_key(instance, name="apps-root", extractable=False, aliases=["apps-root"])
        emu.key_policies(instance, key["id"], rotation={"enabled": True, "interval_month": 1}, dual=True)
        keys[instance] = key
    return keys


def write_inventory(path, config, reports):
    """The inventory a team keeps: instance ids and regions only; the service and plan come from discovery (the broker for
    HPCS, the Resource Controller for Key Protect), as on IBM Cloud. The cross-region plan's id is not one the collection
    can name, so that host says its plan."""
    hosts = {
        "payments-hpcs": {"hs_crypto_instance_id": INSTANCES["payments-hpcs"], "hs_crypto_instance_region": "us-south"},
        "keys-kp": {"hs_crypto_instance_id": INSTANCES["keys-kp"], "hs_crypto_instance_service": "key_protect"},
        "keys-kp-xr": {"hs_crypto_instance_id": INSTANCES["keys-kp-xr"], "hs_crypto_instance_service": "key_protect",
                       "hs_crypto_compliance_plan": "cross-region-resiliency"},
    }
    group_vars = {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "hs_crypto_compliance_dir": reports,
        "hs_crypto_compliance_rules": {"rotation-interval": {"params": {"max_interval_month": 6}},
                                       "rotation-overdue": {"params": {"max_interval_month": 6}}},
    }
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"hpcs_instances": {"hosts": hosts, "vars": group_vars}}, handle)


def environment(config):
    """What a user on IBM Cloud gets by default, pointed at the emulator: IAM, the broker, the Resource Controller, the CA."""
    url = config["hs_crypto_emulator_url"]
    return dict(os.environ, IBMCLOUD_API_KEY=config["hs_crypto_api_key"], HS_CRYPTO_IAM_URL=url, HS_CRYPTO_BROKER_URL=url,
                HS_CRYPTO_RESOURCE_CONTROLLER_URL=url, HS_CRYPTO_CA_PATH=config["hs_crypto_ca_path"])


def run(playbook, inventory, *args, expect_rc=0):
    command = ["ansible-playbook", f"ibm.hs_crypto.{playbook}", "-i", inventory] + list(args)
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=ENV)
    recap = [line for line in result.stdout.splitlines() if " : ok=" in line]
    if result.returncode != expect_rc:
        tail = "\n".join(line for line in result.stdout.splitlines() if line.startswith(("fatal", "failed")) or '"msg"' in line)
        raise SystemExit(f"scenario: FAILED: {playbook} {' '.join(args)} exited {result.returncode}, expected {expect_rc}\n{tail[-5000:]}")
    print(f"scenario: {playbook} {' '.join(args)}: exit {result.returncode}")
    return result.stdout, recap


def load(reports):
    with open(os.path.join(reports, "compliance.json"), encoding="utf-8") as handle:
        results = json.load(handle)
    by_instance = {result["instance"]["instance_id"]: result for result in results}
    return by_instance


def failed_rules(result):
    return sorted({finding["rule"] for finding in result["findings"] if not finding["waived"]})


def main(config_path, base, *extra):
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    global ENV  # pylint: disable=global-statement
    ENV = environment(config)
    emu = Emulator(config)
    keys = seed(emu)
    reports = os.path.join(base, "reports")
    inventory = os.path.join(base, "inventory.yml")
    write_inventory(inventory, config, reports)
    hpcs, kp, xr = INSTANCES["payments-hpcs"], INSTANCES["keys-kp"], INSTANCES["keys-kp-xr"]

    # Day 0: the evaluation writes nothing, in check mode or not; three reports.
    mark = emu.mark()
    run("compliance", inventory, "--check", *extra)
    run("compliance", inventory, *extra)
    sent = emu.requests_since(mark)
    check(sent and not [e for e in sent if e["write"] or e["method"] not in ("GET", "HEAD")],
          f"the evaluation of 3 instances, twice, sent {len(sent)} key management requests, all reads")
    results = load(reports)
    check(set(results) == set(INSTANCES.values()), "compliance.json holds one result per instance")
    a = results[hpcs]
    check({"rotation-enabled", "key-dual-auth", "instance-dual-auth", "private-only", "inactive-key-registrations",
           "hpcs-end-of-support"} <= set(failed_rules(a)), f"instance A fails what it should: {failed_rules(a)}")
    check("rotation-overdue" not in failed_rules(a) and "imported-rotated" not in failed_rules(a), "day 0: nothing is overdue yet")
    check("high-availability" in failed_rules(results[kp]) and "high-availability" not in failed_rules(results[xr]),
          "high availability: Standard in us-south without the cross-region plan fails, the cross-region instance passes")
    tree = ET.parse(os.path.join(reports, "compliance.junit.xml"))
    cases = tree.getroot().iter("testcase")
    check(len(list(cases)) == sum(len(r["rules"]) for r in results.values()), "compliance.junit.xml: one test case per rule and instance")
    with open(os.path.join(reports, "compliance.html"), encoding="utf-8") as handle:
        html = handle.read()
    check("legacy-root" in html and "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
          and "https://" not in html, "compliance.html names the keys, draws its charts inline and loads nothing from elsewhere")

    # The gate: high findings fail the run (after the reports are written); a waiver moves one out of the way.
    run("compliance", inventory, "-e", "hs_crypto_compliance_fail_on=critical", *extra, expect_rc=2)
    waivers = [{"rule": "inactive-key-registrations", "key": "old-backup-root", "reason": "bucket emptied, CHG0042",
                "expires": "2027-01-15"}]
    gated = {"hs_crypto_compliance_waivers": waivers, "hs_crypto_compliance_fail_on": "critical"}
    run("compliance", inventory, "-l", "payments-hpcs", "-e", json.dumps(gated), *extra)
    a = load(reports)[hpcs]
    waived = [f for f in a["findings"] if f["rule"] == "inactive-key-registrations"]
    check(waived and all(f["waived"] for f in waived), "the waiver waives the only critical finding, which stays in the report, "
          "and the critical gate passes")

    # 200 days later: rotation is overdue on the 3-month key; the waiver has expired and is a finding of its own.
    emu.advance(200)
    run("compliance", inventory, "-l", "payments-hpcs", "-e", json.dumps({"hs_crypto_compliance_waivers": waivers}), *extra)
    a = load(reports)[hpcs]
    overdue = {f["key_id"] for f in a["findings"] if f["rule"] == "rotation-overdue"}
    check(keys["static"]["id"] in overdue and keys["rotating"]["id"] not in overdue,
          "day 200: the key without rotation is overdue (6 months + 7 days), the one the service rotates every 3 months is not "
          f"({sorted(f['key_name'] + ': ' + f['message'] for f in a['findings'] if f['rule'] == 'rotation-overdue')})")
    check("waiver-expired" in failed_rules(a) and not [f for f in a["findings"] if f["rule"] == "inactive-key-registrations" and f["waived"]],
          "day 200: the waiver expired; it is a finding and no longer waives")
    emu.advance(200)
    run("compliance", inventory, "-l", "payments-hpcs", *extra)
    check("imported-rotated" in failed_rules(load(reports)[hpcs]), "day 400: the imported key was not rotated within 365 days")

    # Remediation: check mode predicts and writes nothing; the real run rotates exactly the overdue keys; the report after
    # it has no rotation-overdue finding.
    overdue = sorted(f["key_id"] for f in load(reports)[hpcs]["findings"] if f["rule"] == "rotation-overdue")
    mark = emu.mark()
    run("compliance_remediate", inventory, "-l", "payments-hpcs", "--check", *extra)
    check(not [e for e in emu.requests_since(mark) if e["write"]], "remediation in check mode: no write")
    run("compliance_remediate", inventory, "-l", "payments-hpcs", *extra)
    rotated = sorted(e["path"].split("/")[4] for e in emu.requests_since(mark) if e["write"] and e["path"].endswith("/actions/rotate"))
    check(rotated == overdue, f"remediation rotated exactly the overdue keys ({len(rotated)})")
    check("rotation-overdue" not in failed_rules(load(reports)[hpcs]), "the report after remediation has no rotation-overdue finding")
    print("scenario: compliance over 3 instances: passed")


if __name__ == "__main__":
    main(*sys.argv[1:])
