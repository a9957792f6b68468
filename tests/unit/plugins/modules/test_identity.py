# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 11, identity: a key CRN of another instance, or an instance_id that is not an instance CRN, is refused before
any request (it used to be reduced to its UUID silently, so absent reported ok while the key lived on elsewhere)."""

import importlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.ibm.hs_crypto.plugins.module_utils._discovery import parse_instance_id
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError

INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"

INSTANCE_B = "3f9e8d7c-6b5a-4d3c-8b2a-1f0e9d8c7b6a"
KEY_UUID = "02fd6835-6001-4482-a892-13bd2085f75d"


def key_crn(instance, service="hs-crypto"):
    return f"crn:v1:bluemix:public:{service}:us-south:a/acct:{instance}:key:{KEY_UUID}"


# Every module that takes key_id, with the arguments it needs besides it.
KEY_ID_MODULES = [
    ("hs_crypto_key", {"state": "absent"}),
    ("hs_crypto_key", {}),
    ("hs_crypto_key_info", {}),
    ("hs_crypto_key_rotate", {}),
    ("hs_crypto_key_wrap", {}),
    ("hs_crypto_key_registrations_info", {}),
]


@pytest.mark.parametrize("module_name, extra", KEY_ID_MODULES)
def test_key_crn_of_another_instance_is_refused_before_any_request(run_module, hsc, module_name, extra):
    main = importlib.import_module(f"ansible_collections.ibm.hs_crypto.plugins.modules.{module_name}").main
    args = hsc.args(key_id=key_crn(INSTANCE_B), **extra)
    mark = hsc.mark()
    failed, result = run_module(main, args)
    assert failed
    assert INSTANCE_B in result["msg"] and INSTANCE_A in result["msg"] and "key_id" in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_batch_entry_key_crn_of_another_instance_is_refused(run_module, hsc):
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key_batch
    args = hsc.args(crypto_keys=[{"name": "ok-key"}, {"key_id": key_crn(INSTANCE_B), "state": "absent"}])
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key_batch.main, args)
    assert failed and "crypto_keys[1].key_id" in result["msg"] and INSTANCE_B in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_key_crn_of_the_same_instance_is_accepted(run_module, hsc):
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key_info
    failed, result = run_module(hs_crypto_key_info.main, hsc.args(key_id=key_crn(INSTANCE_A)))
    assert not failed, result["msg"]
    assert result["crypto_keys"] == []


@pytest.mark.parametrize("value", [key_crn(INSTANCE_A), key_crn(INSTANCE_A, "kms"),
                                   f"crn:v1:bluemix:public:hs-crypto:us-south:a/acct:{INSTANCE_A}:key-ring:ring-1"])
def test_instance_id_must_be_an_instance_crn(value):
    with pytest.raises(ConfigurationError) as err:
        parse_instance_id(value)
    assert "instance_id" in str(err.value) and "not an instance" in str(err.value)


def test_instance_crn_is_accepted():
    ref = parse_instance_id(f"crn:v1:bluemix:public:kms:us-south:a/acct:{INSTANCE_A}::")
    assert (ref.guid, ref.region, ref.service) == (INSTANCE_A, "us-south", "kms")


# -- aliases, adoption, names, concurrent twins ------------------------------------------------------------------

KEY_MEDIA = "application/vnd.ibm.kms.key+json"


def key_main():
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key
    return hs_crypto_key.main


def writes(hsc, mark):
    return [e for e in hsc.requests_since(mark) if e["method"] != "GET"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_aliases_held_by_different_keys_fail_before_any_write(run_module, hsc, check_mode):
    first = hsc.make_key(name="first", aliases=["alias-a"])
    second = hsc.make_key(name="second", aliases=["alias-b"])
    args = hsc.args(name="first", aliases=["alias-a", "alias-b"])
    mark = hsc.mark()
    failed, result = run_module(key_main(), args, check_mode=check_mode)
    assert failed
    assert f"alias-a belongs to key {first['id']}" in result["msg"] and f"alias-b belongs to key {second['id']}" in result["msg"]
    assert writes(hsc, mark) == []


def test_adoption_by_name_is_said(run_module, hsc):
    existing = hsc.make_key(name="legacy-root")
    failed, result = run_module(key_main(), hsc.args(name="legacy-root", aliases=["legacy-root-alias"]))
    assert not failed, result["msg"]
    assert result["adopted"] is True and result["key"]["id"] == existing["id"]
    assert result["actions"] == ["add_alias:legacy-root-alias"]
    warnings = json.dumps(result["warnings"])  # strings before ansible-core 2.19, records since
    assert "adopted" in warnings and existing["id"] in warnings
    # the next run finds it by the alias: nothing adopted any more
    failed, again = run_module(key_main(), hsc.args(name="legacy-root", aliases=["legacy-root-alias"]))
    assert not failed and again["adopted"] is False and not again["changed"]


def created_once_found_exactly(run_module, hsc, name):
    """Create a key named ``name``, run again (unchanged), and read it by name (exactly one)."""
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key_info
    failed, created = run_module(key_main(), hsc.args(name=name))
    assert not failed and created["changed"], created.get("msg")
    failed, again = run_module(key_main(), hsc.args(name=name))
    assert not failed and not again["changed"] and again["key"]["id"] == created["key"]["id"]
    failed, info = run_module(hs_crypto_key_info.main, hsc.args(name=name))
    assert not failed and [k["id"] for k in info["crypto_keys"]] == [created["key"]["id"]]


@pytest.mark.parametrize("name", ["ends-with-comma,", "a,b", ",leading", "  padded  ", "two,,", ",,", "x,", "not:this", "exact:name:y"])
def test_names_the_search_cannot_express_are_found_exactly(run_module, hsc, name):
    decoy = name.replace(",", "").strip()  # a key whose name the service's search would confuse with it
    hsc.make_key(name=decoy + "-decoy" if decoy == name or len(decoy) < 2 else decoy)
    created_once_found_exactly(run_module, hsc, name)


def test_younger_twin_under_dual_authorization_is_set_for_deletion(run_module, hsc):
    """Concurrent name-only creates while the instance's dual authorization policy is on: the run that made the younger
    twin cannot delete it alone; it must not fail, must converge on the oldest key, and approve its twin's deletion."""
    from hpcs_emulator.testing import BOB_API_KEY
    policy = {"metadata": {"collectionType": "application/vnd.ibm.kms.policy+json", "collectionTotal": 1},
              "resources": [{"policy_type": "dualAuthDelete", "policy_data": {"enabled": True}}]}
    assert hsc.kms("PUT", "instance/policies", params={"policy": "dualAuthDelete"}, json=policy).status_code in (200, 204)
    oldest = hsc.make_key(name="racy-dual")
    hsc.control("POST", "clock", json={"advance": 5})
    empty = {"metadata": {"collectionType": KEY_MEDIA, "collectionTotal": 0}, "resources": []}
    # the lookup does not see the older twin yet, as when a concurrent run creates it meanwhile
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "GET", "path": "^/api/v2/keys$", "status": 200,
                                                   "body": empty, "times": 1}]})
    failed, result = run_module(key_main(), hsc.args(name="racy-dual"))
    assert not failed, result.get("msg")
    assert result["changed"] and result["key"]["id"] == oldest["id"]
    own = result["actions"][1].split(":", 1)[1]
    assert result["actions"][:3] == ["create", f"approve_deletion_of_concurrent_twin:{own}", f"adopt:{oldest['id']}"]
    assert "another identity must delete it" in result["msg"] and own in result["msg"]
    twin = hsc.kms("GET", f"keys/{own}").json()["resources"][0]
    assert twin["dualAuthDelete"]["keySetForDeletion"] is True and twin["state"] == 1
    # later runs, by this identity or another, converge on the oldest key too (the approved twin is no candidate)
    for identity in (None, BOB_API_KEY):
        args = hsc.args(name="racy-dual") if identity is None else hsc.args(identity=identity, name="racy-dual")
        failed, later = run_module(key_main(), args)
        assert not failed, later.get("msg")
        assert later["key"]["id"] == oldest["id"] and not later["changed"]
    # the second identity completes the deletion the message asks for
    failed, deleted = run_module(key_main(), hsc.args(identity=BOB_API_KEY, key_id=own, state="absent"))
    assert not failed and deleted["actions"] == ["delete"]


# Names the service allows: 2 to 90 characters, no control characters (the reference states no character set), with
# the characters that are special to the service's search (comma, colon, blanks) drawn often.
NAME_CHARACTERS = st.one_of(st.sampled_from(list(",:  -_.")), st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")))


# Endings the search treats specially come up as often as any other.
NAMES = st.builds(lambda core, end: (core + end)[-90:], st.text(NAME_CHARACTERS, min_size=1, max_size=88),
                  st.sampled_from(["", ",", ",,", " ", ", "])).filter(lambda name: len(name) >= 2)


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(name=NAMES)
def test_property_every_allowed_name_is_found_exactly(run_module, hsc, name):
    """Issue 11 item 4, as a property: create, re-run unchanged, info finds exactly one — for any allowed name."""
    hsc.server.state.reset()
    hsc.forget_tokens()
    created_once_found_exactly(run_module, hsc, name)
