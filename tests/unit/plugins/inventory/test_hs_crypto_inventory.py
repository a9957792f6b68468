# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin ibm.hs_crypto.hs_crypto against the emulator's Resource Controller and Global Tagging: every page,
the filters, host names with collisions, host variables, groups, the cache (a hit sends nothing), bad options (refused
before any request, naming the option), secrets kept out of errors and of the cache."""

import json
import uuid

import pytest

from ansible.errors import AnsibleError

from ansible_collections.ibm.hs_crypto.plugins.inventory.hs_crypto import hostnames, sanitize_hostname

from hpcs_emulator import resource_controller, tagging
from hpcs_emulator.testing import ALICE_API_KEY, INSTANCE_A, KP_DEDICATED, KP_STANDARD, KP_XR

FLEET_ACCOUNT = "f1ee7f1ee7f1ee7f1ee7f1ee7f1ee7aa"
FLEET_API_KEY = "hsc-emulator-fleet-api-key-0100"
OTHER_GROUP = "0123456789abcdef0123456789abcdef"
FLEET_SIZE = 230  # three pages of 100


def _guid(n):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hs-crypto-inventory-test:{n}"))


FLEET = {}
for _n in range(FLEET_SIZE):
    FLEET[_guid(_n)] = {"name": f"fleet-{_n:03d}", "region": ("us-south", "eu-de", "jp-tok")[_n % 3],
                        "service": "kms" if _n % 2 else "hs-crypto", "account_id": FLEET_ACCOUNT}
FLEET[_guid(1000)] = {"name": "pay ments", "region": "us-south", "account_id": FLEET_ACCOUNT}
FLEET[_guid(1001)] = {"name": "pay/ments", "region": "eu-de", "account_id": FLEET_ACCOUNT, "resource_group_id": OTHER_GROUP}
FLEET[_guid(1002)] = {"name": "vault-dedicated", "region": "us-east", "service": "kms", "plan": "dedicated", "account_id": FLEET_ACCOUNT}


@pytest.fixture
def fleet(emu, monkeypatch):
    """An account of its own with 233 instances (the default account's listings do not change)."""
    identity = {"iam_id": "iam-ServiceId-fleet", "account_id": FLEET_ACCOUNT, "instances": list(FLEET)}
    emu.state.config.update({"instances": FLEET, "api_keys": {FLEET_API_KEY: identity}})
    monkeypatch.setenv("IBMCLOUD_API_KEY", FLEET_API_KEY)
    for name in ("IC_API_KEY", "IBMCLOUD_IAM_TOKEN", "IC_IAM_TOKEN", "HS_CRYPTO_IAM_URL", "IBMCLOUD_IAM_API_ENDPOINT",
                 "HS_CRYPTO_RESOURCE_CONTROLLER_URL", "IBMCLOUD_RESOURCE_CONTROLLER_API_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    return emu


def _config(emu, **options):
    lines = ["plugin: ibm.hs_crypto.hs_crypto", f"iam_url: {emu.http_url}", f"resource_controller_url: {emu.http_url}",
             f"tagging_url: {emu.http_url}"]
    lines += [f"{name}: {json.dumps(value)}" for name, value in options.items()]
    return "\n".join(lines) + "\n"


def _requests(emu):
    return [(entry["method"], entry["path"]) for entry in emu.state.requests.entries()]


def _by_id(inventory):
    return dict((host.vars["hs_crypto_instance_id"], host) for host in inventory.hosts.values())


def test_every_page_one_token(fleet, load_inventory):
    inventory = load_inventory(_config(fleet))
    assert len(inventory.hosts) == FLEET_SIZE + 3
    assert _requests(fleet) == [("POST", "/identity/token")] + [("GET", "/v2/resource_instances")] * 3
    queries = [entry["query"] for entry in fleet.state.requests.entries()[1:]]
    assert queries[0] == "type=service_instance&state=active&limit=100" and all("start=" in query for query in queries[1:])
    assert set(inventory.groups["hpcs_instances"].hosts) == set(inventory.hosts.values())


def test_host_variables_are_the_role_input(emu, load_inventory, monkeypatch):
    monkeypatch.setenv("IBMCLOUD_API_KEY", ALICE_API_KEY)
    hosts = _by_id(load_inventory(_config(emu)))
    assert sorted(host.name for host in hosts.values()) == ["A", "B", "kp-dedicated", "kp-dedicated-new", "kp-standard", "kp-xr"]
    a = hosts[INSTANCE_A].vars
    assert a["hs_crypto_instance_id"] == INSTANCE_A and a["hs_crypto_instance_region"] == "us-south"
    assert a["hs_crypto_instance_service"] == "hs_crypto" and a["ansible_connection"] == "local"
    assert a["hs_crypto_instance_crn"] == emu.state.config.instance_crn(INSTANCE_A)
    assert a["hs_crypto_instance_state"] == "active" and a["hs_crypto_instance_resource_group_id"]
    assert set(a["hs_crypto_instance_kms_endpoints"]) == {"public", "private"}
    assert "hs_crypto_instance_endpoint" not in a and "hs_crypto_instance_tags" not in a
    assert hosts[KP_STANDARD].vars["hs_crypto_instance_plan"] == "tiered-pricing"
    assert hosts[KP_STANDARD].vars["hs_crypto_instance_service"] == "key_protect"
    assert hosts[KP_DEDICATED].vars["hs_crypto_instance_plan"] == "dedicated"
    assert hosts[KP_XR].vars["hs_crypto_instance_plan"] == hosts[KP_XR].vars["hs_crypto_instance_plan_id"]


def test_host_variables_agree_with_endpoint_info(emu, load_inventory, monkeypatch):
    """The endpoints are read as the modules read a Resource Controller record (InstanceRecord)."""
    from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import Connection
    monkeypatch.setenv("IBMCLOUD_API_KEY", ALICE_API_KEY)
    hosts = _by_id(load_inventory(_config(emu, endpoint_type="private")))
    for guid in (KP_STANDARD, KP_DEDICATED):
        connection = Connection({"api_key": ALICE_API_KEY, "iam_url": emu.http_url, "resource_controller_url": emu.http_url,
                                 "instance_id": guid, "service": "key_protect", "endpoint_type": "private"})
        assert hosts[guid].vars["hs_crypto_instance_kms_endpoints"] == connection.endpoints()["kms"]
        assert hosts[guid].vars["hs_crypto_instance_endpoint"] == connection.kms_url()
        assert hosts[guid].vars["hs_crypto_instance_endpoint_type"] == "private"
        assert hosts[guid].vars["hs_crypto_instance_plan"] == (connection.plan or hosts[guid].vars["hs_crypto_instance_plan_id"])


@pytest.mark.parametrize("options, expected", [
    ({"services": ["kp"]}, lambda v: v["hs_crypto_instance_service"] == "key_protect"),
    ({"services": ["HPCS"]}, lambda v: v["hs_crypto_instance_service"] == "hs_crypto"),
    ({"regions": ["eu-de", "us-east"]}, lambda v: v["hs_crypto_instance_region"] in ("eu-de", "us-east")),
    ({"plans": ["dedicated"]}, lambda v: v["hs_crypto_instance_plan"] == "dedicated"),
    ({"resource_groups": [OTHER_GROUP]}, lambda v: v["hs_crypto_instance_resource_group_id"] == OTHER_GROUP),
])
def test_filters(fleet, load_inventory, options, expected):
    every = _by_id(load_inventory(_config(fleet), name="all.hs_crypto.yml"))
    fleet.state.requests.clear()
    chosen = _by_id(load_inventory(_config(fleet, **options)))
    assert chosen and len(chosen) < len(every)
    assert set(chosen) == set(guid for guid, host in every.items() if expected(host.vars))
    if "resource_groups" in options:
        assert all(f"resource_group_id={OTHER_GROUP}" in entry["query"] for entry in fleet.state.requests.entries()[1:])


def test_instance_name_patterns(fleet, load_inventory):
    names = sorted(host.vars["hs_crypto_instance_name"] for host in load_inventory(_config(fleet, instance_names=["fleet-1?0", "pay*"])).hosts.values())
    assert names == ["fleet-100", "fleet-110", "fleet-120", "fleet-130", "fleet-140", "fleet-150", "fleet-160", "fleet-170",
                     "fleet-180", "fleet-190", "pay ments", "pay/ments"]


def test_one_listing_per_state(fleet, load_inventory):
    inventory = load_inventory(_config(fleet, states=["inactive", "removed"]))
    assert not inventory.hosts
    queries = sorted(entry["query"] for entry in fleet.state.requests.entries() if entry["path"] == "/v2/resource_instances")
    assert queries == ["type=service_instance&state=inactive&limit=100", "type=service_instance&state=removed&limit=100"]


def test_states_choose_the_instances(fleet, load_inventory):
    reclaimed, provisioning = _guid(3), _guid(4)
    resource_controller.set_instance_state(fleet.state, reclaimed, "pending_reclamation")
    resource_controller.set_instance_state(fleet.state, provisioning, "provisioning")
    try:
        active = _by_id(load_inventory(_config(fleet)))
        assert reclaimed not in active and provisioning not in active and len(active) == FLEET_SIZE + 1
        chosen = _by_id(load_inventory(_config(fleet, states=["pending_reclamation", "provisioning"])))
        assert sorted(chosen) == sorted([reclaimed, provisioning])
        assert chosen[reclaimed].vars["hs_crypto_instance_state"] == "pending_reclamation"
        assert chosen[provisioning].vars["hs_crypto_instance_state"] == "provisioning"
    finally:
        resource_controller.set_instance_state(fleet.state, reclaimed, "active")
        resource_controller.set_instance_state(fleet.state, provisioning, "active")


def test_colliding_names_both_get_the_guid_prefix(fleet, load_inventory):
    hosts = _by_id(load_inventory(_config(fleet, instance_names=["pay*", "fleet-00?"])))
    assert hosts[_guid(1000)].name == f"pay-ments-{_guid(1000)[:8]}"
    assert hosts[_guid(1001)].name == f"pay-ments-{_guid(1001)[:8]}"
    assert hosts[_guid(1)].name == "fleet-001"


def test_hostnames_rule_is_order_independent():
    items = [{"guid": "aaaaaaaa-0000-4000-8000-000000000001", "name": "x y"},
             {"guid": "bbbbbbbb-0000-4000-8000-000000000002", "name": "x/y"},
             {"guid": "cccccccc-0000-4000-8000-000000000003", "name": "x-y-aaaaaaaa"},
             {"guid": "dddddddd-0000-4000-8000-000000000004", "name": "  "},
             {"guid": "eeeeeeee-0000-4000-8000-000000000005", "name": "solo"}]
    names = hostnames(items)
    assert names == hostnames(list(reversed(items)))
    assert names["bbbbbbbb-0000-4000-8000-000000000002"] == "x-y-bbbbbbbb"
    # x y -> x-y-aaaaaaaa would collide with the instance of that very name: the full GUID instead
    assert names["aaaaaaaa-0000-4000-8000-000000000001"] == "x-y-aaaaaaaa-0000-4000-8000-000000000001"
    assert names["cccccccc-0000-4000-8000-000000000003"] == "x-y-aaaaaaaa"
    assert names["dddddddd-0000-4000-8000-000000000004"] == "dddddddd-0000-4000-8000-000000000004"
    assert names["eeeeeeee-0000-4000-8000-000000000005"] == "solo"
    assert len(set(names.values())) == len(items)
    assert sanitize_hostname("-.a b..c.-", "g") == "a-b..c"


def test_tags_become_groups(fleet, load_inventory):
    tagging.set_tags(fleet.state, fleet.state.config.instance_crn(_guid(1)), ["env:prod", "team:pay"])
    tagging.set_tags(fleet.state, fleet.state.config.instance_crn(_guid(2)), ["env:dev"])
    config = _config(fleet, read_tags=True, instance_names=["fleet-00?"],
                     keyed_groups=[{"key": "hs_crypto_instance_service", "prefix": "service"},
                                   {"key": "hs_crypto_instance_region", "prefix": "region"},
                                   {"key": "hs_crypto_instance_tags", "prefix": "tag"}],
                     groups={"dedicated": "hs_crypto_instance_plan == 'dedicated'"},
                     compose={"owner": "hs_crypto_instance_name | upper"})
    inventory = load_inventory(config)
    assert len(inventory.hosts) == 10
    tag_requests = [entry for entry in fleet.state.requests.entries() if entry["path"] == "/v3/tags"]
    assert len(tag_requests) == 10 and all("providers=ghost" in entry["query"] for entry in tag_requests)
    assert [host.name for host in inventory.groups["tag_env_prod"].hosts] == ["fleet-001"]
    assert [host.name for host in inventory.groups["tag_env_dev"].hosts] == ["fleet-002"]
    assert len(inventory.groups["service_key_protect"].hosts) == 5 and len(inventory.groups["service_hs_crypto"].hosts) == 5
    assert {host.name for host in inventory.groups["region_eu_de"].hosts} == {"fleet-001", "fleet-004", "fleet-007"}
    assert inventory.hosts["fleet-001"].vars["owner"] == "FLEET-001"
    assert inventory.hosts["fleet-001"].vars["hs_crypto_instance_tags"] == ["env:prod", "team:pay"]
    assert "dedicated" not in inventory.groups or not inventory.groups["dedicated"].hosts


def test_strict_fails_on_an_undefined_variable(fleet, load_inventory):
    with pytest.raises(AnsibleError, match="nonexistent"):
        load_inventory(_config(fleet, strict=True, instance_names=["fleet-001"], compose={"x": "nonexistent.attr"}))
    inventory = load_inventory(_config(fleet, strict=False, instance_names=["fleet-001"], compose={"x": "nonexistent.attr"}))
    assert "x" not in inventory.hosts["fleet-001"].vars


def test_cache_hit_sends_no_request_and_holds_no_secret(fleet, load_inventory, tmp_path):
    cache_dir = tmp_path / "cache"
    config = _config(fleet, read_tags=True, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir),
                     cache_timeout=3600)
    cold = load_inventory(config)
    cold_requests = len(fleet.state.requests.entries())
    assert cold_requests == 1 + 3 + (FLEET_SIZE + 3)  # token, 3 pages, one tag read per instance
    fleet.state.requests.clear()
    warm = load_inventory(config)
    assert fleet.state.requests.entries() == []
    assert {name: host.vars for name, host in warm.hosts.items()} == {name: host.vars for name, host in cold.hosts.items()}
    files = list(cache_dir.iterdir())
    assert files
    text = "".join(path.read_text(encoding="utf-8") for path in files)
    tokens = [token for token in fleet.state.tokens.__dict__.values() if isinstance(token, str)]
    assert FLEET_API_KEY not in text and "Bearer" not in text and "access_token" not in text and "eyJ" not in text
    assert not any(token in text for token in tokens if len(token) > 20)
    # --flush-cache (cache=False from ansible-inventory) lists again (the process's token is reused) and refreshes the cache
    load_inventory(config, cache=False)
    assert [path for _method, path in _requests(fleet) if path != "/v3/tags"] == ["/v2/resource_instances"] * 3
    assert len(fleet.state.requests.entries()) == cold_requests - 1


def test_cache_key_has_no_credentials(fleet, load_inventory, tmp_path, monkeypatch):
    """Another credential for the same file and options hits the same cache entry (the key is made of the options)."""
    cache_dir = tmp_path / "cache"
    config = _config(fleet, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir))
    load_inventory(config)
    monkeypatch.setenv("IBMCLOUD_API_KEY", "another-api-key-0000")
    fleet.state.requests.clear()
    assert len(load_inventory(config).hosts) == FLEET_SIZE + 3
    assert fleet.state.requests.entries() == []
    assert not any("another-api-key" in path.name or FLEET_API_KEY in path.name for path in cache_dir.iterdir())


