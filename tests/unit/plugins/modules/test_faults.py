# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults on every kind of request (issue: reliability): reads retry and succeed, writes are never applied twice,
an expiring token is renewed mid-run, a service that never answers fails within the timeout."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key, hs_crypto_key_batch

FAULTS = {
    "429 with Retry-After": {"status": 429, "retry_after": "2"},
    "429 without Retry-After": {"status": 429},
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "504": {"status": 504},
    "dropped connection": {"drop": True},
    "slow answer": {"delay": 0.3},
}
READS = {
    "IAM token": {"service": "iam"},
    "broker discovery": {"service": "broker"},
    "key listing": {"service": "kms", "method": "GET", "path": "^/api/v2/keys$"},
    "key by alias": {"service": "kms", "method": "GET", "path": "^/api/v2/keys/[^/]+$"},
}


def fault(hsc, times=1, **rule):
    hsc.control("POST", "faults", json={"rules": [dict(rule, times=times)]})


def kms_keys(hsc):
    return hsc.kms("GET", "keys", params={"state": "1,2,3,5"}).json()["resources"]


@pytest.mark.parametrize("fault_name", sorted(FAULTS))
@pytest.mark.parametrize("read_name", sorted(READS))
def test_reads_retry_and_succeed(run_module, hsc, waits, read_name, fault_name):
    hsc.kms("POST", "keys", json={"metadata": {"collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 1},
                                  "resources": [{"type": "application/vnd.ibm.kms.key+json", "name": "target", "aliases": ["target"]}]})
    # Full connection: IAM, broker discovery, then the KMS reads.
    args = {"instance_id": "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b", "api_key": "hsc-emulator-alice-api-key-0001",
            "iam_url": hsc.url, "broker_url": hsc.url, "ca_path": hsc.server.ca_path}
    fault(hsc, **dict(READS[read_name], **FAULTS[fault_name]))
    if read_name == "key listing":
        failed, result = run_module(hs_crypto_key_batch.main, dict(args, crypto_keys=[{"name": "target", "aliases": ["target"]}]))
    else:
        failed, result = run_module(hs_crypto_key.main, dict(args, aliases=["target"]))
    assert not failed, result.get("msg")
    assert not result["changed"]
    faults = hsc.control("GET", "counters")["faults"]
    assert faults == 1
    # One pause before the one retry (a slow answer is waited for, not retried). The service's Retry-After is
    # honoured (plus at most 1 s of jitter); without it, the first backoff is well under 2 s.
    if fault_name == "slow answer":
        assert waits.waits == []
    elif fault_name == "429 with Retry-After":
        assert len(waits.waits) == 1 and 2 <= waits.waits[0] <= 3, waits.waits
    else:
        assert len(waits.waits) == 1 and 0 < waits.waits[0] <= 30, waits.waits


LOST = {"lost answer": {"drop": True, "after": True}, "503 after the change": {"status": 503, "after": True}}
WRITES = {
    # action -> (route of the write, params of the run that makes it, check on the key afterwards)
    "add alias": ("POST", "^/api/v2/keys/[^/]+/aliases/", {"aliases": ["wk", "wk-added"]},
                  lambda key: sorted(key["aliases"]) == ["wk", "wk-added"]),
    "disable": ("POST", "/actions/disable$", {"aliases": ["wk"], "enabled": False}, lambda key: key["state"] == 2),
    "rotation policy": ("PUT", "/policies$", {"aliases": ["wk"], "rotation": {"interval_month": 4}},
                        lambda key: key["rotation"]["interval_month"] == 4),
    "dual auth approval": ("POST", "/actions/setKeyForDeletion$", {"aliases": ["wk"], "state": "absent"},
                           lambda key: key["dualAuthDelete"]["keySetForDeletion"]),
    "delete": ("DELETE", "^/api/v2/keys/[^/]+$", {"aliases": ["wk"], "state": "absent"}, lambda key: key["state"] == 5),
}


@pytest.mark.parametrize("lost_name", sorted(LOST))
@pytest.mark.parametrize("write_name", sorted(WRITES))
def test_lost_or_failed_writes_are_never_applied_twice(run_module, hsc, write_name, lost_name):
    method, path, params, check = WRITES[write_name]
    dual = write_name == "dual auth approval"
    failed, created = run_module(hs_crypto_key.main, hsc.args(name="w-key", aliases=["wk"], dual_auth_delete=dual))
    assert not failed, created.get("msg")
    fault(hsc, service="kms", method=method, path=path, **LOST[lost_name])
    failed, result = run_module(hs_crypto_key.main, hsc.args(**params))
    assert not failed, result.get("msg")
    keys = kms_keys(hsc)
    assert len(keys) == 1 and check(keys[0])
    assert hsc.control("GET", "counters")["faults"] == 1
    failed, again = run_module(hs_crypto_key.main, hsc.args(**params))
    assert not failed and (not again["changed"] or write_name == "dual auth approval")


def test_lost_restore_answer(run_module, hsc):
    run_module(hs_crypto_key.main, hsc.args(name="r-key", aliases=["rk"]))
    run_module(hs_crypto_key.main, hsc.args(aliases=["rk"], state="absent"))
    hsc.control("POST", "clock", json={"advance": 60})
    fault(hsc, service="kms", method="POST", path="/restore$", drop=True, after=True)
    failed, result = run_module(hs_crypto_key.main, hsc.args(aliases=["rk"], state="restored"))
    assert not failed, result.get("msg")
    assert result["key"]["state"] == "active"


def test_failures_at_random_converge(run_module, hsc):
    """A batch run with 10 % of KMS requests failing (fixed seed) converges within a few runs, exactly."""
    declared = [{"name": "rnd-%02d" % i, "aliases": ["rnd-%02d" % i], "rotation": {"interval_month": 1 + i % 12}} for i in range(40)]
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "status": 503, "rate": 0.1, "seed": 11},
                                                  {"service": "kms", "drop": True, "after": True, "rate": 0.03, "seed": 12}]})
    runs = 0
    while True:
        runs += 1
        failed, result = run_module(hs_crypto_key_batch.main, hsc.args(crypto_keys=declared, retries=0))
        if not failed and not result["changed"]:
            break
        assert runs < 10, "did not converge"
    hsc.control("DELETE", "faults")
    keys = kms_keys(hsc)
    assert sorted(k["name"] for k in keys) == sorted(d["name"] for d in declared)
    assert all(k["rotation"]["interval_month"] == 1 + int(k["name"][4:]) % 12 for k in keys)


