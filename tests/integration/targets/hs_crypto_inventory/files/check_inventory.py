#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""check_inventory.py <ansible-inventory --list JSON> <fleet size> <colliding guid a> <colliding guid b>: the hosts, their
variables and the groups by service, region and tag are what the emulator holds."""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as handle:
    data = json.load(handle)
size, colliding = int(sys.argv[2]), sys.argv[3:5]


def plain(value):
    """ansible-inventory --list writes values Ansible will not template as {"__ansible_unsafe": value}."""
    if isinstance(value, dict):
        return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


hostvars = plain(data["_meta"]["hostvars"])
problems = []


def members(group):
    return set(data.get(group, {}).get("hosts", []))


if len(hostvars) != size:
    problems.append(f"{len(hostvars)} hosts, expected {size}")
for name, hv in hostvars.items():
    for var in ("hs_crypto_instance_id", "hs_crypto_instance_region", "hs_crypto_instance_service", "hs_crypto_instance_crn",
                "hs_crypto_instance_plan", "hs_crypto_instance_resource_group_id", "hs_crypto_instance_state",
                "hs_crypto_instance_kms_endpoints", "hs_crypto_instance_tags"):
        if var not in hv:
            problems.append(f"{name}: no {var}")
    if any(secret in json.dumps(hv) for secret in ("api-key", "apikey", "Bearer")):
        problems.append(f"{name}: a credential in the host variables")
if problems:
    sys.exit("\n".join(problems[:20]))
by_id = dict((hv["hs_crypto_instance_id"], name) for name, hv in hostvars.items())
for guid in colliding:
    if by_id.get(guid) != f"payments-eu-{guid[:8]}":
        problems.append(f"instance {guid} is host {by_id.get(guid)}, expected payments-eu-{guid[:8]}")
if members("tag_env_prod") != {"fleet-000", "fleet-001", "fleet-002", "fleet-003"}:
    problems.append(f"tag_env_prod holds {sorted(members('tag_env_prod'))}")
if members("tag_env_dev") != {"fleet-004", "fleet-005"}:
    problems.append(f"tag_env_dev holds {sorted(members('tag_env_dev'))}")
services = members("service_hs_crypto") | members("service_key_protect")
if services != set(hostvars) or members("service_hs_crypto") & members("service_key_protect"):
    problems.append("service_hs_crypto and service_key_protect do not split the hosts")
regions = members("region_us_south") | members("region_eu_de") | members("region_jp_tok")
if regions != set(hostvars):
    problems.append("the region groups do not cover the hosts")
for name in members("region_eu_de"):
    if hostvars[name]["hs_crypto_instance_region"] != "eu-de":
        problems.append(f"{name} in region_eu_de")
for name in members("service_key_protect"):
    if hostvars[name]["hs_crypto_instance_service"] != "key_protect" or hostvars[name]["hs_crypto_instance_kms_endpoints"]["public"] is None:
        problems.append(f"{name} in service_key_protect without Key Protect variables")
if set(data.get("hpcs_instances", {}).get("hosts", [])) != set(hostvars):
    problems.append("not every host is in hpcs_instances")
if problems:
    sys.exit("\n".join(problems))
print(f"inventory checked: {len(hostvars)} hosts, groups by service, region and tag")