@pytest.mark.parametrize("options, fragment", [
    ({"services": ["hpcs", "vault"]}, "services must name HPCS"),
    ({"regions": ["mars-1"]}, "regions: 'mars-1' is not a known IBM Cloud region"),
    ({"resource_groups": ["Default"]}, "resource_groups: 'Default' is not a resource group id"),
    ({"states": ["gone"]}, "states"),
    ({"states": []}, "states must be a non-empty list"),
    ({"instance_names": [""]}, "instance_names must be a list of non-empty strings"),
    ({"resource_controller_url": "http://rc.example.com"}, "resource_controller_url must use https://"),
    ({"tagging_url": "not a url"}, "tagging_url must be a URL"),
    ({"timeout": 0}, "timeout must be greater than 0"),
    ({"retries": 99}, "retries must be between 0 and 10"),
    ({"endpoint_type": "both"}, "endpoint_type"),
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path"),
])
def test_bad_options_fail_before_any_request(fleet, load_inventory, options, fragment):
    with pytest.raises(AnsibleError) as caught:
        load_inventory(_config(fleet, **options))
    assert fragment in str(caught.value)
    assert fleet.state.requests.entries() == []


def test_no_credentials_fails_before_any_request(fleet, load_inventory, monkeypatch):
    monkeypatch.delenv("IBMCLOUD_API_KEY")
    with pytest.raises(AnsibleError, match="api_key or iam_token is required"):
        load_inventory(_config(fleet))
    assert fleet.state.requests.entries() == []


