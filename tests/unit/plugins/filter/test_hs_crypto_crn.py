# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hs_crypto_crn and hs_crypto_to_crn filters: parts of a CRN, a CRN from parts, the modules' rules."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ibm.hs_crypto.plugins.filter.hs_crypto_crn import FilterModule, hs_crypto_crn, hs_crypto_to_crn
from ansible_collections.ibm.hs_crypto.plugins.module_utils import _crn, _discovery, _key_spec

ACCOUNT = "b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21"
INSTANCE = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
KEY = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
KEY_CRN = f"crn:v1:bluemix:public:hs-crypto:us-south:a/{ACCOUNT}:{INSTANCE}:key:{KEY}"
INSTANCE_CRN = f"crn:v1:bluemix:public:kms:eu-de:a/{ACCOUNT}:{INSTANCE}::"


def test_the_filters_are_registered():
    assert FilterModule().filters() == {"hs_crypto_crn": hs_crypto_crn, "hs_crypto_to_crn": hs_crypto_to_crn}


def test_a_key_crn_gives_every_part():
    assert hs_crypto_crn(f"  {KEY_CRN}\n") == {
        "crn": KEY_CRN, "version": "v1", "cname": "bluemix", "ctype": "public", "service_name": "hs-crypto", "region": "us-south",
        "scope": f"a/{ACCOUNT}", "account_id": ACCOUNT, "service_instance": INSTANCE, "instance_id": INSTANCE,
        "resource_type": "key", "resource": KEY}


def test_an_instance_crn_has_no_resource_and_its_guid_is_lower_cased():
    parts = hs_crypto_crn(INSTANCE_CRN.replace(INSTANCE, INSTANCE.upper()))
    assert (parts["service_name"], parts["region"], parts["resource_type"], parts["resource"]) == ("kms", "eu-de", "", "")
    assert parts["instance_id"] == INSTANCE
    assert parts["service_instance"] == INSTANCE.upper()


def test_a_crn_of_another_service_is_parsed_with_the_general_rules():
    crn = f"crn:v1:bluemix:public:cloud-object-storage:global:a/{ACCOUNT}:my-cos-instance:bucket:payments"
    parts = hs_crypto_crn(crn)
    assert (parts["service_name"], parts["instance_id"], parts["resource_type"], parts["resource"]) == \
        ("cloud-object-storage", "my-cos-instance", "bucket", "payments")


@pytest.mark.parametrize("crn, message", [
    (42, "hs_crypto_crn must be a CRN string (got int)"),
    ("payments-root", "expected 10 segments"),
    (f"crn:v1:bluemix:public:hs-crypto:us-south:a/{ACCOUNT}:{INSTANCE}", "expected 10 segments"),
    (KEY_CRN.replace(":v1:", ":v2:"), "only CRN version v1 exists"),
    (KEY_CRN.replace("bluemix", ""), "the cname segment(s)"),
    (KEY_CRN.replace(f"a/{ACCOUNT}", f"x/{ACCOUNT}"), "scope segment"),
    (KEY_CRN.replace(INSTANCE, "not-a-guid"), "service instance of a hs-crypto CRN must be the instance GUID"),
    (KEY_CRN.replace(KEY, "payments-root"), "a key CRN must end in ':key:<key UUID>'"),
    (KEY_CRN.replace("us-south", "us south"), "contain blanks"),
    (KEY_CRN.replace(f":key:{KEY}", ":key:"), "names a resource type (key) without a resource"),
])
def test_a_bad_crn_fails_naming_the_filter_and_the_rule(crn, message):
    with pytest.raises(AnsibleFilterError) as caught:
        hs_crypto_crn(crn)
    assert str(caught.value).startswith("hs_crypto_crn")
    assert message in str(caught.value)


def test_parsing_then_building_gives_the_same_crn():
    assert hs_crypto_to_crn(hs_crypto_crn(KEY_CRN)) == KEY_CRN
    assert hs_crypto_to_crn(hs_crypto_crn(INSTANCE_CRN)) == INSTANCE_CRN


def test_a_key_crn_from_its_instance_crn_and_id():
    parts = dict(hs_crypto_crn(INSTANCE_CRN.replace(":kms:eu-de:", ":hs-crypto:us-south:")), resource_type="key", resource=KEY)
    assert hs_crypto_to_crn(parts) == KEY_CRN


def test_building_fills_in_the_defaults_and_accepts_the_account_with_its_prefix():
    assert hs_crypto_to_crn({"service_name": "kms", "region": "eu-de", "account_id": f"a/{ACCOUNT}", "instance_id": INSTANCE}) == INSTANCE_CRN


@pytest.mark.parametrize("parts, message", [
    ("crn:v1", "expects a dictionary of CRN parts (got str)"),
    ({"service_name": "kms", "account_id": ACCOUNT, "instance_id": INSTANCE, "instance": "x"}, "unknown part(s) instance"),
    ({"service_name": "kms", "account_id": ACCOUNT}, "instance_id (or service_instance) is required"),
    ({"service_name": "kms", "instance_id": INSTANCE}, "account_id is required"),
    ({"account_id": ACCOUNT, "instance_id": INSTANCE}, "service_name is required"),
    ({"service_name": "kms", "account_id": ACCOUNT, "instance_id": INSTANCE, "region": 5}, "region must be a string (got int)"),
    ({"service_name": "kms", "account_id": ACCOUNT, "instance_id": INSTANCE, "service_instance": KEY}, "instance_id"),
    ({"service_name": "kms", "account_id": ACCOUNT, "instance_id": INSTANCE, "resource_type": "key"}, "needs a resource"),
    ({"service_name": "kms", "account_id": ACCOUNT, "instance_id": "payments"}, "must be the instance GUID"),
    ({"service_name": "kms", "account_id": ACCOUNT, "instance_id": INSTANCE, "resource_type": "key", "resource": "x"},
     "a key CRN must end in ':key:<key UUID>'"),
])
def test_bad_parts_fail_naming_the_filter_and_the_rule(parts, message):
    with pytest.raises(AnsibleFilterError) as caught:
        hs_crypto_to_crn(parts)
    assert str(caught.value).startswith("hs_crypto_to_crn")
    assert message in str(caught.value)


def test_the_modules_read_crns_with_the_same_code():
    # One implementation: the modules' instance_id and key_id parsing is the one in _crn, not a copy.
    assert _discovery.parse_instance_id is _crn.parse_instance_id
    assert _key_spec.parse_key_id is _crn.parse_key_id
    assert _key_spec.key_crn_instance is _crn.key_crn_instance
    parts = hs_crypto_crn(KEY_CRN)
    assert _crn.parse_key_id(KEY_CRN) == parts["resource"]
    assert _crn.key_crn_instance(KEY_CRN) == parts["instance_id"]
    instance = _crn.parse_instance_id(INSTANCE_CRN)
    assert (instance.guid, instance.region, instance.service) == (INSTANCE, "eu-de", "kms")
