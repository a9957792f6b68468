# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hs_crypto_key_info lookup against the emulator: identity rules, on_missing, token and discovery reuse, bad input."""

import time

import pytest

from ansible.errors import AnsibleError

from ansible_collections.ibm.hs_crypto.plugins.lookup import hs_crypto_key_info as plugin_module
from ansible_collections.ibm.hs_crypto.plugins.plugin_utils import _connection as controller
from ansible_collections.ibm.hs_crypto.tests.unit.plugins.lookup.conftest import option_definitions
from ansible_collections.ibm.hs_crypto.tests.unit.plugins.modules.conftest import ALICE_API_KEY, BOB_API_KEY, INSTANCE_A

OTHER_INSTANCE = "3f9e8d7c-6b5a-4d3c-8b2a-1f0e9d8c7b6a"
PAYLOAD = "c2VjcmV0IHN0YW5kYXJkIGtleSBtYXRlcmlhbCAzMg=="


def connection(hsc, **extra):
    """Discovery through the emulator's broker (no endpoint given), API key only (a token request)."""
    return dict({"instance_id": INSTANCE_A, "api_key": ALICE_API_KEY, "iam_url": hsc.url, "broker_url": hsc.url,
                 "ca_path": hsc.server.ca_path}, **extra)


def by_service(hsc, mark):
    counts = {}
    for entry in hsc.requests_since(mark, service=None):
        counts[entry["service"]] = counts.get(entry["service"], 0) + 1
    return counts


@pytest.fixture
def keys(hsc):
    return {
        "alias": hsc.make_key(name="payments root", aliases=["payments-root"]),
        "id": hsc.make_key(name="orders root"),
        "name": hsc.make_key(name="Billing root key"),
    }


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(plugin_module.display, "warning", lambda message, *args, **kwargs: shown.append(message))
    return shown


def test_three_terms_one_token_one_discovery_then_a_second_lookup_asks_iam_and_the_broker_nothing(hsc, keys, lookup):
    mark = hsc.mark()
    found = lookup(["payments-root", keys["id"]["id"], "Billing root key"], **connection(hsc))
    assert [k["id"] for k in found] == [keys["alias"]["id"], keys["id"]["id"], keys["name"]["id"]]
    first = by_service(hsc, mark)
    assert (first.get("iam"), first.get("broker")) == (1, 1)

    mark = hsc.mark()
    again = lookup(["payments-root"], **connection(hsc))
    assert again[0]["crn"] == found[0]["crn"]
    second = by_service(hsc, mark)
    assert "iam" not in second and "broker" not in second
    assert second == {"kms": 1}


def test_the_result_is_the_modules_metadata_and_never_key_material(hsc, lookup):
    standard = hsc.make_key(name="app secret", aliases=["app-secret"], extractable=True, payload=PAYLOAD)
    [found] = lookup(["app-secret"], **connection(hsc))
    assert found["id"] == standard["id"] and found["crn"] == standard["crn"]
    assert (found["type"], found["extractable"], found["state"], found["aliases"], found["key_ring"]) == \
        ("standard", True, "active", ["app-secret"], "default")
    assert found["name"] == "app secret" and found["creation_date"]
    assert "payload" not in found and PAYLOAD not in repr(found)


def test_a_token_near_its_expiry_is_renewed(hsc, keys, lookup):
    lookup(["payments-root"], **connection(hsc))
    sessions = list(controller._SESSIONS.values())  # pylint: disable=protected-access
    assert len(sessions) == 1
    session = sessions[0]
    session.tokens._clock = lambda: time.time() + 7 * 24 * 3600  # pylint: disable=protected-access
    mark = hsc.mark()
    lookup(["payments-root"], **connection(hsc))
    assert by_service(hsc, mark).get("iam") == 1


def test_another_credential_gets_its_own_token_and_no_secret_is_a_cache_key(hsc, keys, lookup):
    lookup(["payments-root"], **connection(hsc))
    mark = hsc.mark()
    lookup(["payments-root"], **connection(hsc, api_key=BOB_API_KEY))
    assert by_service(hsc, mark).get("iam") == 1
    cached = repr(list(controller._SESSIONS)) + repr(list(controller._ENDPOINTS))  # pylint: disable=protected-access
    assert ALICE_API_KEY not in cached and BOB_API_KEY not in cached and len(controller._SESSIONS) == 2  # pylint: disable=protected-access