def test_verify_file_accepts_the_documented_endings(load_inventory, fleet):
    assert load_inventory(_config(fleet), name="prod.hs_crypto.yaml").hosts
    with pytest.raises(ValueError):
        load_inventory(_config(fleet), name="prod.yml")


def test_a_rejected_api_key_is_not_echoed(fleet, load_inventory, monkeypatch):
    monkeypatch.setenv("IBMCLOUD_API_KEY", "hsc-not-a-known-key-0123456789")
    with pytest.raises(AnsibleError) as caught:
        load_inventory(_config(fleet))
    assert "hsc-not-a-known-key-0123456789" not in str(caught.value)


def test_a_next_url_to_another_host_is_not_followed(fleet, load_inventory):
    from ansible_collections.ibm.hs_crypto.plugins.inventory.hs_crypto import InventoryModule
    plugin = InventoryModule()
    assert plugin._next_url("https://rc.example", "/v2/resource_instances?start=x") == "https://rc.example/v2/resource_instances?start=x"
    with pytest.raises(AnsibleError, match="another host"):
        plugin._next_url("https://rc.example", "https://evil.example/v2/resource_instances?start=x")


def test_signs_in_with_a_trusted_profile(emu, load_inventory, tmp_path, monkeypatch):
    """auth_type container: a compute-resource token exchanged for the profile's token, once for the whole listing."""
    from hpcs_emulator.config import load_default_config  # pylint: disable=import-outside-toplevel
    cr_file = tmp_path / "sa-token"
    cr_file.write_text(load_default_config()["compute_resources"][0]["cr_token"] + "\n")
    for name in ("IBMCLOUD_API_KEY", "IC_API_KEY", "CR_TOKEN_FILENAME", "IAM_PROFILE_ID", "IAM_PROFILE_NAME", "IAM_PROFILE_CRN"):
        monkeypatch.delenv(name, raising=False)
    inventory = load_inventory(_config(emu, auth_type="container", cr_token_file=str(cr_file),
                                       iam_profile_id="Profile-9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"))
    assert INSTANCE_A in _by_id(inventory)
    assert _requests(emu) == [("POST", "/identity/token"), ("GET", "/v2/resource_instances")]
    assert emu.state.requests.entries()[0]["grant_type"] == "urn:ibm:params:oauth:grant-type:cr-token"


