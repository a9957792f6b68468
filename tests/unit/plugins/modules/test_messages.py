# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 11, messages: each failure says what happened in the user's terms, and what to do about it."""

import importlib
import json
import re
import socket
import time

import pytest

from ansible.module_utils.common import warnings as ansible_warnings
from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import decode_jwt_claims
from hpcs_emulator.testing import ALICE_API_KEY, get_token  # the modules' conftest puts tests/ on sys.path

INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"


def module_main(name):
    return importlib.import_module(f"ansible_collections.ibm.hs_crypto.plugins.modules.{name}").main


def expired_token(hsc):
    """A real emulator token that expired an hour ago: issued while the emulator clock stood two hours back."""
    hsc.control("POST", "clock", json={"advance": -7200})
    try:
        token = get_token(hsc.url, ALICE_API_KEY)["access_token"]
    finally:
        hsc.control("POST", "clock", json={"advance": 7200})
    return token


# -- 1. an iam_token that cannot work, without api_key --------------------------------------------------------------
@pytest.mark.parametrize("module_name", ["hs_crypto_key_info", "hs_crypto_endpoint_info"])
def test_expired_iam_token_without_api_key_is_named_before_any_request(run_module, hsc, module_name):
    token = expired_token(hsc)
    expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(decode_jwt_claims(token)["exp"]))
    args = hsc.args(token=False, api_key=None, iam_token=token, alias="any-key")
    if module_name == "hs_crypto_endpoint_info":
        args = dict(api_key=None, iam_token=token, instance_id=INSTANCE_A, region="us-south", broker_url=hsc.url, iam_url=hsc.url)
    mark = hsc.mark()
    failed, result = run_module(module_main(module_name), args)
    assert failed
    assert f"iam_token expired at {expires_at}" in result["msg"] and "no api_key was given" in result["msg"]
    assert "private-only" not in result["msg"] and "has access" not in result["msg"]
    assert token not in json.dumps(result)
    assert hsc.requests_since(mark, service=None) == []


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "Bearer 0123456789abcdef"])
def test_non_jwt_iam_token_without_api_key_is_named_before_any_request(run_module, hsc, token):
    mark = hsc.mark()
    failed, result = run_module(module_main("hs_crypto_key_info"), hsc.args(token=False, api_key=None, iam_token=token, alias="any-key"))
    assert failed
    assert "iam_token is not an IAM access token" in result["msg"] and "no api_key was given" in result["msg"]
    assert "private-only" not in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_expired_iam_token_with_api_key_is_renewed(run_module, hsc):
    failed, result = run_module(module_main("hs_crypto_key_info"), hsc.args(token=False, iam_token=expired_token(hsc), alias="any-key"))
    assert not failed, result["msg"]


def test_refused_valid_token_without_api_key_keeps_the_access_advice(run_module, hsc):
    header, payload, dummy = hsc.token().split(".")
    forged = f"{header}.{payload}.c2lnbmVkLWJ5LW1hbGxvcnk"  # unexpired, but not signed by the emulator: refused with 401
    failed, result = run_module(module_main("hs_crypto_key_info"), hsc.args(token=False, api_key=None, iam_token=forged, alias="any-key",
                                                                            retries=0))
    assert failed and result["error"]["status"] == 401
    assert "refused the iam_token, and no api_key was given" in result["msg"]
    assert f"Check that the token's identity has access to instance {INSTANCE_A}" in result["msg"]
    assert forged not in json.dumps(result)


