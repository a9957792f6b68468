# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_batch with concurrency against the in-process emulator: what the emulator saw, every guarantee kept."""

import datetime

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils import _transport as transport_module
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_batch import KeyIndex, parse_specs, same_lane
from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_batch import main

CREATE = {"service": "kms", "method": "POST", "path": "^/api/v2/keys$"}


@pytest.fixture
def run(run_module, hsc):
    def go(crypto_keys, check_mode=False, **params):
        return run_module(main, hsc.args(crypto_keys=crypto_keys, **params), check_mode=check_mode)
    return go


def declared(n, prefix="key"):
    return [{"name": "%s-%03d" % (prefix, i), "aliases": ["%s-alias-%03d" % (prefix, i)]} for i in range(n)]


def most_in_flight(entries):
    """The most requests the emulator was serving at one moment, from its log (start time and duration of each)."""
    edges = []
    for entry in entries:
        start = datetime.datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
        edges += [(start, 1), (start + entry["duration_ms"] / 1000.0, -1)]
    most = now = 0
    for _moment, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        now += step
        most = max(most, now)
    return most


def live_keys(hsc):
    return hsc.kms("GET", "keys", params={"limit": 5000}).json().get("resources", [])


def test_creates_go_side_by_side_and_results_keep_the_declared_order(run, hsc):
    hsc.control("POST", "faults", json={"rules": [dict(CREATE, delay=0.2)]})  # a network-like round trip
    mark = hsc.mark()
    failed, result = run(declared(24), concurrency=8)
    assert not failed, result.get("msg")
    assert [r["item"] for r in result["results"]] == ["key-alias-%03d" % i for i in range(24)]
    assert all(r["actions"] == ["create"] for r in result["results"])
    creates = [e for e in hsc.requests_since(mark) if e["route"] == "POST /api/v2/keys"]
    assert len(creates) == 24 and most_in_flight(creates) > 1
    assert sorted(k["name"] for k in live_keys(hsc)) == ["key-%03d" % i for i in range(24)]
    # The listing came before every write, the twin check after every create.
    routes = [e["route"] for e in hsc.requests_since(mark)]
    assert routes[0] == "GET /api/v2/keys" and routes[-1] == "GET /api/v2/keys" and routes.count("GET /api/v2/keys") == 2


def test_concurrency_one_sends_one_request_at_a_time(run, hsc):
    hsc.control("POST", "faults", json={"rules": [dict(CREATE, delay=0.05)]})
    mark = hsc.mark()
    failed, result = run(declared(6), concurrency=1)
    assert not failed, result.get("msg")
    assert most_in_flight(hsc.requests_since(mark)) == 1


def test_check_mode_is_sequential_and_writes_nothing(run, hsc):
    run(declared(4))
    mark = hsc.mark()
    wanted = declared(8)
    for entry in wanted:
        entry["description"] = None
    wanted[0]["enabled"] = False
    failed, result = run(wanted, check_mode=True, concurrency=8)
    assert not failed and result["changed"]
    assert [r["actions"] for r in result["results"]] == [["disable"]] + [[]] * 3 + [["create"]] * 4
    entries = hsc.requests_since(mark)
    assert [e for e in entries if e["write"]] == [] and most_in_flight(entries) == 1


def test_lost_answers_under_concurrency_leave_no_duplicate(run, hsc):
    """Six creates are made but their answers lost (HTTP 500 after the key exists): each worker reads back, none re-sends."""
    hsc.control("POST", "faults", json={"rules": [dict(CREATE, status=500, after=True, times=6)]})
    failed, result = run(declared(16), concurrency=8)
    assert not failed, result.get("msg")
    assert all(r["actions"] == ["create"] for r in result["results"])
    names = [k["name"] for k in live_keys(hsc)]
    assert sorted(names) == ["key-%03d" % i for i in range(16)]  # 16 keys, no twin


def test_failures_are_reported_per_key_in_place(run, hsc):
    run([{"name": "fixed-%d" % i, "aliases": ["fixed-%d" % i], "description": "original"} for i in range(3)])
    wanted = declared(9)
    for i in (1, 4, 7):
        wanted[i] = {"name": "fixed-%d" % (i // 3), "aliases": ["fixed-%d" % (i // 3)], "description": "changed"}
    failed, result = run(wanted, concurrency=8)
    assert failed and result["msg"].startswith("3 of 9 keys failed: fixed-0: ")
    assert [r["failed"] for r in result["results"]] == [i in (1, 4, 7) for i in range(9)]
    assert result["summary"] == {"total": 9, "changed": 6, "unchanged": 0, "failed": 3, "created": 6, "deleted": 0}


def test_a_rate_limited_instance_converges_with_every_worker_slowed(run, hsc, monkeypatch):
    """The emulator answers 429 with Retry-After past 20 requests a second (burst 5): no key fails, no key is doubled,
    and the 429s stay few, because one 429 pauses every worker and halves the requests in flight."""
    monkeypatch.setattr(transport_module, "time", __import__("time"))  # the pauses are slept for real here
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "status": 429, "per_second": 20, "burst": 5}]})
    mark = hsc.mark()
    failed, result = run(declared(30), concurrency=8)
    assert not failed, result.get("msg")
    assert sorted(k["name"] for k in live_keys(hsc)) == ["key-%03d" % i for i in range(30)]
    entries = hsc.requests_since(mark)
    throttled = [e for e in entries if e["status"] == 429]
    assert throttled and len(throttled) < len(entries) // 2