def test_api_key_from_a_vault_encrypted_value(fleet, load_inventory, monkeypatch, tmp_path):
    """api_key: !vault | ... in the inventory file, decrypted with the run's vault secret; never in the cache."""
    from ansible.parsing.dataloader import DataLoader  # pylint: disable=import-outside-toplevel
    from ansible.parsing.vault import VaultLib, VaultSecret  # pylint: disable=import-outside-toplevel
    monkeypatch.delenv("IBMCLOUD_API_KEY")
    secrets = [("default", VaultSecret(b"inventory-test-vault-password"))]
    encrypted = VaultLib(secrets).encrypt(FLEET_API_KEY).decode()
    loader = DataLoader()
    loader.set_vault_secrets(secrets)
    try:  # ansible-core >= 2.19 decrypts through the process's vault secrets context (ansible-inventory sets it up)
        from ansible.parsing.vault import VaultSecretsContext  # pylint: disable=import-outside-toplevel
        monkeypatch.setattr(VaultSecretsContext, "_current", VaultSecretsContext(secrets))
    except ImportError:
        pass
    cache_dir = tmp_path / "cache"
    text = _config(fleet, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir), instance_names=["fleet-00?"])
    text += "api_key: !vault |\n" + "".join(f"  {line}\n" for line in encrypted.splitlines())
    inventory = load_inventory(text, loader=loader)
    assert len(inventory.hosts) == 10
    assert fleet.state.requests.entries()[0]["path"] == "/identity/token"
    cached = "".join(path.read_text(encoding="utf-8") for path in cache_dir.iterdir())
    assert FLEET_API_KEY not in cached and "ANSIBLE_VAULT" not in cached
