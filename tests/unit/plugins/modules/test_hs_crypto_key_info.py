# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_info's compliance filters against the in-process emulator: expiring_within_days, rotated_before_days,
without_rotation_policy, their server-side filter terms, the service's time, request counts, bad input."""

import datetime
from urllib.parse import parse_qs

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_info import ServiceClock, header_date, KeyQuery
from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_info import main

KEY_TYPE = "application/vnd.ibm.kms.key+json"
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
DAY = 86400
UTC = datetime.timezone.utc


@pytest.fixture
def info(run_module, hsc):
    def go(check_mode=False, **params):
        return run_module(main, hsc.args(**params), check_mode=check_mode)
    return go


def service_now(hsc):
    return datetime.datetime.strptime(hsc.control("GET", "clock")["now"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def rfc3339(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def move_clock(hsc, seconds):
    """Move the emulator's clock; tokens are dated by it, so the cached ones are dropped (new ones are issued at the new time)."""
    hsc.control("POST", "clock", json={"advance": seconds})
    hsc.forget_tokens()


def at(hsc, days_ago, action):
    """Run ``action()`` with the emulator's clock ``days_ago`` days back, then move the clock back to where it was."""
    if days_ago:
        move_clock(hsc, -days_ago * DAY)
    try:
        return action()
    finally:
        if days_ago:
            move_clock(hsc, days_ago * DAY)


def emulator_sends_its_date(hsc):
    """Whether the emulator's answers carry a Date header from its movable clock (not the host's)."""
    response = hsc.kms("HEAD", "keys")
    sent = header_date(response.headers)
    return sent is not None and abs((sent - service_now(hsc)).total_seconds()) < 60


def new_key(hsc, name, created_days_ago=0, rotated_days_ago=None, standard=False, **fields):
    key = at(hsc, created_days_ago, lambda: hsc.make_key(name=name, aliases=[name], extractable=standard, **fields))
    if rotated_days_ago is not None:
        response = at(hsc, rotated_days_ago, lambda: hsc.kms("POST", f"keys/{key['id']}/actions/rotate"))
        assert response.status_code == 204, response.text
    return key


def set_rotation(hsc, key, enabled):
    body = {"metadata": {"collectionType": POLICY_TYPE, "collectionTotal": 1},
            "resources": [{"type": POLICY_TYPE, "rotation": {"enabled": enabled, "interval_month": 3}}]}
    response = hsc.kms("PUT", f"keys/{key['id']}/policies", params={"policy": "rotation"}, json=body)
    assert response.status_code == 200, response.text


def names(result):
    return sorted(k["name"] for k in result["crypto_keys"])


def kms_reads(hsc, mark):
    sent = hsc.requests_since(mark)
    assert not [e for e in sent if e["write"] or e["method"] not in ("GET", "HEAD")]
    return sent


def query_of(entry):
    return parse_qs(entry["query"])


# -- expiring_within_days -----------------------------------------------------------------------------------------------
def test_expiring_within_days_sends_the_filter_and_checks_each_key(info, hsc):
    now = service_now(hsc)
    new_key(hsc, "exp-5", expirationDate=rfc3339(now + datetime.timedelta(days=5)))
    new_key(hsc, "exp-29", expirationDate=rfc3339(now + datetime.timedelta(days=29, hours=23)))
    new_key(hsc, "exp-31", expirationDate=rfc3339(now + datetime.timedelta(days=31)))
    new_key(hsc, "exp-none")
    new_key(hsc, "exp-std-3", standard=True, expirationDate=rfc3339(now + datetime.timedelta(days=3)))
    mark = hsc.mark()
    failed, result = info(expiring_within_days=30)
    assert not failed, result
    assert names(result) == ["exp-29", "exp-5", "exp-std-3"] and result["count"] == 3
    sent = kms_reads(hsc, mark)
    assert [(e["method"], e["route"]) for e in sent] == [("HEAD", "HEAD /api/v2/keys"), ("GET", "GET /api/v2/keys")]
    listing = query_of(sent[1])
    evaluated = datetime.datetime.strptime(result["evaluated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((evaluated - now).total_seconds()) < 60
    bound = rfc3339(evaluated + datetime.timedelta(days=30))
    assert listing["filter"] == [f'expirationDate=lte:"{bound}"']
    # state and extractable travel as their own parameters, never inside filter (the service answers 400 to both)
    assert listing["state"] == ["1,2,3"] and "state=" not in listing["filter"][0]

    failed, roots = info(expiring_within_days=30, type="root", key_states=["active"])
    assert not failed and names(roots) == ["exp-29", "exp-5"]
    failed, zero = info(expiring_within_days=0)
    assert not failed and zero["count"] == 0
    failed, plain = info()
    assert not failed and plain["evaluated_at"] is None and plain["count"] == 5


def test_expired_keys_follow_key_states(info, hsc):
    now = service_now(hsc)
    new_key(hsc, "exp-past", created_days_ago=10, expirationDate=rfc3339(now - datetime.timedelta(days=2)))
    new_key(hsc, "exp-soon", expirationDate=rfc3339(now + datetime.timedelta(days=2)))
    failed, result = info(expiring_within_days=7)
    assert not failed and names(result) == ["exp-past", "exp-soon"]
    assert {k["name"]: k["state"] for k in result["crypto_keys"]} == {"exp-past": "deactivated", "exp-soon": "active"}
    failed, active = info(expiring_within_days=7, key_states=["active"])
    assert not failed and names(active) == ["exp-soon"]


# -- rotated_before_days ------------------------------------------------------------------------------------------------
def test_rotated_before_days_is_exact_with_never_rotated_keys(info, hsc):
    new_key(hsc, "rot-never-100", created_days_ago=100)
    new_key(hsc, "rot-50", created_days_ago=100, rotated_days_ago=50)
    new_key(hsc, "rot-new", created_days_ago=10)
    new_key(hsc, "rot-95", created_days_ago=200, rotated_days_ago=95)
    new_key(hsc, "rot-std-old", created_days_ago=120, standard=True)
    mark = hsc.mark()
    failed, result = info(rotated_before_days=90)
    assert not failed, result
    assert names(result) == ["rot-95", "rot-never-100", "rot-std-old"]
    ids = [k["id"] for k in result["crypto_keys"]]
    assert ids == sorted(ids)  # the two listings merged back in the service's order
    sent = kms_reads(hsc, mark)
    assert [(e["method"], e["route"]) for e in sent] == [
        ("HEAD", "HEAD /api/v2/keys"), ("GET", "GET /api/v2/keys"), ("GET", "GET /api/v2/keys")]
    bound = rfc3339(datetime.datetime.strptime(result["evaluated_at"], "%Y-%m-%dT%H:%M:%SZ") - datetime.timedelta(days=90))
    expected = [[f'lastRotateDate=lt:"{bound}"'], [f'lastRotateDate=none creationDate=lt:"{bound}"']]
    assert [query_of(e)["filter"] for e in sent[1:]] == expected

    failed, forty = info(rotated_before_days=40, type="root")
    assert not failed and names(forty) == ["rot-50", "rot-95", "rot-never-100"]
    failed, both = info(rotated_before_days=40, expiring_within_days=30)
    assert not failed and both["count"] == 0


def test_the_service_time_decides_when_the_clock_moves(info, hsc):
    new_key(hsc, "clock-key")
    failed, before = info(rotated_before_days=300)
    assert not failed and before["count"] == 0
    move_clock(hsc, 400 * DAY)
    if not emulator_sends_its_date(hsc):
        pytest.skip("the emulator's Date header does not follow its movable clock yet (tests/hpcs_emulator/middleware.py)")
    failed, after = info(rotated_before_days=300)
    assert not failed and names(after) == ["clock-key"]
    evaluated = datetime.datetime.strptime(after["evaluated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((evaluated - service_now(hsc)).total_seconds()) < 60  # the Date header of the emulator, not the local clock
    failed, one = info(alias="clock-key", rotated_before_days=300)
    assert not failed and names(one) == ["clock-key"]


# -- without_rotation_policy --------------------------------------------------------------------------------------------
def test_without_rotation_policy_reads_the_policy_of_each_kept_root_key(info, hsc):
    on = new_key(hsc, "pol-on")
    set_rotation(hsc, on, True)
    off = new_key(hsc, "pol-off")
    set_rotation(hsc, off, False)
    new_key(hsc, "pol-none")
    new_key(hsc, "pol-std", standard=True)
    mark = hsc.mark()
    failed, result = info(without_rotation_policy=True)
    assert not failed and names(result) == ["pol-none", "pol-off"] and result["evaluated_at"] is None
    sent = kms_reads(hsc, mark)
    assert query_of(sent[0])["extractable"] == ["false"]  # root keys only, asked of the service
    policy_reads = [e for e in sent if e["route"] == "GET /api/v2/keys/<key_id>/policies"]
    assert len(sent) == 4 and len(policy_reads) == 3 and all(query_of(e)["policy"] == ["rotation"] for e in policy_reads)

    # with include=policies, the policies read for the result serve the filter: one read per key, not two
    mark = hsc.mark()
    failed, detailed = info(without_rotation_policy=True, include=["policies"])
    assert not failed and names(detailed) == ["pol-none", "pol-off"]
    assert [k["policies"] for k in detailed["crypto_keys"] if k["name"] == "pol-none"] == [[]]
    off_policies = [k["policies"] for k in detailed["crypto_keys"] if k["name"] == "pol-off"][0]
    assert off_policies[0]["rotation"]["enabled"] is False and "interval_month" in off_policies[0]["rotation"]
    assert len([e for e in kms_reads(hsc, mark) if "policies" in e["route"]]) == 3

    # the policy is read only for the keys the other options kept
    mark = hsc.mark()
    failed, one = info(without_rotation_policy=True, search="pol-o")
    assert not failed and names(one) == ["pol-off"]
    assert len([e for e in kms_reads(hsc, mark) if "policies" in e["route"]]) == 2


def test_filters_combine_with_and_semantics(info, hsc):
    ring = hsc.kms("POST", "key_rings/audit")
    assert ring.status_code == 201, ring.text
    new_key(hsc, "and-old-ring", created_days_ago=100)
    old_in_ring = at(hsc, 100, lambda: hsc.kms("POST", "keys", headers={"X-Kms-Key-Ring": "audit"}, json={
        "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
        "resources": [{"type": KEY_TYPE, "name": "and-in-ring", "extractable": False}]}))
    assert old_in_ring.status_code == 201
    with_policy = at(hsc, 100, lambda: hsc.kms("POST", "keys", headers={"X-Kms-Key-Ring": "audit"}, json={
        "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
        "resources": [{"type": KEY_TYPE, "name": "and-in-ring-policy", "extractable": False}]})).json()["resources"][0]
    set_rotation(hsc, with_policy, True)
    new_key(hsc, "and-new")
    failed, result = info(key_ring="audit", rotated_before_days=30, without_rotation_policy=True)
    assert not failed and names(result) == ["and-in-ring"]
    failed, by_name = info(name="and-old-ring", rotated_before_days=30)
    assert not failed and names(by_name) == ["and-old-ring"]
    failed, by_name_new = info(name="and-new", rotated_before_days=30)
    assert not failed and by_name_new["count"] == 0


def test_one_key_by_alias_is_checked_without_more_requests(info, hsc):
    now = service_now(hsc)
    new_key(hsc, "single", created_days_ago=60, expirationDate=rfc3339(now + datetime.timedelta(days=10)))
    mark = hsc.mark()
    failed, hit = info(alias="single", expiring_within_days=15, rotated_before_days=30)
    assert not failed and names(hit) == ["single"]
    assert [e["route"] for e in kms_reads(hsc, mark)] == ["GET /api/v2/keys/<key_id>"]
    failed, miss = info(alias="single", expiring_within_days=5)
    assert not failed and miss["count"] == 0 and miss["crypto_keys"] == []


def test_check_mode_is_the_same_read(info, hsc):
    new_key(hsc, "cm-old", created_days_ago=40)
    mark = hsc.mark()
    failed, result = info(check_mode=True, rotated_before_days=30, without_rotation_policy=True)
    assert not failed and not result["changed"] and names(result) == ["cm-old"]
    assert [e for e in hsc.requests_since(mark) if e["write"]] == []


# -- bad input: refused before any request ------------------------------------------------------------------------------
@pytest.mark.parametrize("params, words", [
    ({"expiring_within_days": -1}, ["expiring_within_days", "0 to 36500"]),
    ({"expiring_within_days": 36501}, ["expiring_within_days", "0 to 36500"]),
    ({"rotated_before_days": -5}, ["rotated_before_days", "0 to 36500"]),
    ({"rotated_before_days": 10 ** 9}, ["rotated_before_days", "0 to 36500"]),
    ({"rotated_before_days": "soon"}, ["rotated_before_days", "int"]),
    ({"without_rotation_policy": "maybe"}, ["without_rotation_policy", "bool"]),
    ({"without_rotation_policy": True, "type": "standard"}, ["without_rotation_policy", "type=standard"]),
], ids=["expiring-negative", "expiring-huge", "rotated-negative", "rotated-huge", "rotated-word", "policy-word", "policy-standard"])
def test_bad_values_are_refused_before_any_request(info, hsc, params, words):
    hsc.token()  # the test's own token, fetched before the mark
    mark = hsc.mark()
    failed, result = info(**params)
    assert failed and all(word in result["msg"] for word in words), result["msg"]
    assert hsc.requests_since(mark, service=None) == []


# -- the service's time, without the emulator ---------------------------------------------------------------------------
def test_header_date_and_the_local_fallback():
    assert header_date({"Date": "Wed, 01 Apr 2026 02:00:00 GMT"}) == datetime.datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    assert header_date({"date": "Wednesday, 01-Apr-26 02:00:00 GMT"}) == datetime.datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    for bad in (None, {}, {"Date": ""}, {"Date": "yesterday"}, {"Date": 5}):
        assert header_date(bad) is None

    class Answer:
        def __init__(self, headers):
            self.headers = headers

    local = datetime.datetime(2030, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)
    clock = ServiceClock(local=lambda: local)
    clock.observe(Answer({"Content-Type": "application/json"}))
    assert clock.source == "local" and clock.now() == local
    clock.observe(Answer({"Date": "Wed, 01 Apr 2026 02:00:00 GMT"}))
    assert clock.source == "service" and clock.fix() == datetime.datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    clock.observe(Answer({"Date": "Thu, 02 Apr 2026 02:00:00 GMT"}))
    assert clock.fix() == datetime.datetime(2026, 4, 1, 2, 0, tzinfo=UTC)  # one evaluation, one time


def test_the_filter_terms():
    now = datetime.datetime(2026, 4, 1, 2, 0, 0, tzinfo=UTC)
    assert KeyQuery().filters(now) == [None]
    assert KeyQuery(expiring_within_days=30).filters(now) == ['expirationDate=lte:"2026-05-01T02:00:00Z"']
    assert KeyQuery(expiring_within_days=1, rotated_before_days=90).filters(now) == [
        'expirationDate=lte:"2026-04-02T02:00:00Z" lastRotateDate=lt:"2026-01-01T02:00:00Z"',
        'expirationDate=lte:"2026-04-02T02:00:00Z" lastRotateDate=none creationDate=lt:"2026-01-01T02:00:00Z"']
    query = KeyQuery(rotated_before_days=90)
    assert query.dates_accept({"creationDate": "2025-12-31T02:00:00Z"}, now)
    assert not query.dates_accept({"creationDate": "2026-01-01T02:00:00Z"}, now)  # exactly 90 days: not before
    assert not query.dates_accept({"creationDate": "2025-01-01T00:00:00Z", "lastRotateDate": "2026-03-01T00:00:00Z"}, now)
    assert not query.dates_accept({}, now)
