# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input to the KMIP modules, table-driven: each case fails naming the option and the rule, before any request."""

import base64
import datetime
import importlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

KEY_UUID = "0b0e8a0e-1111-4222-8333-444455556666"
OTHER_INSTANCE_KEY_CRN = ("crn:v1:bluemix:public:kms:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:"
                          "11111111-2222-4333-8444-555555555555:key:" + KEY_UUID)


def make_certificate(common_name="vc01.example.com"):
    """A self-signed client certificate in PEM, and its private key in PEM (for the cases that paste the wrong thing)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return pem, private


PEM, PRIVATE = make_certificate()
PEM_2, _PRIVATE_2 = make_certificate("vc02.example.com")
BODY = PEM.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
TRUNCATED = "-----BEGIN CERTIFICATE-----" + BODY[:len(BODY) // 2] + "\n-----END CERTIFICATE-----\n"
NOT_DER = "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"not a certificate at all").decode() + "\n-----END CERTIFICATE-----\n"


def adapter(case_id, params, fragments):
    return pytest.param("hs_crypto_kmip_adapter", params, fragments, id=case_id)


def certs(*entries):
    return [{"name": name, "certificate": pem} for name, pem in entries]


CASES = [
    # --- hs_crypto_kmip_adapter: names, ids, root key --------------------------------------------------------------------
    adapter("adapter-no-identity", {"root_key": "k1"}, ["name", "adapter_id"]),
    adapter("adapter-name-short", {"name": "a"}, ["name", "2 to 40"]),
    adapter("adapter-name-long", {"name": "a" * 41}, ["name", "2 to 40"]),
    adapter("adapter-name-space", {"name": "vsphere cluster"}, ["name", "letters, digits"]),
    adapter("adapter-name-dot", {"name": "vsphere.cluster"}, ["name", "letters, digits"]),
    adapter("adapter-name-uuid", {"name": KEY_UUID}, ["name", "not a UUID"]),
    adapter("adapter-name-newline", {"name": "cluster-a\n"}, ["name", "2 to 40"]),
    adapter("adapter-id-not-uuid", {"adapter_id": "cluster-a"}, ["adapter_id", "UUID"]),
    adapter("adapter-root-key-empty", {"name": "cluster-a", "root_key": " "}, ["root_key", "id, its CRN or one of its aliases"]),
    adapter("adapter-root-key-bad-alias", {"name": "cluster-a", "root_key": "bad alias!"}, ["root_key"]),
    adapter("adapter-root-key-other-instance", {"name": "cluster-a", "root_key": OTHER_INSTANCE_KEY_CRN}, ["root_key", "instance"]),
    adapter("adapter-description-long", {"name": "cluster-a", "description": "d" * 241}, ["description", "240"]),
    adapter("adapter-profile-unknown", {"name": "cluster-a", "profile": "native_2.0"}, ["profile", "native_1.0"]),
    # --- certificates -------------------------------------------------------------------------------------------------
    adapter("cert-private-key", {"name": "cluster-a", "certificates": certs(("vc01", PRIVATE))},
            ["certificates[0].certificate", "private key"]),
    adapter("cert-not-pem", {"name": "cluster-a", "certificates": certs(("vc01", "hello"))}, ["certificates[0].certificate", "PEM"]),
    adapter("cert-truncated", {"name": "cluster-a", "certificates": certs(("vc01", TRUNCATED))}, ["certificates[0].certificate"]),
    adapter("cert-not-der", {"name": "cluster-a", "certificates": certs(("vc01", NOT_DER))}, ["certificates[0].certificate", "DER"]),
    adapter("cert-two-in-one", {"name": "cluster-a", "certificates": certs(("vc01", PEM + PEM_2))},
            ["certificates[0].certificate", "more than one"]),
    adapter("cert-bad-base64", {"name": "cluster-a", "certificates": certs(("vc01", "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----"))},
            ["certificates[0].certificate"]),
    adapter("cert-empty", {"name": "cluster-a", "certificates": certs(("vc01", ""))}, ["certificates[0].certificate", "required"]),
    adapter("cert-name-bad", {"name": "cluster-a", "certificates": certs(("vc 01", PEM))}, ["certificates[0].name", "letters, digits"]),
    adapter("cert-name-uuid", {"name": "cluster-a", "certificates": certs((KEY_UUID, PEM))}, ["certificates[0].name", "not a UUID"]),
    adapter("cert-duplicate-name", {"name": "cluster-a", "certificates": certs(("vc01", PEM), ("vc01", PEM_2))},
            ["certificates[1].name", "also the name of certificates[0]"]),
    adapter("cert-duplicate-content", {"name": "cluster-a", "certificates": certs(("vc01", PEM), ("vc02", PEM))},
            ["certificates[1].certificate", "same certificate as certificates[0]"]),
    adapter("cert-over-limit", {"name": "cluster-a", "certificates": certs(*[("c%03d" % i, PEM) for i in range(201)])},
            ["certificates", "at most 200"]),
    adapter("cert-purge-without-list", {"name": "cluster-a", "purge_certificates": True}, ["purge_certificates", "needs certificates"]),
    # --- what goes with which state -------------------------------------------------------------------------------------
    adapter("force-without-delete-objects", {"name": "cluster-a", "state": "absent", "force": True}, ["force", "delete_objects"]),
    adapter("delete-objects-when-present", {"name": "cluster-a", "delete_objects": True}, ["delete_objects", "state=absent"]),
    adapter("absent-with-root-key", {"name": "cluster-a", "state": "absent", "root_key": "k1"}, ["state=absent", "root_key"]),
    # --- hs_crypto_kmip_certificate ----------------------------------------------------------------------------------------
    pytest.param("hs_crypto_kmip_certificate", {"adapter": "bad adapter", "name": "vc01", "certificate": PEM}, ["adapter", "letters"],
                 id="certificate-adapter-bad"),
    pytest.param("hs_crypto_kmip_certificate", {"adapter": "cluster-a", "name": "vc01", "certificate": PRIVATE},
                 ["certificate", "private key"], id="certificate-private-key"),
    pytest.param("hs_crypto_kmip_certificate", {"adapter": "cluster-a", "name": "vc01"}, ["certificate"], id="certificate-missing"),
    pytest.param("hs_crypto_kmip_certificate", {"adapter": "cluster-a", "name": "v", "certificate": PEM}, ["name", "2 to 40"],
                 id="certificate-name-short"),
    # --- hs_crypto_kmip_object ---------------------------------------------------------------------------------------------
    pytest.param("hs_crypto_kmip_object", {"adapter": "cluster-a"}, ["object_ids", "all_objects"], id="object-nothing-chosen"),
    pytest.param("hs_crypto_kmip_object", {"adapter": "cluster-a", "object_ids": []}, ["object_ids", "at least one"], id="object-ids-empty"),
    pytest.param("hs_crypto_kmip_object", {"adapter": "cluster-a", "object_ids": ["nope"]}, ["object_ids[0]", "UUID"],
                 id="object-id-not-uuid"),
    pytest.param("hs_crypto_kmip_object", {"adapter": "cluster-a", "object_ids": [KEY_UUID], "all_objects": True},
                 ["object_ids and all_objects", "exclude"], id="object-both"),
    pytest.param("hs_crypto_kmip_object", {"adapter": "x", "all_objects": True}, ["adapter", "2 to 40"], id="object-adapter-short"),
    # --- hs_crypto_kmip_adapter_info ---------------------------------------------------------------------------------------
    pytest.param("hs_crypto_kmip_adapter_info", {"adapter_id": "cluster-a"}, ["adapter_id", "UUID"], id="info-adapter-id-not-uuid"),
    pytest.param("hs_crypto_kmip_adapter_info", {"name": "a b"}, ["name", "letters"], id="info-name-bad"),
    pytest.param("hs_crypto_kmip_adapter_info", {"root_key": OTHER_INSTANCE_KEY_CRN}, ["root_key", "instance"], id="info-root-key-other-instance"),
    pytest.param("hs_crypto_kmip_adapter_info", {"object_states": []}, ["object_states", "at least one"], id="info-no-states"),
]


@pytest.mark.parametrize("module_name, params, fragments", CASES)
def test_bad_input_is_refused_before_any_request(run_module, hsc, module_name, params, fragments):
    main = importlib.import_module(f"ansible_collections.ibm.hs_crypto.plugins.modules.{module_name}").main
    args = hsc.args(**params)
    mark = hsc.mark()
    failed, result = run_module(main, args)
    msg = result.get("msg", "")
    assert failed, f"accepted: {json.dumps(result)[:500]}"
    assert hsc.requests_since(mark, service=None) == []
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg[:500]!r}"
    assert "exception" not in result and "Traceback" not in msg
    assert "PRIVATE KEY" not in msg and BODY.strip()[:40] not in msg  # never echoes what was pasted
    assert len(msg) <= 2000


def test_the_table_is_large_enough():
    assert len(CASES) >= 30
