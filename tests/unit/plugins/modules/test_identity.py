# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 11, identity: a key CRN of another instance, or an instance_id that is not an instance CRN, is refused before
any request (it used to be reduced to its UUID silently, so absent reported ok while the key lived on elsewhere)."""

import importlib

import pytest

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
