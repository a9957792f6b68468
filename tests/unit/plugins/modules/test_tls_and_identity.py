# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS and identity, end to end against the emulator's HTTPS listener.

TLS: with validate_certs on (the default) a certificate that does not chain to a trusted CA fails clearly
(no ca_path, or a ca_path naming another CA); the emulator's test CA in ca_path succeeds; nothing downgrades to
plain HTTP (http:// for a remote host is refused before any request, http:// answers from the broker are
upgraded, redirects are not followed).
Identity: a token for one instance cannot touch another instance's keys; the 401/403 is reported with status,
reason code and correlation id, and nothing changes.
"""

import datetime
import importlib
import json
import re
import threading

import pytest

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ALICE = "hsc-emulator-alice-api-key-0001"
EVE = "hsc-emulator-eve-api-key-0003"
INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
INSTANCE_C = "c0ffee00-1234-4abc-8def-0123456789ab"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def module_main(name):
    return importlib.import_module(f"ansible_collections.ibm.hs_crypto.plugins.modules.{name}").main


@pytest.fixture(autouse=True)
def no_ca_bundle_from_the_environment(monkeypatch):
    """requests trusts REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE when verify is True; these tests decide what is trusted."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A freshly generated CA that signed nothing the emulator serves."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hs-crypto unrelated test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path_factory.mktemp("other-ca") / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


@pytest.fixture
def https_args(hsc):
    """Module arguments over the emulator's HTTPS listener (KMS and IAM), with the test's own token taken now."""
    return hsc.args(endpoint=hsc.server.https_url, iam_url=hsc.server.https_url, retries=0)


def run(run_module, hsc, module_name, args):
    """Run a module after marking the request log; return (failed, result, requests it made)."""
    mark = hsc.mark()
    failed, result = run_module(module_main(module_name), dict((k, v) for k, v in args.items() if v is not None))
    return failed, result, hsc.requests_since(mark, service=None)


# -- TLS ------------------------------------------------------------------------------------------------------------
def test_the_emulator_ca_in_ca_path_succeeds(run_module, hsc, https_args):
    failed, result, sent = run(run_module, hsc, "hs_crypto_key_info", dict(https_args, ca_path=hsc.server.ca_path))
    assert not failed, result.get("msg")
    assert [entry["listener"] for entry in sent] == ["public"]


def test_the_emulator_ca_for_iam_and_broker_too(run_module, hsc):
    args = {"api_key": ALICE, "instance_id": INSTANCE_A, "region": "us-south", "iam_url": hsc.server.https_url,
            "broker_url": hsc.server.https_url, "ca_path": hsc.server.ca_path}
    failed, result, sent = run(run_module, hsc, "hs_crypto_key_info", args)
    assert not failed, result.get("msg")
    assert [(entry["service"], entry["listener"]) for entry in sent] == [("iam", "public"), ("broker", "public"), ("kms", "public")]


@pytest.mark.parametrize("ca", ["none", "other"])
@pytest.mark.parametrize("service", ["kms", "iam", "broker"])
def test_a_certificate_from_an_untrusted_ca_fails_clearly(run_module, hsc, other_ca, ca, service):
    args = {"api_key": ALICE, "instance_id": INSTANCE_A, "retries": 0, "ca_path": other_ca if ca == "other" else None,
            "iam_url": hsc.url, "endpoint": hsc.url}
    if service == "iam":
        args.update(iam_url=hsc.server.https_url)
    elif service == "broker":
        args.update(endpoint=None, region="us-south", broker_url=hsc.server.https_url, iam_token=hsc.token())
    else:
        args.update(endpoint=hsc.server.https_url, iam_token=hsc.token())
    failed, result, sent = run(run_module, hsc, "hs_crypto_key_info", args)
    msg = result["msg"]
    assert failed and f"TLS verification of {hsc.server.https_url} failed" in msg, msg
    assert "Set ca_path" in msg and "validate_certs=false" in msg
    assert "exception" not in result and "Traceback" not in msg
    assert [entry["service"] for entry in sent if entry["listener"] == "public"] == []  # no answer was ever processed


