#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Give the running emulator an account of its own with FLEET instances (two Resource Controller pages of 100) and an
identity that may use them, tag some of them through Global Tagging, and write the environment of the run.

Usage: prepare.py <integration_config.yml> <env file to write> <fleet size>
The default account's instances and identities are left as they are (other targets rely on them).
"""

import json
import sys
import urllib.parse
import urllib.request
import uuid

import yaml

FLEET_ACCOUNT = "f1ee7f1ee7f1ee7f1ee7f1ee7f1ee7bb"
FLEET_API_KEY = "hsc-emulator-inventory-fleet-0200"  # an emulator test key, not a secret
REGIONS = ("us-south", "eu-de", "jp-tok")


def guid(n):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hs-crypto-inventory-target:{n}"))


def call(url, method="GET", body=None, headers=None, form=None, context=None):
    data = None
    headers = dict(headers or {}, Accept="application/json")
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30, context=context) as response:  # nosec - the local emulator
        return json.loads(response.read() or b"null")


def fleet(size):
    instances = {}
    for n in range(size):
        instances[guid(n)] = {"name": f"fleet-{n:03d}", "region": REGIONS[n % 3], "service": "kms" if n % 2 else "hs-crypto",
                              "account_id": FLEET_ACCOUNT}
    # Two instances whose names give the same host name (both get the first 8 characters of their GUID)
    instances[guid(1000)] = {"name": "payments eu", "region": "eu-de", "account_id": FLEET_ACCOUNT}
    instances[guid(1001)] = {"name": "payments/eu", "region": "eu-de", "service": "kms", "account_id": FLEET_ACCOUNT}
    # The instance the second of the plugin's EXAMPLES selects (HPCS, us-south, payments-*)
    instances[guid(1002)] = {"name": "payments-us", "region": "us-south", "account_id": FLEET_ACCOUNT}
    return instances


def main():
    config_path, env_path, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    http_url = config["hs_crypto_emulator_http_url"].rstrip("/")
    https_url = config["hs_crypto_emulator_url"].rstrip("/")
    instances = fleet(size)
    call(f"{http_url}/_emulator/config", "POST", {
        "instances": instances,
        "api_keys": {FLEET_API_KEY: {"iam_id": "iam-ServiceId-inventory-fleet", "account_id": FLEET_ACCOUNT, "instances": list(instances)}}})
    grant = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": FLEET_API_KEY}
    token = call(f"{http_url}/identity/token", "POST", form=grant)["access_token"]
    crns = dict((instance_id, f"crn:v1:bluemix:public:{spec.get('service', 'hs-crypto')}:{spec['region']}:a/{FLEET_ACCOUNT}:{instance_id}::")
                for instance_id, spec in instances.items())
    auth = {"Authorization": f"Bearer {token}"}
    # env:prod on fleet-000..003 (two HPCS, two Key Protect), env:dev on fleet-004..005
    for tag, numbers in (("env:prod", range(0, 4)), ("env:dev", range(4, 6))):
        call(f"{http_url}/v3/tags/attach", "POST", {"resources": [{"resource_id": crns[guid(n)]} for n in numbers], "tag_names": [tag]},
             headers=auth)
    with open(env_path, "w", encoding="utf-8") as handle:
        for name, value in (("IBMCLOUD_API_KEY", FLEET_API_KEY), ("HS_CRYPTO_IAM_URL", https_url), ("HS_CRYPTO_BROKER_URL", https_url),
                            ("HS_CRYPTO_RESOURCE_CONTROLLER_URL", https_url), ("HS_CRYPTO_TAGGING_URL", https_url),
                            ("HS_CRYPTO_CA_PATH", config["hs_crypto_ca_path"]), ("HSC_EMULATOR_HTTP_URL", http_url),
                            ("HSC_FLEET_SIZE", str(len(instances))), ("HSC_COLLIDING_A", guid(1000)), ("HSC_COLLIDING_B", guid(1001))):
            handle.write(f"{name}='{value}'\n")


if __name__ == "__main__":
    main()