def test_a_name_several_live_keys_have_is_an_error_listing_their_ids(hsc, lookup):
    twins = [hsc.make_key(name="twin root"), hsc.make_key(name="twin root")]
    with pytest.raises(AnsibleError) as caught:
        lookup(["twin root"], **connection(hsc))
    message = str(caught.value)
    assert "2 keys are named 'twin root'" in message
    assert all(k["id"] in message for k in twins)
    assert "id, CRN or an alias" in message


def test_an_alias_wins_over_a_name_and_a_name_is_found_when_no_alias_matches(hsc, lookup):
    held = hsc.make_key(name="some key", aliases=["shared-word"])
    named = hsc.make_key(name="shared-word")
    assert lookup(["shared-word"], **connection(hsc))[0]["id"] == held["id"]
    assert lookup(["some key"], **connection(hsc))[0]["id"] == held["id"]
    assert named["id"] != held["id"]


def test_a_key_crn_needs_no_instance_id(hsc, keys, lookup):
    options = connection(hsc)
    del options["instance_id"]
    [found] = lookup([keys["alias"]["crn"]], **options)
    assert found["id"] == keys["alias"]["id"]


@pytest.mark.parametrize("on_missing", ["error", "warn", "skip"])
def test_on_missing(hsc, keys, lookup, warnings, on_missing):
    terms = ["payments-root", "no-such-key"]
    if on_missing == "error":
        with pytest.raises(AnsibleError) as caught:
            lookup(terms, on_missing=on_missing, **connection(hsc))
        assert "no key with alias or name 'no-such-key' in instance" in str(caught.value)
        return
    found = lookup(terms, on_missing=on_missing, **connection(hsc))
    assert [k["id"] for k in found] == [keys["alias"]["id"]]
    assert len(warnings) == (1 if on_missing == "warn" else 0)
    if warnings:
        assert "no-such-key" in warnings[0]


def test_variables_act_like_module_defaults_and_arguments_win(hsc, keys, lookup):
    variables = {"hs_crypto_instance_id": OTHER_INSTANCE, "hs_crypto_api_key": ALICE_API_KEY, "hs_crypto_iam_url": hsc.url,
                 "hs_crypto_broker_url": hsc.url, "hs_crypto_ca_path": hsc.server.ca_path}
    found = lookup(["payments-root"], variables=dict(variables, hs_crypto_instance_id=INSTANCE_A))
    assert found[0]["id"] == keys["alias"]["id"]
    found = lookup(["payments-root"], variables=variables, instance_id=INSTANCE_A)
    assert found[0]["id"] == keys["alias"]["id"]


def test_variables_written_as_templates_are_templated(hsc, keys, lookup):
    # Ansible hands a lookup its variables as written; a playbook's hs_crypto_iam_url: "{{ emulator }}" must work.
    try:
        from ansible.template import trust_as_template  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19 templates any string
        def trust_as_template(value):
            return value
    variables = {"emulator": hsc.url, "hs_crypto_instance_id": INSTANCE_A, "hs_crypto_api_key": ALICE_API_KEY,
                 "hs_crypto_iam_url": trust_as_template("{{ emulator }}"), "hs_crypto_broker_url": trust_as_template("{{ emulator }}"),
                 "hs_crypto_ca_path": hsc.server.ca_path}
    assert lookup(["payments-root"], variables=variables)[0]["id"] == keys["alias"]["id"]


def test_the_environment_as_for_the_modules(hsc, keys, lookup, monkeypatch):
    monkeypatch.setenv("HS_CRYPTO_INSTANCE_ID", INSTANCE_A)
    monkeypatch.setenv("IBMCLOUD_API_KEY", ALICE_API_KEY)
    monkeypatch.setenv("IC_API_KEY", "not-the-key-the-modules-would-use")  # IBMCLOUD_API_KEY wins, as for the modules
    monkeypatch.setenv("HS_CRYPTO_IAM_URL", hsc.url)
    monkeypatch.setenv("HS_CRYPTO_BROKER_URL", hsc.url)
    monkeypatch.setenv("HS_CRYPTO_CA_PATH", hsc.server.ca_path)
    assert lookup(["payments-root"])[0]["id"] == keys["alias"]["id"]


