# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the services answer garbage (wrong shapes, wrong types, HTML); every module fails cleanly.

The emulator's fault injection replaces an answer with a ``body`` of the wrong shape; a small stub server on
loopback answers non-JSON (an HTML page, as a proxy in front of the service would). A clean failure is
``failed`` with a message that is not a Python error and no ``exception`` (traceback) key. A 200 answer that
carries no usable data must fail too: reading it as "no keys" would make a run delete nothing, or create a
second key. Cases marked ``xfail(strict=True)`` are bugs reported with a patch (see docs/security.md).
"""

import importlib
import json
import threading

import pytest

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY_TYPE = "application/vnd.ibm.kms.key+json"
HTML = "<html><body><h1>200 OK</h1>Welcome to the proxy</body></html>"


def module_main(name):
    return importlib.import_module(f"ansible_collections.ibm.hs_crypto.plugins.modules.{name}").main


def assert_clean_failure(failed, result, *fragments):
    msg = result.get("msg") or ""
    assert failed, f"accepted a garbage answer: {json.dumps(result)[:400]}"
    assert "exception" not in result and "Traceback" not in msg and not msg.startswith("Unexpected error"), msg
    for fragment in fragments:
        assert fragment in msg, msg


@pytest.fixture
def root_key(hsc):
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": "garbage-root", "extractable": False, "aliases": ["garbage-root"]}]}
    response = hsc.kms("POST", "keys", json=body)
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


@pytest.fixture
def garbage(hsc):
    """``garbage(method, path, body, status=200, service="kms")``: the next matching answer is replaced."""
    def inject(method, path, body, status=200, service="kms", times=5):
        hsc.control("POST", "faults", json={"rules": [{"service": service, "method": method, "path": path, "status": status,
                                                       "body": body, "times": times}]})
    return inject


# (case id, module, extra args, fault: (method, path regex, body, status, service), message fragments, bug)
CASES = [
    ("key-info-listing-is-a-string", "hs_crypto_key_info", {}, ("GET", "^/api/v2/keys$", HTML, 200, "kms"), (), None),
    ("key-info-resources-not-objects", "hs_crypto_key_info", {}, ("GET", "^/api/v2/keys$", {"resources": [None, "x", 3]}, 200, "kms"),
     (), None),
    ("key-info-resource-wrong-types", "hs_crypto_key_info", {"alias": "garbage-root"},
     ("GET", "^/api/v2/keys/garbage-root$", {"resources": [{"id": 5, "state": [1], "aliases": 7}]}, 200, "kms"), (), None),
    ("key-absent-by-name-listing-without-resources", "hs_crypto_key", {"name": "garbage-root", "state": "absent"},
     ("GET", "^/api/v2/keys$", {"metadata": {"collectionTotal": 1}}, 200, "kms"), (), None),
    ("key-batch-listing-is-a-list", "hs_crypto_key_batch", {"crypto_keys": [{"name": "garbage-root", "aliases": ["garbage-root"]}]},
     ("GET", "^/api/v2/keys$", [1, 2, 3], 200, "kms"), (), None),
    ("rotate-key-without-id", "hs_crypto_key_rotate", {"alias": "garbage-root"},
     ("GET", "^/api/v2/keys/garbage-root$", {"resources": [{}]}, 200, "kms"), (), None),
    ("ring-info-resources-not-objects", "hs_crypto_key_ring_info", {}, ("GET", "key_rings", {"resources": ["default"]}, 200, "kms"),
     (), None),
    ("policy-info-resources-not-objects", "hs_crypto_instance_policy_info", {},
     ("GET", "instance/policies", {"resources": [None]}, 200, "kms"), (), None),
    ("wrap-answer-is-html", "hs_crypto_key_wrap", {"alias": "garbage-root"}, ("POST", "actions/wrap", HTML, 200, "kms"), (), None),
    ("import-token-answer-is-a-list", "hs_crypto_import_token", {"retrieve": True}, ("GET", "import_token", [], 200, "kms"), (),
     None),
    # Handled since the collection first met them: regression guards.
    ("key-info-500-with-garbage-error", "hs_crypto_key_info", {}, ("GET", "^/api/v2/keys$", {"resources": [{"errorMsg": 5}]}, 500, "kms"),
     ("Listing keys", "HTTP 500"), None),
    ("key-info-429-with-list-body", "hs_crypto_key_info", {}, ("GET", "^/api/v2/keys$", [None], 429, "kms"), ("HTTP 429",), None),
    ("key-400-envelope-of-wrong-types", "hs_crypto_key", {"name": "fresh-key", "aliases": ["fresh-key"]},
     ("POST", "^/api/v2/keys", {"resources": [{"errorMsg": "Bad Request", "reasons": [{"code": 7, "message": ["x"], "target": 3}]}]},
      400, "kms"), ("Bad Request",), None),
    ("endpoint-info-broker-html", "hs_crypto_endpoint_info", {"endpoint": None, "region": "us-south", "broker_url": "EMULATOR"},
     ("GET", "crypto_v2", HTML, 200, "broker"), ("not a JSON object",), None),
    ("endpoint-info-broker-wrong-shape", "hs_crypto_endpoint_info", {"endpoint": None, "region": "us-south", "broker_url": "EMULATOR"},
     ("GET", "crypto_v2", {"kms": ["127.0.0.1:1"]}, 200, "broker"), ("no kms endpoint",), None),
    ("iam-token-list-answer", "hs_crypto_iam_token", {"iam_token": None}, ("POST", "identity/token", [], 200, "iam"),
     ("without an access token",), None),
    ("iam-token-error-of-wrong-types", "hs_crypto_key_info", {"iam_token": None},
     ("POST", "identity/token", {"errorCode": ["x"], "errorMessage": {"a": 1}, "context": "none"}, 400, "iam"),
     ("IAM refused to issue a token", "HTTP 400"), None),
]


@pytest.mark.parametrize("module_name, extra, fault, fragments", [
    pytest.param(module, extra, fault, fragments, id=case_id,
                 marks=[pytest.mark.xfail(strict=True, reason=bug)] if bug else [])
    for case_id, module, extra, fault, fragments, bug in CASES])
def test_garbage_from_the_emulator_fails_cleanly(run_module, hsc, garbage, root_key, module_name, extra, fault, fragments):
    method, path, body, status, service = fault
    extra = dict((name, hsc.url if value == "EMULATOR" else value) for name, value in extra.items())
    args = dict((name, value) for name, value in hsc.args(retries=0, **extra).items() if value is not None)
    garbage(method, path, body, status=status, service=service)
    failed, result = run_module(module_main(module_name), args)
    assert_clean_failure(failed, result, *fragments)
    assert hsc.kms("GET", f"keys/{root_key['id']}").json()["resources"][0]["state"] == 1  # nothing was deleted meanwhile


class StubHandler(BaseHTTPRequestHandler):
    """Answers every request with the server's (status, content type, body), as a proxy or a captive portal might."""

    def _answer(self):
        status, content_type, body = self.server.answer
        payload = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
    server.answer = (200, "text/html", HTML)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status, module_name, extra, fragments", [
    pytest.param(200, "hs_crypto_key_info", {}, (), id="kms-200-html"),
    pytest.param(200, "hs_crypto_key", {"name": "any-key", "state": "absent"}, (), id="key-absent-200-html"),
    pytest.param(502, "hs_crypto_key_info", {}, ("Listing keys", "HTTP 502"), id="kms-502-html"),
    pytest.param(200, "hs_crypto_endpoint_info", {"endpoint": None, "region": "us-south", "broker_url": "STUB"},
                 ("not a JSON object",), id="broker-200-html"),
    pytest.param(200, "hs_crypto_iam_token", {"iam_token": None, "iam_url": "STUB"}, ("without an access token",), id="iam-200-html"),
    pytest.param(503, "hs_crypto_iam_token", {"iam_token": None, "iam_url": "STUB"}, ("HTTP 503",), id="iam-503-html"),
])
def test_non_json_answers_fail_cleanly(run_module, hsc, stub, status, module_name, extra, fragments):
    stub.answer = (status, "text/html", HTML)
    url = "http://127.0.0.1:%d" % stub.server_address[1]
    extra = dict((name, url if value == "STUB" else value) for name, value in extra.items())
    args = dict(hsc.args(retries=0, endpoint=url), **extra)
    args = dict((name, value) for name, value in args.items() if value is not None)
    failed, result = run_module(module_main(module_name), args)
    assert_clean_failure(failed, result, *fragments)