def test_token_expiring_mid_run_is_renewed(run_module, hsc):
    hsc.control("POST", "config", json={"token_lifetime": 3})
    try:
        token = hsc.token()  # valid for 3 s, like the token a role published earlier
        declared = [{"name": "long-%02d" % i, "aliases": ["long-%02d" % i]} for i in range(30)]
        hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "delay": 0.15, "times": 30}]})
        mark = hsc.mark()
        failed, result = run_module(hs_crypto_key_batch.main, hsc.args(crypto_keys=declared, token=False, iam_token=token, concurrency=1))
        assert not failed, result.get("msg")
        assert result["summary"]["created"] == 30
        assert len(hsc.requests_since(mark, service="iam")) >= 1  # renewed with the API key
        hsc.forget_tokens()  # the test's own token expired too
        assert len(kms_keys(hsc)) == 30
    finally:
        hsc.control("POST", "config", json={"token_lifetime": 3600})
        hsc.forget_tokens()


def test_a_service_that_never_answers_fails_within_the_timeout(run_module, hsc, waits):
    """The module gives up when its timeout is spent, retries included, instead of waiting for the answer. Proved by
    what the emulator saw, not by a stopwatch (a busy machine stops a stopwatch): every GET is held back for 60 s (a
    module that waited would get the 404 of the lookup and fail otherwise), and exactly one request reached it."""
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "GET", "delay": 60}]})  # every GET
    failed, result = run_module(hs_crypto_key.main, hsc.args(aliases=["anything"], timeout=1))
    assert failed
    assert "no answer within the timeout of 1.0 s" in result["msg"]
    assert "after 1 attempt(s)" in result["msg"]
    assert [rule["applied"] for rule in hsc.control("GET", "faults")["rules"]] == [1]  # no second attempt was sent
    assert waits.waits == []  # nor a pause before one asked for