@pytest.mark.parametrize("terms, options, message", [
    ([""], {}, "_terms[0] must be a key alias, id, CRN or name"),
    (["x"], {}, "_terms[0] must be 2 to 90 characters long"),
    ([f"crn:v1:bluemix:public:hs-crypto:us-south:a/acc:{INSTANCE_A}::"], {}, "_terms[0]: a key CRN must end in ':key:<key UUID>'"),
    ([f"crn:v1:bluemix:public:hs-crypto:us-south:a/acc:{OTHER_INSTANCE}:key:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"], {},
     "_terms[0] is the CRN of a key of instance " + OTHER_INSTANCE),
    (["payments-root"], {"on_missing": "maybe"}, "on_missing"),
    (["payments-root"], {"timeout": 0}, "timeout must be greater than 0"),
    (["payments-root"], {"retries": 11}, "retries must be between 0 and 10"),
    (["payments-root"], {"endpoint": "http://kms.example.test"}, "endpoint must use https://"),
    (["payments-root"], {"region": "xx-nowhere"}, "region 'xx-nowhere' is not a known IBM Cloud region"),
    (["payments-root"], {"instance_id": None}, "instance_id is required"),
    (["payments-root"], {"instance_id": "not-an-instance"}, "instance_id must be an instance GUID"),
    (["payments-root"], {"api_key": None}, "api_key or iam_token"),
])
def test_bad_input_fails_naming_the_option_before_any_request(hsc, lookup, terms, options, message):
    mark = hsc.mark()
    with pytest.raises(AnsibleError) as caught:
        lookup(terms, **dict(connection(hsc), **options))
    assert message in str(caught.value)
    assert hsc.requests_since(mark, service=None) == []
    assert ALICE_API_KEY not in str(caught.value)


def test_a_refused_api_key_is_never_shown(hsc, lookup):
    secret = "hsc-emulator-not-a-known-api-key-9999"
    with pytest.raises(AnsibleError) as caught:
        lookup(["payments-root"], **connection(hsc, api_key=secret))
    assert "IAM refused" in str(caught.value)
    assert secret not in str(caught.value)


def test_there_is_no_option_for_key_material():
    options = option_definitions()
    assert "api_key" in options and "on_missing" in options  # the fragment's options and the lookup's own
    assert not [name for name in options if "payload" in name or "material" in name]


def test_a_forked_worker_keeps_the_parents_token_but_not_its_connections(hsc, keys, lookup, monkeypatch):
    lookup(["payments-root"], **connection(hsc))
    [parent] = list(controller._SESSIONS.values())  # pylint: disable=protected-access,unbalanced-dict-unpacking
    monkeypatch.setattr(controller.os, "getpid", lambda: parent.pid + 1)  # as in a worker Ansible forked
    mark = hsc.mark()
    lookup(["payments-root"], **connection(hsc))
    assert "iam" not in by_service(hsc, mark)
    [child] = list(controller._SESSIONS.values())  # pylint: disable=protected-access,unbalanced-dict-unpacking
    assert child.transport is not parent.transport and child.transport.session is not parent.transport.session
    assert child.token == parent.token


def test_a_key_protect_key_crn_finds_its_instance_through_the_resource_controller(hsc, lookup):
    kp_standard = "5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d"
    media = "application/vnd.ibm.kms.key+json"
    body = {"metadata": {"collectionType": media, "collectionTotal": 1},
            "resources": [{"type": media, "name": "kp root", "aliases": ["kp-root"], "extractable": False}]}
    response = hsc.kms("POST", "keys", json=body, headers={"Bluemix-Instance": kp_standard})
    assert response.status_code == 201, response.text
    created = response.json()["resources"][0]
    assert ":kms:" in created["crn"]
    options = connection(hsc, resource_controller_url=hsc.url)
    del options["instance_id"], options["broker_url"]
    mark = hsc.mark()
    [found] = lookup([created["crn"]], **options)
    assert found["id"] == created["id"] and found["aliases"] == ["kp-root"]
    assert by_service(hsc, mark) == {"iam": 1, "rc": 1, "kms": 1}


@pytest.mark.parametrize("option, message", [
    ("on_mising", "unknown option(s) on_mising; the options are "),
    ("payload", "The lookup never returns key material"),
])
def test_an_unknown_option_fails_before_any_request(hsc, lookup, option, message):
    mark = hsc.mark()
    with pytest.raises(AnsibleError) as caught:
        lookup(["payments-root"], **dict(connection(hsc), **{option: True}))
    assert message in str(caught.value) and "on_missing" in str(caught.value)
    assert hsc.requests_since(mark, service=None) == []