# -- 2. connection and DNS failures: the whole host, and for a private endpoint where it can be reached from ---------
@pytest.fixture
def closed_port():
    """A port that refuses connections: bound, never listening, and held for the test, so that no other process (tests
    run in parallel, each with its own listeners) can take it between choosing it and connecting to it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def hosts_named(message, start):
    """Every host-like word in ``message`` that begins with ``start`` (a clipped host would show up as a shorter one)."""
    return set(re.findall(re.escape(start) + r"[A-Za-z0-9.-]*", message))


@pytest.mark.parametrize("host", ["private.eu-de.kms.cloud.ibm.invalid",
                                  "private.eu-de.kms.cloud.ibm." + "a-rather-long-label-of-an-internal-zone." * 4 + "invalid"])
def test_unresolvable_private_host_is_named_whole_with_where_it_is_reachable_from(run_module, hsc, host):
    failed, result = run_module(module_main("hs_crypto_key_info"), hsc.args(endpoint=f"https://{host}", alias="any-key", retries=0))
    assert failed
    assert hosts_named(result["msg"], "private.eu-de") == {host}
    assert f"the host name {host} could not be resolved" in result["msg"]
    assert "reachable only from IBM Cloud's private network" in result["msg"] and "endpoint_type=public" in result["msg"]
    assert "object at 0x" not in result["msg"] and "HTTPSConnectionPool" not in result["msg"]


def test_unresolvable_public_host_gets_no_private_network_hint(run_module, hsc):
    failed, result = run_module(module_main("hs_crypto_key_info"), hsc.args(endpoint="https://eu-de.kms.cloud.ibm.invalid", alias="any-key", retries=0))
    assert failed and "the host name eu-de.kms.cloud.ibm.invalid could not be resolved" in result["msg"]
    assert "private network" not in result["msg"]


def test_closed_port_is_named_with_host_and_port(run_module, hsc, closed_port):
    port = closed_port
    failed, result = run_module(module_main("hs_crypto_key_info"), hsc.args(endpoint=f"http://127.0.0.1:{port}", alias="any-key", retries=1))
    assert failed
    assert f"GET /api/v2/keys/any-key failed after 2 attempt(s): 127.0.0.1:{port} refused the connection" in result["msg"]
    assert "private network" not in result["msg"] and "HTTPConnectionPool" not in result["msg"]


def test_unreachable_private_endpoint_of_endpoint_type_private_says_where_it_is_reachable_from(run_module, hsc, monkeypatch, closed_port):
    """The broker's private kms endpoint need not start with ``private.``: endpoint_type=private is enough for the hint."""
    port = closed_port
    monkeypatch.setitem(hsc.server.state.endpoints, "private", f"https://127.0.0.1:{port}")
    args = hsc.args(endpoint=None, broker_url=hsc.url, region="us-south", endpoint_type="private", alias="any-key", retries=0)
    failed, result = run_module(module_main("hs_crypto_key_info"), args)
    assert failed
    assert f"127.0.0.1:{port} refused the connection" in result["msg"]
    assert "reachable only from IBM Cloud's private network" in result["msg"] and "endpoint_type=public" in result["msg"]


def test_unresolvable_private_iam_points_to_the_public_iam(run_module, hsc):
    args = hsc.args(token=False, iam_url="https://private.iam.cloud.ibm.invalid", alias="any-key", retries=0)
    failed, result = run_module(module_main("hs_crypto_key_info"), args)
    assert failed and "the host name private.iam.cloud.ibm.invalid could not be resolved" in result["msg"]
    assert "reachable only from IBM Cloud's private network" in result["msg"] and "leave iam_url unset" in result["msg"]


# -- 3. a region where HPCS is not offered, with service hs_crypto ---------------------------------------------------
# (Without a service, an instance in such a region is looked up in the Resource Controller since issue 12.)
@pytest.mark.parametrize("module_name", ["hs_crypto_key_info", "hs_crypto_endpoint_info", "hs_crypto_key"])
@pytest.mark.parametrize("region", ["ca-mon", "jp-osa"])
def test_region_without_hpcs_suggests_key_protect_before_any_request(run_module, hsc, module_name, region):
    # retries=0: were the check missing, the broker host of that region would be looked up once, not five times.
    args = hsc.args(token=False, endpoint=None, region=region, retries=0, timeout=5, service="hs_crypto",
                    **{"hs_crypto_key_info": {"alias": "any-key"}, "hs_crypto_key": {"name": "any-key"}}.get(module_name, {}))
    mark = hsc.mark()
    failed, result = run_module(module_main(module_name), args)
    assert failed
    assert f"Hyper Protect Crypto Services is not offered in region {region}" in result["msg"]
    assert "service: key_protect" in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_hpcs_crn_in_a_key_protect_only_region_is_refused_too(run_module, hsc):
    crn = f"crn:v1:bluemix:public:hs-crypto:ca-mon:a/acct:{INSTANCE_A}::"
    args = hsc.args(token=False, endpoint=None, instance_id=crn, alias="any-key", retries=0, timeout=5)
    mark = hsc.mark()
    failed, result = run_module(module_main("hs_crypto_key_info"), args)
    assert failed and "not offered in region ca-mon" in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_key_protect_only_region_works_with_a_broker_url(run_module, hsc):
    failed, result = run_module(module_main("hs_crypto_endpoint_info"), hsc.args(token=False, endpoint=None, region="ca-mon",
                                                                                 broker_url=hsc.url))
    assert not failed and result["discovered"] is True


