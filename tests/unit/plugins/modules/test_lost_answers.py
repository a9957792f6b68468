# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 11, lost answers: every write kind meets a lost answer (applied, or not applied) and a failed read-back.

The one safe-write path must: send once; on a lost answer read back (with retries of its own: a failed read is not a
lost write); re-send only when the change is certainly absent; and end with the change made exactly once. ``retries=0``
leaves the transport no retries, so the read-back's own retries are what is tested.
"""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key, hs_crypto_key_batch, hs_crypto_key_ring, hs_crypto_key_rotate

KEY_MEDIA = "application/vnd.ibm.kms.key+json"
UUID_PATH = "^/api/v2/keys/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
KEY_PATH = "^/api/v2/keys/[0-9a-f-]{36}"


def key_named(hsc, alias):
    return hsc.kms("GET", f"keys/{alias}").json()["resources"][0]


def dual_auth_key(hsc, alias):
    hsc.make_key(name=alias, aliases=[alias])
    policy = {"metadata": {"collectionType": "application/vnd.ibm.kms.policy+json", "collectionTotal": 1},
              "resources": [{"type": "application/vnd.ibm.kms.policy+json", "dualAuthDelete": {"enabled": True}}]}
    assert hsc.kms("PUT", f"keys/{alias}/policies", params={"policy": "dualAuthDelete"}, json=policy).status_code == 200


def deleted_key(hsc, alias, hours=0.0):
    hsc.make_key(name=alias, aliases=[alias])
    assert hsc.kms("DELETE", f"keys/{alias}").status_code in (200, 204)
    hsc.control("POST", "clock", json={"advance": 60 + hours * 3600})
    hsc.forget_tokens()  # the emulator's clock moved past the test's token


# name: (setup, module, task, written request (method, path regex), what the service holds afterwards)
CASES = {
    "create": (None, hs_crypto_key, {"name": "w-create", "aliases": ["w-create"]}, ("POST", "^/api/v2/keys$"),
               lambda hsc: key_named(hsc, "w-create")["name"] == "w-create"),
    "create with policies": (None, hs_crypto_key, {"name": "w-pol", "aliases": ["w-pol"], "rotation": {"interval_month": 2}},
                             ("POST", "keys_with_policy_overrides$"), lambda hsc: key_named(hsc, "w-pol")["rotation"]["interval_month"] == 2),
    "add alias": (lambda hsc: hsc.make_key(name="w-add", aliases=["w-add"]), hs_crypto_key, {"aliases": ["w-add", "w-add-2"]},
                  ("POST", "/aliases/"), lambda hsc: key_named(hsc, "w-add-2")["name"] == "w-add"),
    "remove alias": (lambda hsc: hsc.make_key(name="w-rm", aliases=["w-rm", "w-rm-2"]), hs_crypto_key,
                     {"aliases": ["w-rm"], "purge_aliases": True}, ("DELETE", "/aliases/"),
                     lambda hsc: key_named(hsc, "w-rm")["aliases"] == ["w-rm"]),
    "move key ring": (lambda hsc: (hsc.make_key(name="w-move", aliases=["w-move"]), hsc.kms("POST", "key_rings/ring-w")), hs_crypto_key,
                      {"aliases": ["w-move"], "key_ring": "ring-w"}, ("PATCH", UUID_PATH),
                      lambda hsc: key_named(hsc, "w-move")["keyRingID"] == "ring-w"),
    "rotation policy": (lambda hsc: hsc.make_key(name="w-rot", aliases=["w-rot"]), hs_crypto_key,
                        {"aliases": ["w-rot"], "rotation": {"interval_month": 4}}, ("PUT", "/policies$"),
                        lambda hsc: key_named(hsc, "w-rot")["rotation"]["interval_month"] == 4),
    "dual auth policy": (lambda hsc: hsc.make_key(name="w-dual", aliases=["w-dual"]), hs_crypto_key,
                         {"aliases": ["w-dual"], "dual_auth_delete": True}, ("PUT", "/policies$"),
                         lambda hsc: key_named(hsc, "w-dual")["dualAuthDelete"]["enabled"] is True),
    "disable": (lambda hsc: hsc.make_key(name="w-off", aliases=["w-off"]), hs_crypto_key, {"aliases": ["w-off"], "enabled": False},
                ("POST", "/actions/disable$"), lambda hsc: key_named(hsc, "w-off")["state"] == 2),
    "enable": (lambda hsc: (hsc.make_key(name="w-on", aliases=["w-on"]), hsc.kms("POST", "keys/w-on/actions/disable")), hs_crypto_key,
               {"aliases": ["w-on"], "enabled": True}, ("POST", "/actions/enable$"), lambda hsc: key_named(hsc, "w-on")["state"] == 1),
    "delete": (lambda hsc: hsc.make_key(name="w-del", aliases=["w-del"]), hs_crypto_key, {"aliases": ["w-del"], "state": "absent"},
               ("DELETE", UUID_PATH), lambda hsc: key_named(hsc, "w-del")["state"] == 5),
    "approve deletion": (lambda hsc: dual_auth_key(hsc, "w-appr"), hs_crypto_key, {"aliases": ["w-appr"], "state": "absent"},
                         ("POST", "/actions/setKeyForDeletion$"), lambda hsc: key_named(hsc, "w-appr")["dualAuthDelete"]["keySetForDeletion"]),
    "restore": (lambda hsc: deleted_key(hsc, "w-res"), hs_crypto_key, {"aliases": ["w-res"], "state": "restored"},
                ("POST", "/restore$"), lambda hsc: key_named(hsc, "w-res")["state"] == 1),
    "purge": (lambda hsc: deleted_key(hsc, "w-purge", hours=5), hs_crypto_key, {"aliases": ["w-purge"], "state": "purged"},
              ("DELETE", "/purge$"), lambda hsc: hsc.kms("GET", "keys/w-purge").status_code == 404),
    "rotate": (lambda hsc: hsc.make_key(name="w-rotate", aliases=["w-rotate"]), hs_crypto_key_rotate, {"alias": "w-rotate"},
               ("POST", "/actions/rotate$"), lambda hsc: key_named(hsc, "w-rotate").get("lastRotateDate")),
    "batch create": (None, hs_crypto_key_batch, {"crypto_keys": [{"name": "w-batch", "aliases": ["w-batch"]}]}, ("POST", "^/api/v2/keys$"),
                     lambda hsc: key_named(hsc, "w-batch")["name"] == "w-batch"),
    "batch create by name": (None, hs_crypto_key_batch, {"crypto_keys": [{"name": "w-batch-name"}]}, ("POST", "^/api/v2/keys$"),
                             lambda hsc: [k["name"] for k in hsc.kms("GET", "keys").json()["resources"]] == ["w-batch-name"]),
}
READ_BACK = {
    # the read that tells whether a lost write was made (and reads the key after it)
    "create": ("GET", "^/api/v2/keys/w-create$"), "create with policies": ("GET", "^/api/v2/keys/w-pol$"),
    "batch create": ("GET", "^/api/v2/keys/w-batch$"), "batch create by name": ("GET", "^/api/v2/keys$"),
}


def writes_to(hsc, mark, method, path):
    import re
    return [e for e in hsc.requests_since(mark) if e["method"] == method and re.search(path, e["path"])]


@pytest.mark.parametrize("applied", [True, False], ids=["answer lost after the change", "connection lost before it"])
@pytest.mark.parametrize("read_back_fails", [False, True], ids=["read-back ok", "read-back fails once"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_write_kind_survives_a_lost_answer(run_module, hsc, case, applied, read_back_fails):
    setup, module, task, (method, path), holds = CASES[case]
    if setup:
        setup(hsc)
    args = hsc.args(retries=0, **task)
    rules = [{"service": "kms", "method": method, "path": path, "drop": True, "after": applied, "times": 1}]
    if read_back_fails:
        read_method, read_path = READ_BACK.get(case, ("GET", UUID_PATH))
        # the lookups before the write are let through: the read after the lost answer fails
        skip = 1 if case == "batch create by name" else 0
        if case in ("create", "create with policies", "batch create"):
            skip = 1 if case != "batch create" else 0
        rules.append({"service": "kms", "method": read_method, "path": read_path, "status": 503, "times": 1, "skip": skip})
    hsc.control("POST", "faults", json={"rules": rules})
    mark = hsc.mark()
    failed, result = run_module(module.main, args)
    assert not failed, result.get("msg")
    assert result["changed"]
    assert holds(hsc)
    sent = writes_to(hsc, mark, method, path)
    # sent once when the lost answer hid a change that was made; twice (never more) when it was not made
    assert len(sent) == (1 if applied else 2), [e["path"] for e in sent]
    # every rule fired once (read per rule: a request of an earlier test still in flight cannot count here)
    assert [rule["applied"] for rule in hsc.control("GET", "faults")["rules"]] == [1] * len(rules)


def test_key_ring_create_survives_a_lost_answer(run_module, hsc):
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "^/api/v2/key_rings/", "drop": True,
                                                   "after": True, "times": 1}]})
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key_ring.main, hsc.args(retries=0, key_ring_id="ring-lost"))
    assert not failed and result["changed"] and result["key_ring"]["id"] == "ring-lost"
    assert len(writes_to(hsc, mark, "POST", "^/api/v2/key_rings/")) == 1


def test_read_back_that_keeps_failing_is_not_a_lost_write(run_module, hsc):
    """The answer to a create is lost and every read-back fails: the create is not sent again; the failure says the
    change may have been made and reports it (changed), and the next run finds the key."""
    hsc.control("POST", "faults", json={"rules": [
        {"service": "kms", "method": "POST", "path": "^/api/v2/keys$", "drop": True, "after": True, "times": 1},
        {"service": "kms", "method": "GET", "path": "^/api/v2/keys/w-unknown$", "status": 503, "skip": 1, "times": 5}]})
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key.main, hsc.args(retries=0, name="w-unknown", aliases=["w-unknown"]))
    assert failed and "may have been made" in result["msg"]
    assert len(writes_to(hsc, mark, "POST", "^/api/v2/keys$")) == 1
    hsc.control("DELETE", "faults")
    failed, again = run_module(hs_crypto_key.main, hsc.args(name="w-unknown", aliases=["w-unknown"]))
    assert not failed and not again["changed"]


def test_failure_after_some_steps_reports_the_changes(run_module, hsc):
    """Step 2 of an update fails (a 4xx: certainly not made): the task fails with changed=true and the actions done."""
    hsc.make_key(name="w-steps", aliases=["w-steps"])
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "PUT", "path": "/policies$", "status": 400, "times": 1}]})
    failed, result = run_module(hs_crypto_key.main, hsc.args(aliases=["w-steps", "w-steps-2"], rotation={"interval_month": 3}))
    assert failed
    assert result["changed"] is True and result["actions"] == ["add_alias:w-steps-2"]


def test_create_answer_without_the_key_and_an_odd_read_back(run_module, hsc):
    """The create's answer holds no key, and the first read-back answers a key without an id (a malformed answer): the
    module reads again, never crashes (it used to fail with 'Unexpected error (TypeError)'), never creates twice."""
    empty = {"metadata": {"collectionType": KEY_MEDIA, "collectionTotal": 1}, "resources": [{}]}
    odd = {"metadata": {"collectionType": KEY_MEDIA, "collectionTotal": 1}, "resources": [{"name": "w-odd"}]}
    hsc.control("POST", "faults", json={"rules": [
        {"service": "kms", "method": "POST", "path": "^/api/v2/keys$", "status": 201, "body": empty, "after": True, "times": 1},
        {"service": "kms", "method": "GET", "path": "^/api/v2/keys/w-odd$", "status": 200, "body": odd, "skip": 1, "times": 1}]})
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key.main, hsc.args(retries=0, name="w-odd", aliases=["w-odd"]))
    assert not failed, result.get("msg")
    assert result["changed"] and result["key"]["id"] and result["key"]["name"] == "w-odd"
    assert len(writes_to(hsc, mark, "POST", "^/api/v2/keys$")) == 1


def test_create_answer_without_the_key_and_a_read_back_that_misses_by_name(run_module, hsc):
    """A name-only key whose create answer holds no key: a transient 5xx on the read-back is not a lost create, and no
    second POST goes out."""
    empty = {"metadata": {"collectionType": KEY_MEDIA, "collectionTotal": 1}, "resources": [{}]}
    hsc.control("POST", "faults", json={"rules": [
        {"service": "kms", "method": "POST", "path": "^/api/v2/keys$", "status": 201, "body": empty, "after": True, "times": 1},
        {"service": "kms", "method": "GET", "path": "^/api/v2/keys$", "status": 503, "skip": 1, "times": 1}]})
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key.main, hsc.args(retries=0, name="w-name-only"))
    assert not failed, result.get("msg")
    assert result["changed"] and result["key"]["name"] == "w-name-only"
    assert len(writes_to(hsc, mark, "POST", "^/api/v2/keys$")) == 1


def test_instance_policy_failure_after_a_write_reports_it(run_module, hsc):
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_instance_policy
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "PUT", "path": "instance/policies", "status": 400,
                                                   "skip": 1, "times": 1}]})
    failed, result = run_module(hs_crypto_instance_policy.main, hsc.args(dual_auth_delete=True, metrics=True))
    assert failed and result["changed"] is True and len(result["actions"]) == 1


def test_instance_policy_lost_answer_is_not_sent_twice(run_module, hsc):
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_instance_policy
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "PUT", "path": "instance/policies", "drop": True,
                                                   "after": True, "times": 1}]})
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_instance_policy.main, hsc.args(retries=0, metrics=True))
    assert not failed and result["changed"], result.get("msg")
    assert len(writes_to(hsc, mark, "PUT", "instance/policies")) == 1


def test_import_token_retrieval_failure_after_the_create_reports_it(run_module, hsc):
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_import_token
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "GET", "path": "import_token", "status": 400, "times": 1}]})
    failed, result = run_module(hs_crypto_import_token.main, hsc.args(state="present", retrieve=True))
    assert failed and result["changed"] is True and result["created"] is True


@pytest.mark.parametrize("case", ["remove alias", "delete"])
def test_transport_retry_after_a_lost_answer_meets_the_change_made(run_module, hsc, case):
    """Found by the chaos run: with transport retries on (the default), an idempotent write (DELETE) whose answer was
    lost is re-sent by the transport and meets the change the first send made (404 alias not found, 410 deleted); the
    safe writer reads the key and counts the change as made instead of failing the task."""
    setup, module, task, (method, path), holds = CASES[case]
    setup(hsc)
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": method, "path": path, "status": 500, "after": True,
                                                   "times": 1}]})
    failed, result = run_module(module.main, hsc.args(**task))
    assert not failed, result.get("msg")
    assert result["changed"] and holds(hsc)