def test_ca_path_wins_over_validate_certs_false(run_module, hsc, https_args, other_ca):
    """A ca_path is never ignored: with validate_certs=false as well, the certificate is still checked against it."""
    failed, result, dummy = run(run_module, hsc, "hs_crypto_key_info", dict(https_args, ca_path=other_ca, validate_certs=False))
    assert failed and "TLS verification" in result["msg"]


def test_validate_certs_false_is_the_explicit_opt_out(run_module, hsc, https_args):
    failed, result, dummy = run(run_module, hsc, "hs_crypto_key_info", dict(https_args, validate_certs=False))
    assert not failed, result.get("msg")


@pytest.mark.parametrize("option", ["endpoint", "iam_url", "broker_url"])
@pytest.mark.parametrize("module_name", ["hs_crypto_key", "hs_crypto_key_info", "hs_crypto_endpoint_info", "hs_crypto_iam_token"])
def test_plain_http_to_a_remote_host_is_refused_before_any_request(run_module, hsc, option, module_name):
    args = hsc.args(name="http-key", **{option: "http://kms.example.test:8080"})
    if option == "broker_url":
        args.update(endpoint=None, region="us-south")
    if module_name == "hs_crypto_iam_token":
        args["iam_token"] = None
    failed, result, sent = run(run_module, hsc, module_name, args if module_name == "hs_crypto_key" else
                               dict((k, v) for k, v in args.items() if k != "name"))
    assert failed and sent == []
    assert f"{option} must use https://" in result["msg"]


def test_http_endpoints_from_the_broker_are_upgraded_to_https(run_module, hsc):
    port = hsc.server.https_url.rsplit(":", 1)[1]
    hsc.control("POST", "faults", json={"rules": [{"service": "broker", "status": 200, "times": 1, "body": {
        "instance_id": INSTANCE_A, "kms": {"public": f"http://127.0.0.1:{port}", "private": f"HTTP://127.0.0.1:{port}/"}}}]})
    args = {"iam_token": hsc.token(), "instance_id": INSTANCE_A, "region": "us-south", "broker_url": hsc.url,
            "ca_path": hsc.server.ca_path}
    failed, result, sent = run(run_module, hsc, "hs_crypto_endpoint_info", args)
    assert not failed and result["kms_url"] == hsc.server.https_url
    assert result["endpoints"]["kms"]["private"] == hsc.server.https_url
    failed, result, sent = run(run_module, hsc, "hs_crypto_key_info", dict(args, endpoint=None))
    assert not failed and [entry["listener"] for entry in sent if entry["service"] == "kms"] == ["public"]