def test_deletes_go_side_by_side_too(run, hsc):
    run(declared(12))
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "DELETE", "delay": 0.2}]})
    mark = hsc.mark()
    failed, result = run([dict(entry, state="absent") for entry in declared(12)], concurrency=6)
    assert not failed, result.get("msg")
    assert result["summary"]["deleted"] == 12 and live_keys(hsc) == []
    deletes = [e for e in hsc.requests_since(mark) if e["method"] == "DELETE"]
    assert len(deletes) == 12 and most_in_flight(deletes) > 1


def test_entries_that_could_meet_one_key_share_a_lane():
    """parse_specs cannot see the instance: an alias held by a key whose name another entry gives puts both in one lane."""
    k1, k2 = "0f4a8a2e-1111-4c3d-9e8f-000000000001", "0f4a8a2e-1111-4c3d-9e8f-000000000002"
    index = KeyIndex([{"id": k1, "name": "payments", "aliases": ["old-alias"], "state": 1},
                      {"id": k2, "name": "other", "aliases": [], "state": 1}])
    specs = parse_specs([{"aliases": ["old-alias"], "description": "renamed"}, {"name": "payments"}, {"name": "other"},
                         {"key_id": k2}, {"name": "fresh", "aliases": ["fresh"]}])
    lane = same_lane(specs, index)
    assert lane(0) == lane(1)  # both resolve to k1
    assert lane(2) == lane(3)  # k2 by name and by id
    assert len({lane(0), lane(2), lane(4)}) == 3


# -- the other modules that work on many keys ------------------------------------------------------------------------------

def root_keys(hsc, n, prefix):
    made = []
    for i in range(n):
        body = {"metadata": {"collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 1},
                "resources": [{"type": "application/vnd.ibm.kms.key+json", "name": "%s-%02d" % (prefix, i),
                               "aliases": ["%s-%02d" % (prefix, i)], "extractable": False}]}
        response = hsc.kms("POST", "keys", json=body)
        assert response.status_code == 201, response.text
        made.append(response.json()["resources"][0])
    return made


def test_bulk_rotation_sends_rotations_side_by_side_and_decides_in_order(run_module, hsc):
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key_rotate  # pylint: disable=import-outside-toplevel
    keys = root_keys(hsc, 10, "spin")
    items = ["spin-%02d" % i for i in range(10)] + [keys[0]["id"]]  # the first key named twice: rotated once, by its first item
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "/actions/rotate$", "delay": 0.2}]})
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key_rotate.main, hsc.args(crypto_keys=items, concurrency=5))
    assert not failed, result.get("msg")
    assert [e["item"] for e in result["results"]] == items
    assert [e["changed"] for e in result["results"]] == [True] * 10 + [False]
    assert result["results"][-1]["reason"] == "already_rotated" and "(item spin-00)" in result["results"][-1]["msg"]
    rotations = [e for e in hsc.requests_since(mark) if e["route"].endswith("/actions/<action>") or "rotate" in e["path"]]
    assert len(rotations) == 10 and most_in_flight(rotations) > 1
    assert result["summary"] == {"total": 11, "rotated": 10, "skipped": 1, "failed": 0}


def test_compliance_reads_policies_side_by_side_with_the_same_findings(run_module, hsc):
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_compliance_info  # pylint: disable=import-outside-toplevel
    root_keys(hsc, 12, "audit")
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "GET", "path": "^/api/v2/keys/[^/]+/policies$",
                                                   "delay": 0.1}]})
    figures = {}
    for concurrency in (1, 8):
        mark = hsc.mark()
        failed, result = run_module(hs_crypto_compliance_info.main, hsc.args(service="hs_crypto", concurrency=concurrency))
        assert not failed, result.get("msg")
        reads = [e for e in hsc.requests_since(mark) if e["route"] == "GET /api/v2/keys/<key_id>/policies"]
        assert len(reads) == 12 and not any(e["write"] for e in hsc.requests_since(mark))
        figures[concurrency] = (most_in_flight(reads), result["findings"], result["summary"])
    assert figures[1][0] == 1 and figures[8][0] > 1
    assert figures[1][1:] == figures[8][1:]
