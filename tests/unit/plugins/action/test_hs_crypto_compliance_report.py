# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The hs_crypto_compliance_report action: the registered results of the play's hosts, read as stored, rendered into
the three reports, written only when they change, nothing in check mode."""

import json
import os
import stat
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.playbook.task import Task

from ansible_collections.ibm.hs_crypto.plugins.action.hs_crypto_compliance_report import ActionModule, file_mode, play_results
from ansible_collections.ibm.hs_crypto.plugins.plugin_utils._compliance_report import render_html, render_junit

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "compliance_results.json")


@pytest.fixture(name="results")
def fixture_results():
    with open(FIXTURE, encoding="utf-8") as handle:
        return json.load(handle)


class FakeHostVars(dict):
    """hostvars as the action sees them: ``raw_get`` gives a host's variables untemplated; item access would template
    (and must not be used: a template over the results of a large estate is what the action avoids)."""

    def raw_get(self, host):
        return dict.__getitem__(self, host)

    def __getitem__(self, host):
        raise AssertionError("hostvars[host] templates the results; the action reads them with raw_get")

    def get(self, host, default=None):
        raise AssertionError("hostvars.get templates the results; the action reads them with raw_get")


def play(results, extra=None):
    hosts = [f"host{index}" for index in range(len(results))] + list(extra or {})
    hostvars = FakeHostVars({f"host{index}": {"hs_crypto_compliance_result": dict(result, failed=False, changed=False)}
                             for index, result in enumerate(results)})
    hostvars.update(extra or {})
    return {"hostvars": hostvars, "ansible_play_hosts": hosts}


def run_action(args, task_vars, check_mode=False):
    task = MagicMock(Task)
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars=task_vars)


def test_writes_the_three_reports_of_the_play_from_the_registered_results(results, tmp_path):
    task_vars = play(results)
    answer = run_action({"dest": str(tmp_path)}, task_vars)
    assert answer["changed"] is True
    assert [item["format"] for item in answer["files"]] == ["json", "html", "junit"]
    assert [os.path.basename(item["path"]) for item in answer["files"]] == ["compliance.json", "compliance.html", "compliance.junit.xml"]
    written = json.loads((tmp_path / "compliance.json").read_text(encoding="utf-8"))
    assert [entry["instance"] for entry in written] == [result["instance"] for result in results]
    assert (tmp_path / "compliance.html").read_text(encoding="utf-8") == render_html(results)
    assert (tmp_path / "compliance.junit.xml").read_text(encoding="utf-8") == render_junit(results)
    for item in answer["files"]:
        assert item["bytes"] == os.path.getsize(item["path"])
        assert stat.S_IMODE(os.stat(item["path"]).st_mode) == 0o600
    assert answer["totals"]["instances"] == len(results)
    assert answer["totals"]["findings"] == sum(1 for result in results for finding in result["findings"] if not finding["waived"])


def test_a_second_run_over_the_same_results_changes_nothing(results, tmp_path):
    run_action({"dest": str(tmp_path)}, play(results))
    before = {name: os.stat(tmp_path / name).st_mtime_ns for name in os.listdir(tmp_path)}
    answer = run_action({"dest": str(tmp_path)}, play(results))
    assert answer["changed"] is False and not any(item["changed"] for item in answer["files"])
    assert {name: os.stat(tmp_path / name).st_mtime_ns for name in os.listdir(tmp_path)} == before
    assert sorted(os.listdir(tmp_path)) == ["compliance.html", "compliance.json", "compliance.junit.xml"]  # no temporary file left


def test_a_changed_mode_or_result_rewrites_only_what_differs(results, tmp_path):
    run_action({"dest": str(tmp_path)}, play(results))
    answer = run_action({"dest": str(tmp_path), "mode": "0640"}, play(results))
    assert all(item["changed"] for item in answer["files"])
    assert stat.S_IMODE(os.stat(tmp_path / "compliance.json").st_mode) == 0o640
    answer = run_action({"dest": str(tmp_path), "mode": "0640", "formats": ["junit"]}, play(results[:1]))
    assert [(item["format"], item["changed"]) for item in answer["files"]] == [("junit", True)]


def test_check_mode_writes_nothing_and_predicts(results, tmp_path):
    answer = run_action({"dest": str(tmp_path)}, play(results), check_mode=True)
    assert answer["changed"] is True and os.listdir(tmp_path) == []
    missing = tmp_path / "not-yet"  # the role's task before would create it; check mode creates nothing
    answer = run_action({"dest": str(missing)}, play(results), check_mode=True)
    assert answer["changed"] is True and not missing.exists()
    run_action({"dest": str(tmp_path)}, play(results))
    assert run_action({"dest": str(tmp_path)}, play(results), check_mode=True)["changed"] is False


def test_failed_skipped_and_missing_results_are_left_out(results, tmp_path):
    extra = {"broken": {"hs_crypto_compliance_result": {"failed": True, "msg": "no answer"}},
             "skipped": {"hs_crypto_compliance_result": {"skipped": True}}, "unreached": {}}
    kept = play_results(play(results, extra), "hs_crypto_compliance_result")
    assert [entry["instance"] for entry in kept] == [result["instance"] for result in results]
    answer = run_action({"dest": str(tmp_path), "formats": ["json"]}, play(results, extra))
    assert answer["totals"]["instances"] == len(results)


def test_results_given_directly(results, tmp_path):
    by_host = {f"h{index}": result for index, result in enumerate(results)}
    answer = run_action({"dest": str(tmp_path), "name": "nightly", "formats": ["junit", "json"], "results": by_host,
                         "suite_name": "nightly"}, {"hostvars": FakeHostVars(), "ansible_play_hosts": []})
    assert [os.path.basename(item["path"]) for item in answer["files"]] == ["nightly.junit.xml", "nightly.json"]
    assert (tmp_path / "nightly.junit.xml").read_text(encoding="utf-8") == render_junit(by_host, suite_name="nightly")


@pytest.mark.parametrize("args, message", [
    ({"dest": "/nonexistent/hs-crypto-reports"}, "dest: /nonexistent/hs-crypto-reports is not a directory"),
    ({"mode": "u=rw"}, "mode must be an octal file mode"),
    ({"results": [{"instance": "x"}]}, "results: results[0] is not a hs_crypto_compliance_info result"),
    ({"formats": ["pdf"]}, "formats"),
])
def test_bad_input_is_refused_naming_the_option(results, tmp_path, args, message):
    with pytest.raises(AnsibleActionFail, match=message.replace("[", r"\[").replace("]", r"\]")):
        run_action(dict({"dest": str(tmp_path)}, **args), play(results))
    assert os.listdir(tmp_path) == []


def test_file_mode():
    assert file_mode("0600") == 0o600 and file_mode(0o644) == 0o644 and file_mode("755") == 0o755
    for bad in ("", "0900", "rw", "77777", True):
        with pytest.raises(AnsibleActionFail):
            file_mode(bad)