class RedirectHandler(BaseHTTPRequestHandler):
    """Redirects every request to plain HTTP elsewhere and counts the requests it gets."""

    def _redirect(self):
        self.server.paths.append(self.path)
        self.send_response(self.server.status)
        self.send_header("Location", "http://kms.example.test/stolen" + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _redirect

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(run_module, hsc, status):
    server = ThreadingHTTPServer(("127.0.0.1", 0), RedirectHandler)
    server.paths, server.status = [], status
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        failed, result = run_module(module_main("hs_crypto_key_info"), hsc.args(endpoint=url, retries=0))
    finally:
        server.shutdown()
        server.server_close()
    assert failed and "HTTP %d" % status in result["msg"] and "exception" not in result
    assert len(server.paths) == 1 and server.paths[0].startswith("/api/v2/keys?")
    assert "stolen" not in json.dumps(result)


# -- identity ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def alice_key(hsc):
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": "alice-root", "extractable": False, "aliases": ["alice-root"]}]}
    response = hsc.kms("POST", "keys", json=body)
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


def assert_refused(result, status, code=None):
    msg = result["msg"]
    assert "HTTP %d" % status in msg, msg
    if code:
        assert code in msg and code in result["error"]["codes"]
    assert re.search("correlation id " + UUID, msg), msg
    assert result["error"]["status"] == status
    assert result["correlation_id"] == result["error"]["correlation_id"]
    assert "exception" not in result and ALICE not in json.dumps(result) and EVE not in json.dumps(result)


# module, extra arguments: eve (instance C only) acting on instance A (alice's)
EVE_ON_A = [
    ("hs_crypto_key", {"aliases": ["alice-root"], "name": "alice-root", "description": "taken over"}),
    ("hs_crypto_key", {"aliases": ["alice-root"], "state": "absent"}),
    ("hs_crypto_key", {"name": "eve-made-this", "aliases": ["eve-made-this"]}),
    ("hs_crypto_key_info", {"alias": "alice-root"}),
    ("hs_crypto_key_info", {}),
    ("hs_crypto_key_batch", {"crypto_keys": [{"aliases": ["alice-root"], "state": "absent"}, {"name": "eve-batch"}]}),
    ("hs_crypto_key_wrap", {"alias": "alice-root"}),
    ("hs_crypto_key_rotate", {"alias": "alice-root"}),
    ("hs_crypto_key_ring", {"key_ring_id": "eve-ring"}),
    ("hs_crypto_instance_policy", {"dual_auth_delete": True}),
    ("hs_crypto_import_token", {"state": "present"}),
    ("hs_crypto_key_registrations_info", {"alias": "alice-root"}),
]


@pytest.mark.parametrize("with_api_key", [False, True], ids=["token", "api-key"])
@pytest.mark.parametrize("module_name, extra", EVE_ON_A, ids=["%s-%d" % (m, i) for i, (m, dummy) in enumerate(EVE_ON_A)])
def test_another_identity_cannot_touch_the_instance(run_module, hsc, alice_key, module_name, extra, with_api_key):
    args = hsc.args(identity=EVE, token=not with_api_key, retries=0, **extra)
    if not with_api_key:
        args["api_key"] = None
    failed, result, sent = run(run_module, hsc, module_name, args)
    assert failed
    assert_refused(result, 401, "UNAUTHORIZED_ERR")
    kms = [entry for entry in sent if entry["service"] == "kms"]
    assert kms and all(entry["status"] == 401 for entry in kms)
    # with the API key, a rejected token is renewed once (the refusal stands); never a loop
    assert len([entry for entry in sent if entry["service"] == "iam"]) <= 2
    # alice's instance is exactly as it was
    keys = hsc.kms("GET", "keys", params={"state": "0,1,2,3,5"}).json().get("resources", [])
    assert [(k["id"], k["state"], k.get("description")) for k in keys] == [(alice_key["id"], 1, None)]
    assert hsc.kms("GET", "instance/policies").json().get("resources", []) == []


def test_the_broker_refuses_discovery_for_another_identity(run_module, hsc):
    args = {"api_key": EVE, "iam_url": hsc.url, "broker_url": hsc.url, "instance_id": INSTANCE_A, "region": "us-south", "retries": 0}
    failed, result, sent = run(run_module, hsc, "hs_crypto_endpoint_info", args)
    assert failed
    assert_refused(result, 403, "FORBIDDEN")
    assert f"Endpoint discovery for instance {INSTANCE_A} failed" in result["msg"]


def test_eve_reaches_her_own_instance_and_alice_cannot(run_module, hsc):
    failed, result, dummy = run(run_module, hsc, "hs_crypto_key", hsc.args(identity=EVE, instance_id=INSTANCE_C, name="eve-key",
                                                                           aliases=["eve-key"]))
    assert not failed and result["key"]["crn"].endswith(result["key"]["id"]) and INSTANCE_C in result["key"]["crn"]
    failed, result, dummy = run(run_module, hsc, "hs_crypto_key_info", hsc.args(instance_id=INSTANCE_C, alias="eve-key", retries=0))
    assert failed
    assert_refused(result, 401, "UNAUTHORIZED_ERR")


def test_a_forged_token_is_refused_without_a_retry_loop(run_module, hsc, alice_key):
    header, payload, dummy = hsc.token().split(".")
    forged = f"{header}.{payload}.c2lnbmVkLWJ5LW1hbGxvcnk"
    failed, result, sent = run(run_module, hsc, "hs_crypto_key_wrap", hsc.args(iam_token=forged, api_key=None, alias="alice-root"))
    assert failed and result["error"]["status"] == 401 and "HTTP 401" in result["msg"]
    assert [entry["service"] for entry in sent] == ["kms"]
    assert forged not in json.dumps(result)
