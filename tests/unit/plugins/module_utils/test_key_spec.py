# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import base64

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import KeySpec, parse_key_id, parse_rfc3339

KEY_ID = "02fd6835-6001-4482-a892-13bd2085f75d"


def b64(size):
    return base64.b64encode(b"k" * size).decode()


def spec(**params):
    params.setdefault("name", "payments-root")
    return KeySpec.from_params(params)


def test_minimal_spec_defaults():
    s = spec()
    assert (s.state, s.purge_aliases, s.force, s.type) == ("present", False, False, None)
    assert s.label == "key named 'payments-root'"


def test_normalisations():
    s = spec(key_id=f"crn:v1:bluemix:public:hs-crypto:us-south:a/acct:8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b:key:{KEY_ID.upper()}",
             expiration_date="2027-01-31T23:59:59.5+01:00", rotation={"enabled": None, "interval_month": 3})
    assert s.key_id == KEY_ID
    assert s.expiration_date == "2027-01-31T22:59:59Z"
    assert s.rotation == {"interval_month": 3}


@pytest.mark.parametrize("size,kind", [(16, None), (24, "root"), (32, "root"), (1, "standard"), (7500, "standard")])
def test_good_payload_sizes(size, kind):
    spec(payload=b64(size), type=kind)


def test_secure_import_accepts_rsa_sized_payload():
    spec(payload=b64(512), encrypted_nonce=b64(28), iv=b64(12), encryption_algorithm="RSAES_OAEP_SHA_1")


BAD = [
    (dict(name="x"), "name must be 2 to 90 characters long (got 1)"),
    (dict(name="n" * 91), "name must be 2 to 90 characters long (got 91)"),
    (dict(name="bad\nname"), "name must not contain control characters"),
    (dict(description="d"), "description must be 2 to 240 characters long"),
    (dict(description="d" * 241), "description must be 2 to 240 characters long"),
    (dict(aliases=["a", "ok-alias"]), "aliases: 'a' is not a valid alias"),
    (dict(aliases=["has space"]), "aliases: 'has space' is not a valid alias"),
    (dict(aliases=["ünïcode"]), "is not a valid alias"),
    (dict(aliases=["x" * 91]), "is not a valid alias"),
    (dict(aliases=["keys"]), "'keys' is a reserved word"),
    (dict(aliases=["Versions"]), "'Versions' is a reserved word"),
    (dict(aliases=[KEY_ID]), "looks like a key id (UUID)"),
    (dict(aliases=["a1", "a2", "a3", "a4", "a5", "a6"]), "at most 5 aliases (got 6)"),
    (dict(aliases=["dup", "dup"]), "the same alias is listed twice"),
    (dict(key_ring="default ring"), "key_ring: 'default ring' is not a valid key ring id"),
    (dict(key_ring="r"), "is not a valid key ring id"),
    (dict(key_ring="r" * 101), "is not a valid key ring id"),
    (dict(key_ring="under_score"), "is not a valid key ring id"),
    (dict(rotation={"interval_month": 0}), "rotation.interval_month must be a whole number of months from 1 to 12 (got 0)"),
    (dict(rotation={"interval_month": 13}), "from 1 to 12 (got 13)"),
    (dict(rotation={"interval_month": True}), "from 1 to 12"),
    (dict(rotation={}), "rotation needs enabled or interval_month"),
    (dict(rotation={"every": 3}), "rotation: unknown field(s) every"),
    (dict(rotation={"enabled": True}, type="standard"), "rotation policies apply to root keys only"),
    (dict(payload="not base64!"), "payload must be base64-encoded"),
    (dict(payload="YWJ"), "payload must be base64-encoded"),
    (dict(payload=b64(20)), "a root key must be 16, 24 or 32 bytes (128, 192 or 256 bits) of key material (got 20 bytes)"),
    (dict(payload=b64(7501), type="standard"), "a standard key holds 1 to 7500 bytes of key material (got 7501)"),
    (dict(payload=b64(32), encrypted_nonce=b64(16)), "encrypted_nonce and iv go together"),
    (dict(encrypted_nonce=b64(16), iv=b64(12)), "encrypted_nonce and iv need payload"),
    (dict(payload=b64(32), encrypted_nonce=b64(16), iv=b64(12), type="standard"), "secure import (encrypted_nonce, iv) is for root keys only"),
    (dict(payload=b64(32), encrypted_nonce="%%%", iv=b64(12)), "encrypted_nonce must be base64-encoded"),
    (dict(encryption_algorithm="RSAES_OAEP_SHA_256"), "encryption_algorithm is only used for secure import"),
    (dict(encryption_algorithm="ROT13", payload=b64(32), encrypted_nonce=b64(1), iv=b64(1)), "encryption_algorithm must be one of"),
    (dict(expiration_date="2027-01-31"), "expiration_date must be an RFC 3339 date"),
    (dict(expiration_date="31/01/2027 10:00"), "expiration_date must be an RFC 3339 date"),
    (dict(expiration_date="2027-02-30T00:00:00Z"), "is not a real date, time or time zone offset"),
    (dict(key_id="not-a-uuid"), "key_id must be a key UUID or a key CRN"),
    (dict(key_id="crn:v1:bluemix:public:hs-crypto:us-south:a/x:i:key:nope"), "a key CRN must end in ':key:<key UUID>'"),
    (dict(name=None), "one of key_id, aliases or name is required"),
    (dict(name=None, state="absent"), "state=absent needs key_id, aliases or name"),
    (dict(state="gone"), "state must be one of"),
    (dict(type="private"), "type must be one of root, standard"),
    (dict(cancel_deletion=True, state="absent"), "cancel_deletion is only valid with state=present"),
    (dict(purge_aliases=True), "purge_aliases needs aliases"),
]


@pytest.mark.parametrize("params,message", BAD, ids=[m[:40] for dummy, m in BAD])
def test_bad_input_names_option_and_rule(params, message):
    with pytest.raises(ConfigurationError) as err:
        spec(**params)
    assert message in str(err.value)


def test_prefix_names_the_batch_entry():
    with pytest.raises(ConfigurationError, match=r"^keys\[3\]\.name must be 2 to 90"):
        KeySpec.from_params({"name": "x"}, prefix="keys[3].")


def test_payload_is_never_in_a_message():
    secret = base64.b64encode(b"s" * 20).decode()
    with pytest.raises(ConfigurationError) as err:
        spec(payload=secret)
    assert secret not in str(err.value)


def test_rfc3339_parsing():
    assert parse_rfc3339("2027-01-31T23:59:59Z", "x").year == 2027
    assert parse_rfc3339("2027-01-31t23:59:59.123456-05:30", "x").utcoffset().total_seconds() == -(5 * 3600 + 1800)
    assert parse_key_id(KEY_ID.upper()) == KEY_ID