# -- 4. the key_id hint names the alias option the module really has ------------------------------------------------
@pytest.mark.parametrize("module_name, extra, option", [
    ("hs_crypto_key", {}, "aliases"),
    ("hs_crypto_key", {"state": "absent"}, "aliases"),
    ("hs_crypto_key_info", {}, "alias"),
    ("hs_crypto_key_rotate", {}, "alias"),
    ("hs_crypto_key_wrap", {}, "alias"),
    ("hs_crypto_key_registrations_info", {}, "alias"),
])
def test_key_id_that_is_an_alias_names_the_modules_alias_option(run_module, hsc, module_name, extra, option):
    args = hsc.args(key_id="payments-root", **extra)
    mark = hsc.mark()
    failed, result = run_module(module_main(module_name), args)
    assert failed
    hint = re.search(r"to find a key by alias use ([\w\[\].]+)", result["msg"])
    assert hint and hint.group(1) == option, result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_batch_entry_key_id_that_is_an_alias_names_the_entrys_aliases(run_module, hsc):
    args = hsc.args(crypto_keys=[{"name": "ok-key"}, {"key_id": "payments-root"}])
    mark = hsc.mark()
    failed, result = run_module(module_main("hs_crypto_key_batch"), args)
    assert failed and "crypto_keys[1].key_id" in result["msg"]
    hint = re.search(r"to find a key by alias use ([\w\[\].]+)", result["msg"])
    assert hint and hint.group(1) == "crypto_keys[1].aliases", result["msg"]
    assert hsc.requests_since(mark, service=None) == []


# -- 5. modules that return secrets warn when their task has no no_log ----------------------------------------------
KEY_TYPE = "application/vnd.ibm.kms.key+json"


def secret_module_args(hsc, module_name):
    if module_name == "hs_crypto_iam_token":
        return {"api_key": ALICE_API_KEY, "iam_url": hsc.url}
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": "wrapper", "extractable": False, "aliases": ["wrapper"]}]}
    assert hsc.kms("POST", "keys", json=body).status_code == 201
    return hsc.args(alias="wrapper")


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Module warnings as a module process sees them, in-process.

    Ansible keeps them in a process-wide store that only the end of a module process empties: empty it, or a warning of
    an earlier test shows up in this one's result. And since ansible-core 2.19, once any test of the process has imported
    controller code (``ansible._internal``), ``warn`` goes to the controller's display instead of the result.
    """
    store = getattr(ansible_warnings, "_global_warnings", None)
    if store is not None:
        store.clear()
    try:
        from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        return
    if hasattr(_internal, "is_controller"):
        monkeypatch.setattr(_internal, "is_controller", False)


def warning_texts(result):
    """The warnings of a result as text: strings before ansible-core 2.19, records (with ``msg``) since."""
    return [w if isinstance(w, str) else json.dumps(w) for w in result.get("warnings", [])]


def secrets_of(result, args):
    return [value for value in (result.get("iam_token"), result.get("plaintext"), result.get("ciphertext"), args.get("api_key"),
                                args.get("iam_token")) if value]


@pytest.mark.parametrize("module_name", ["hs_crypto_key_wrap", "hs_crypto_iam_token"])
@pytest.mark.parametrize("check_mode", [False, True])
def test_secret_results_without_no_log_warn_without_the_secret(run_module, hsc, module_name, check_mode, fresh_warnings):
    args = secret_module_args(hsc, module_name)
    failed, result = run_module(module_main(module_name), args, check_mode=check_mode)
    assert not failed, result.get("msg")
    warnings = [w for w in warning_texts(result) if "no_log" in w]
    assert len(warnings) == 1 and "no_log: true" in warnings[0] and "secret" in warnings[0]
    assert len(secrets_of(result, args)) >= 2 and not any(secret in warnings[0] for secret in secrets_of(result, args))


@pytest.mark.parametrize("module_name", ["hs_crypto_key_wrap", "hs_crypto_iam_token"])
def test_secret_results_with_no_log_do_not_warn(run_module, hsc, module_name, fresh_warnings):
    args = dict(secret_module_args(hsc, module_name), _ansible_no_log=True)
    failed, result = run_module(module_main(module_name), args)
    assert not failed, result.get("msg")
    assert not [w for w in warning_texts(result) if "no_log" in w]


def test_tls_failure_gives_the_certificate_problem_without_the_librarys_noise(run_module, hsc):
    args = hsc.args(token=False, iam_url=hsc.server.https_url, alias="any-key", retries=0)
    failed, result = run_module(module_main("hs_crypto_key_info"), args)
    assert failed and f"TLS verification of {hsc.server.https_url} failed (" in result["msg"]
    assert "certificate verify failed" in result["msg"] and "Set ca_path" in result["msg"]
    assert "Max retries" not in result["msg"] and "Caused by" not in result["msg"]
