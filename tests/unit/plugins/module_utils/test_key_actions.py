# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rotate and wrap requests and the service's dates, table-driven (no service)."""

import datetime

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import HsCryptoError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_actions import RotateRequest, WrapRequest, parse_service_date, version_of

UTC = datetime.timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01T02:00:00Z", datetime.datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)),
    ("2026-03-01T02:00:00+0000", datetime.datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)),
    ("2026-03-01T04:00:00+02:00", datetime.datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)),
])
def test_service_dates(text, expected):
    assert parse_service_date(text, "creationDate") == expected


def test_a_date_that_is_not_one_is_reported():
    with pytest.raises(HsCryptoError, match="not an RFC 3339 date"):
        parse_service_date("yesterday", "creationDate")


@pytest.mark.parametrize("raw, expected", [
    ({"id": "k", "creationDate": "c", "keyVersion": {"id": "v", "creationDate": "vc"}}, {"id": "v", "creation_date": "vc"}),
    ({"id": "k", "creationDate": "c", "lastRotateDate": "r"}, {"id": "k", "creation_date": "r"}),
    ({"id": "k", "creationDate": "c"}, {"id": "k", "creation_date": "c"}),
])
def test_current_version(raw, expected):
    assert version_of(raw) == expected


def test_rotate_bodies():
    assert RotateRequest(alias="k1").body() is None
    assert RotateRequest(alias="k1", payload="A" * 43 + "=").body() == {"payload": "A" * 43 + "="}
    secure = RotateRequest(alias="k1", payload="QUJD", encrypted_nonce="QUJD", iv="QUJD", encryption_algorithm="RSAES_OAEP_SHA_1")
    assert secure.body() == {"payload": "QUJD", "encryptedNonce": "QUJD", "iv": "QUJD", "encryptionAlgorithm": "RSAES_OAEP_SHA_1"}


def test_rotate_reference_from_a_crn():
    request = RotateRequest(key_id="crn:v1:bluemix:public:hs-crypto:us-south:a/acct:inst:key:02FD6835-6001-4482-A892-13BD2085F75D")
    assert request.ref == "02fd6835-6001-4482-a892-13bd2085f75d"


def test_wrap_bodies():
    assert WrapRequest(alias="k1").body() == {}
    assert WrapRequest(alias="k1", plaintext="QUJD", aad=["x"]).body() == {"plaintext": "QUJD", "aad": ["x"]}
    assert WrapRequest(operation="rewrap", alias="k1", ciphertext="QUJD", aad=[]).body() == {"ciphertext": "QUJD"}
