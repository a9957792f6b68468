# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hs_crypto_compliance_html and hs_crypto_compliance_junit filters over hs_crypto_compliance_info results."""

import copy
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ibm.hs_crypto.plugins.filter.hs_crypto_compliance_html import (
    FilterModule, hs_crypto_compliance_html, hs_crypto_compliance_junit)
from ansible_collections.ibm.hs_crypto.plugins.plugin_utils import _compliance_report

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "compliance_results.json")
HOSTILE = '<script>alert("pwned")</script>&<img src=x onerror=alert(1)>'


@pytest.fixture
def results():
    with open(FIXTURE, encoding="utf-8") as handle:
        return json.load(handle)


class Page(HTMLParser):
    """The parts of the report the tests read: elements with their attributes, table rows, texts, scripts."""

    def __init__(self, document):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, attrs, path of open tags' ids)
        self.stack = []
        self.rows = {}  # table id -> list of body rows (list of cell texts)
        self.scripts = []
        self.text = []
        self._table = None
        self._in_body = False
        self._row = None
        self._cell = None
        self._script = None
        self.tiles = []  # the texts of each header total
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs, tuple(self.stack)))
        if tag not in ("meta", "input", "br", "img", "line", "polygon", "rect", "circle"):
            self.stack.append(attrs.get("id") or tag)
        if tag == "table":
            self._table = attrs.get("id")
            self.rows[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "script":
            self._script = []
        elif tag == "li" and "totals" in self.stack:
            self.tiles.append([])

    def handle_endtag(self, tag):
        if self.stack and tag not in ("line", "polygon", "rect", "circle"):
            self.stack.pop()
        if tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "script":
            self.scripts.append("".join(self._script))
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
            return
        self.text.append(data)
        if self.tiles and "totals" in self.stack and self.stack[-1] in ("li", "b"):
            self.tiles[-1].append(data)
        if self._cell is not None:
            self._cell.append(data)

    def find(self, tag, **attrs):
        return [element for element in self.elements
                if element[0] == tag and all(element[1].get(name.replace("_", "-")) == value for name, value in attrs.items())]

    def inside(self, tag, container, css_class=None):
        """Elements ``tag`` inside the element with id ``container`` (and of class ``css_class``)."""
        return [element for element in self.elements if element[0] == tag and container in element[2]
                and (css_class is None or css_class in (element[1].get("class") or "").split())]


def junit(text):
    return ET.fromstring(text)


# --- registration, input ------------------------------------------------------------------------------------------

def test_the_filters_are_registered():
    assert FilterModule().filters() == {"hs_crypto_compliance_html": hs_crypto_compliance_html,
                                        "hs_crypto_compliance_junit": hs_crypto_compliance_junit}


def test_a_dictionary_by_host_gives_the_same_reports_as_the_list_in_host_order(results):
    by_host = {"kms-xr": results[2], "hpcs-a": results[0], "kp-standard": results[1]}
    # sorted host names: hpcs-a, kms-xr, kp-standard
    ordered = [results[0], results[2], results[1]]
    assert hs_crypto_compliance_html(by_host) == hs_crypto_compliance_html(ordered)
    assert hs_crypto_compliance_junit(by_host) == hs_crypto_compliance_junit(ordered)
    suites = junit(hs_crypto_compliance_junit(by_host)).findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["payments-hpcs", results[2]["instance"]["instance_id"], "orders-kp"]


@pytest.mark.parametrize("bad, message", [
    ("a string", "must be a list of hs_crypto_compliance_info results or a dictionary inventory_hostname -> result, not str"),
    ([{"instance": {}}], "results[0] is not a hs_crypto_compliance_info result: it needs 'instance' (a dictionary) and 'rules' (a list)"),
    ({"host1": {"msg": "failed"}}, "results['host1'] is not a hs_crypto_compliance_info result"),
    ([["not", "a", "dict"]], "results[0] is not a hs_crypto_compliance_info result"),
])
def test_input_that_is_not_results_fails_with_a_message_naming_the_entry(bad, message):
    for name, render in (("hs_crypto_compliance_html", hs_crypto_compliance_html), ("hs_crypto_compliance_junit", hs_crypto_compliance_junit)):
        with pytest.raises(AnsibleFilterError) as caught:
            render(bad)
        assert str(caught.value).startswith(f"{name}: ")
        assert message in str(caught.value)


# --- JUnit ------------------------------------------------------------------------------------------------------------

def test_junit_has_a_suite_per_instance_and_a_case_per_rule_with_the_counts(results):
    root = junit(hs_crypto_compliance_junit(results))
    assert root.tag == "testsuites"
    assert root.get("name") == "ibm.hs_crypto compliance"
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["payments-hpcs", "orders-kp", "6e2d8c3b-0f9a-4b4c-9d7e-3f2a1b0c9d8e"]
    for suite, result in zip(suites, results):
        cases = suite.findall("testcase")
        statuses = [rule["status"] for rule in result["rules"]]
        assert len(cases) == len(result["rules"]) == int(suite.get("tests")) == 15
        assert [case.get("name") for case in cases] == [f"{rule['id']}: {rule['title']}" for rule in result["rules"]]
        assert {case.get("classname") for case in cases} == {suite.get("name")}
        assert int(suite.get("failures")) == statuses.count("fail") == len([case for case in cases if case.find("failure") is not None])
        assert int(suite.get("skipped")) == statuses.count("not_applicable") + statuses.count("disabled") \
            == len([case for case in cases if case.find("skipped") is not None])
        assert suite.get("errors") == "0"
        assert suite.get("timestamp") == result["evaluated_at"]
        properties = {prop.get("name"): prop.get("value") for prop in suite.find("properties")}
        assert properties["instance_id"] == result["instance"]["instance_id"]
        assert properties["plan"] == result["instance"]["plan"]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("45", "11", "0")


def test_a_failed_rule_lists_its_open_findings_and_has_the_severity_as_type(results):
    root = junit(hs_crypto_compliance_junit(results))
    case = root.find("testsuite[@name='payments-hpcs']/testcase[@name='key-dual-auth: Root keys need dual authorization to be deleted']")
    failure = case.find("failure")
    assert failure.get("type") == "medium"
    assert failure.get("message") == "2 finding(s) of 4 checked: Root keys need dual authorization to be deleted"
    assert failure.text.splitlines() == [
        "- key payments-root (0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9): dual authorization of deletion is not enabled on the key"
        " [observed: false; expected: true]",
        "- key legacy-import (2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e): dual authorization of deletion is not enabled on the key"
        " [observed: false; expected: true]"]
    critical = root.find("testsuite[@name='payments-hpcs']/testcase[@classname='payments-hpcs']/failure[@type='critical']")
    assert "deactivated key still has 3 registrations" in critical.text


def test_a_waived_only_rule_passes_with_its_waivers_in_system_out(results):
    root = junit(hs_crypto_compliance_junit(results))
    case = root.find("testsuite[@name='orders-kp']/testcase[@name='instance-dual-auth: Dual authorization of deletion enabled for the instance']")
    assert case.find("failure") is None and case.find("skipped") is None
    out = case.find("system-out").text
    assert "Waived findings:" in out
    assert "waived: single-operator sandbox account (RISK-118) (expires 2026-08-01T00:00:00Z)" in out
    # a failed rule with a waived finding as well: failure for the open ones, the waived ones in system-out
    result = copy.deepcopy(results[0])
    result["findings"].append(dict(result["findings"][3], key_id="k-2", key_name="other", waived=True,
                                   waiver={"reason": "accepted", "expires": "2027-01-01"}))
    case = junit(hs_crypto_compliance_junit([result])).find("testsuite/testcase[@name='key-dual-auth: Root keys need dual authorization to be deleted']")
    assert case.find("failure").text.count("\n") == 1
    assert "key other (k-2)" in case.find("system-out").text


def test_not_applicable_and_disabled_rules_are_skipped_with_the_reason(results):
    root = junit(hs_crypto_compliance_junit(results))
    suite = root.find("testsuite[@name='orders-kp']")
    skipped = {case.get("name").split(":")[0]: case.find("skipped").get("message") for case in suite.findall("testcase")
               if case.find("skipped") is not None}
    assert skipped == {"metrics-enabled": "disabled: disabled in the rules option",
                       "dedicated-units-initialized": "not_applicable: not a Key Protect Dedicated instance",
                       "hpcs-end-of-support": "not_applicable: not a Hyper Protect Crypto Services instance"}


def test_junit_escapes_what_the_service_returns_and_drops_characters_xml_cannot_carry(results):
    result = copy.deepcopy(results[1])
    result["instance"]["name"] = 'orders "kp" <prod> & co'
    result["findings"][1]["key_name"] = HOSTILE + "\x1b[31m\x00"
    result["findings"][1]["message"] = "interval ]]> 24 </failure><failure>"
    text = hs_crypto_compliance_junit([result], suite_name="nightly <compliance>")
    assert "<script>" not in text and "\x1b" not in text and "\x00" not in text
    root = junit(text)  # parses: well-formed
    assert root.get("name") == "nightly <compliance>"
    suite = root.find("testsuite")
    assert suite.get("name") == 'orders "kp" <prod> & co'
    failure = suite.find("testcase[@name='rotation-interval: Rotation interval at most max_interval_month months']/failure")
    assert HOSTILE + "\ufffd[31m\ufffd" in failure.text
    assert "interval ]]> 24 </failure><failure>" in failure.text
    assert len(suite.findall("testcase/failure")) == 4


def test_junit_of_no_result_is_an_empty_suite_list():
    for empty in ([], {}, None):
        root = junit(hs_crypto_compliance_junit(empty))
        assert (root.tag, root.get("tests"), root.get("failures"), root.get("errors"), list(root)) == ("testsuites", "0", "0", "0", [])


def test_junit_is_deterministic(results):
    first = hs_crypto_compliance_junit(results)
    assert hs_crypto_compliance_junit(copy.deepcopy(results)) == first
    assert first.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')


# --- HTML -------------------------------------------------------------------------------------------------------------

def test_html_is_one_document_with_no_external_url(results):
    document = hs_crypto_compliance_html(results)
    page = Page(document)
    assert document.startswith("<!DOCTYPE html>")
    for tag, attrs, _path in page.elements:
        for name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            assert not (attrs.get(name) or "").strip(), f"<{tag} {name}=...> refers to a resource"
    assert "http://" not in document and "https://" not in document and "//" not in document.replace("://", "")[:0]
    assert not page.find("link") and not page.find("iframe") and not page.find("img")
    assert "@import" not in document and "url(" not in document
    assert all(not attrs.get("src") for _tag, attrs, _path in page.find("script"))
    assert len(page.scripts) == 1 and "fetch(" not in page.scripts[0] and "XMLHttpRequest" not in page.scripts[0]


def test_html_header_shows_the_evaluation_time_and_totals(results):
    page = Page(hs_crypto_compliance_html(results, title="Q2 key audit"))
    text = " ".join(page.text)
    assert "Q2 key audit" in text
    assert "Evaluated at 2026-06-04T09:30:12Z to 2026-06-04T09:30:17Z" in " ".join(text.split())
    totals = [element for element in page.elements if element[0] == "li" and "totals" in element[2]]
    assert [attrs["data-total"] for _tag, attrs, _path in totals] == [
        "instances", "keys", "open-findings", "critical", "high", "medium", "low", "waived", "compliant-share"]
    tile_text = [" ".join(" ".join(texts).split()) for texts in page.tiles]
    assert tile_text[:8] == ["3 Instances", "10 Keys", "12 Open findings", "1 Critical", "3 High", "7 Medium", "1 Low", "3 Waived"]
    tiles = _compliance_report.totals(_compliance_report.normalize(results))
    assert tiles == {"instances": 3, "keys": 10, "findings": 12, "waived": 3,
                     "by_severity": {"critical": 1, "high": 3, "medium": 7, "low": 1}}
    # overall share: per-instance shares weighted by their checks
    shares = [(r["summary"]["compliant_share"], sum(rule["checked"] for rule in r["rules"] if rule["status"] in ("pass", "fail", "waived")))
              for r in results]
    expected = sum(share * checks for share, checks in shares) / sum(checks for _share, checks in shares)
    assert f"{expected * 100:.1f}%" in text


def test_html_tables_have_a_row_per_instance_finding_and_rule(results):
    page = Page(hs_crypto_compliance_html(results))
    summary = page.rows["summary"]
    assert [row[0] for row in summary] == ["payments-hpcs8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b", "orders-kp5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d",
                                           "6e2d8c3b-0f9a-4b4c-9d7e-3f2a1b0c9d8e"]
    assert summary[0][1:9] == ["hs_crypto", "standard", "us-south", "5", "1", "2", "5", "0"]
    assert summary[0][-1] == "79.5%" and summary[2][-1] == "100.0%"
    findings = page.rows["findings"]
    assert len(findings) == sum(len(result["findings"]) for result in results) == 15
    assert findings[0][0] == "payments-hpcs" and findings[0][2] == "rotation-overdue" and findings[0][3] == "medium"
    assert [row[5].split(":")[0] for row in findings].count("yes") == 3
    rows = page.find("tr", data_severity="critical")
    assert len(rows) == 1 and rows[0][1]["data-rule"] == "inactive-key-registrations"
    assert rows[0][1]["data-instance"] == results[0]["instance"]["instance_id"]
    rules = page.rows["rules"]
    assert [row[0] for row in rules] == [rule["id"] for rule in results[0]["rules"]]
    high_availability = next(row for row in rules if row[0] == "high-availability")
    # pass, fail, waived, not_applicable, disabled, checked, failed checks
    assert high_availability[2:] == ["CIS 8.1.2, SCC 3000231", "low", "1", "1", "0", "1", "0", "2", "1"]


def test_html_findings_can_be_filtered_and_sorted(results):
    page = Page(hs_crypto_compliance_html(results))
    assert page.find("input", id="filter-text", type="search")
    options = {name: [attrs["value"] for _tag, attrs, _path in page.inside("option", f"filter-{name}")]
               for name in ("severity", "rule", "instance")}
    assert options["severity"] == ["", "critical", "high", "medium", "low"]
    assert options["rule"][0] == "" and len(options["rule"]) == 1 + len({f["rule"] for r in results for f in r["findings"]})
    assert options["instance"] == [""] + [result["instance"]["instance_id"] for result in results]
    headers = page.inside("th", "findings")
    assert len(headers) == 6 and all("sortable" in attrs["class"] for _tag, attrs, _path in headers)
    # severity sorts by rank: its cells carry the rank
    ranks = {attrs["data-severity"]: None for _tag, attrs, _path in page.find("tr") if "data-severity" in attrs}
    assert set(ranks) == {"critical", "high", "medium", "low"}
    severity_cells = [attrs["data-sort"] for tag, attrs, path in page.elements if tag == "td" and "findings" in path
                      and attrs.get("data-sort") in ("0", "1", "2", "3") and path[-1] == "tr"]
    assert "0" in severity_cells and "3" in severity_cells
    script = page.scripts[0]
    for needle in ("filter-text", "filter-severity", "filter-rule", "filter-instance", "aria-sort", "data-sort", "row.hidden"):
        assert needle in script


def test_html_charts_have_a_bar_per_instance_and_rule_and_a_point_per_root_key(results):
    page = Page(hs_crypto_compliance_html(results))
    svgs = page.find("svg")
    assert [attrs["id"] for _tag, attrs, _path in svgs] == ["chart-instances", "chart-rules", "chart-keys"]
    for _tag, attrs, _path in svgs:
        assert int(attrs["width"]) > 0 and int(attrs["height"]) > 0 and "xmlns" not in attrs
    bars = page.inside("rect", "chart-instances", "bar")
    assert len(bars) == 3
    assert [float(attrs["width"]) for _tag, attrs, _path in bars] == [pytest.approx(300 * 0.7949, abs=0.06), pytest.approx(300 * 0.8571, abs=0.06), 300]
    rule_bars = page.find("g", **{"class": "rule-bar"})
    assert len(rule_bars) == 15
    segments = {(attrs["class"].split()[-1]) for _tag, attrs, _path in page.inside("rect", "chart-rules", "seg")}
    assert segments == {"seg-fail", "seg-pass", "seg-na"}
    not_applicable_anywhere = [attrs for tag, attrs, _path in page.elements if tag == "g" and attrs.get("data-rule") == "dedicated-units-initialized"]
    assert len(not_applicable_anywhere) == 1
    document = hs_crypto_compliance_html(results)
    groups = dict(re.findall(r'<g class="rule-bar" data-rule="([^"]+)">(.*?)</g>', document))
    assert re.findall(r'class="seg (seg-\w+)"', groups["dedicated-units-initialized"]) == ["seg-na"]  # n.a. on all 3
    assert re.findall(r'class="seg (seg-\w+)"', groups["high-availability"]) == ["seg-fail", "seg-pass", "seg-na"]
    assert re.findall(r'class="seg (seg-\w+)"', groups["waiver-expired"]) == ["seg-pass"]
    points = page.inside("circle", "chart-keys", "point")
    root_keys = [key for result in results for key in result["keys"] if key["type"] == "root"]
    assert len(points) == len(root_keys) == 8
    overdue = [attrs for _tag, attrs, _path in points if attrs["data-overdue"] == "yes"]
    assert len(overdue) == 1  # payments-root: 485 days, interval 3 months


def test_key_points_put_keys_without_rotation_on_their_own_band(results):
    points = _compliance_report.key_points(_compliance_report.normalize(results))
    by_key = {point["key"]: point for point in points}
    assert by_key["payments-root"] == {"instance": "payments-hpcs", "key": "payments-root", "key_id": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
                                       "days": 485, "interval_days": 90, "overdue": True}
    assert by_key["billing & invoices root"]["interval_days"] == 360 and not by_key["billing & invoices root"]["overdue"]
    assert by_key["legacy-import"]["interval_days"] is None and not by_key["legacy-import"]["overdue"]
    assert "session-cache" not in by_key  # standard keys do not rotate
    page = Page(hs_crypto_compliance_html(results))
    band = [attrs for _tag, attrs, _path in page.inside("circle", "chart-keys", "point") if attrs["fill"] == "#6b737b"]
    assert len(band) == 3  # legacy-import, archive-2022, customers-root


def test_html_escapes_a_hostile_key_name_everywhere(results):
    result = copy.deepcopy(results[1])
    result["instance"]["name"] = HOSTILE
    for key in result["keys"]:
        key["name"] = HOSTILE
    for finding in result["findings"]:
        finding["key_name"] = HOSTILE
        finding["message"] = HOSTILE
        finding["key_aliases"] = [HOSTILE]
    result["rules"][0]["title"] = HOSTILE
    document = hs_crypto_compliance_html([result], title=HOSTILE)
    assert "<script>alert" not in document and "<img" not in document
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;&amp;&lt;img src=x onerror=alert(1)&gt;" in document
    page = Page(document)
    assert len(page.find("script")) == 1 and not page.find("img")
    assert any(HOSTILE in text for text in page.text)  # shown as text
    assert page.rows["findings"][1][1].startswith(HOSTILE)
    assert all(not any(name.startswith("on") for name in attrs) for _tag, attrs, _path in page.elements)


def test_html_is_deterministic(results):
    first = hs_crypto_compliance_html(results)
    assert hs_crypto_compliance_html(copy.deepcopy(results)) == first
    assert hs_crypto_compliance_html(json.loads(json.dumps(results))) == first


def test_html_of_no_result_is_a_valid_empty_report():
    for empty in ([], {}):
        page = Page(hs_crypto_compliance_html(empty))
        text = " ".join(" ".join(page.text).split())
        assert "No instance evaluated." in text and "No findings." in text and "No rule evaluated." in text
        assert "Evaluated at unknown" in text
        assert len(page.find("svg")) == 3
        assert not page.inside("rect", "chart-instances", "bar") and not page.inside("circle", "chart-keys", "point")
        assert page.rows["findings"] == []


def test_results_with_only_the_required_parts_render():
    bare = [{"instance": {"instance_id": "i-1"}, "rules": [{"id": "metrics-enabled", "status": "fail", "severity": "low"}]}]
    page = Page(hs_crypto_compliance_html(bare))
    assert page.rows["summary"][0][0] == "i-1"
    assert page.rows["summary"][0][-1] == "n/a"
    suite = junit(hs_crypto_compliance_junit(bare)).find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("i-1", "1", "1")
    assert suite.find("testcase/failure").text == "0 check(s) failed"


def test_observed_and_expected_as_dictionaries_read_as_name_value_pairs(results):
    result = copy.deepcopy(results[1])
    result["findings"][1]["observed"] = {"interval_month": 24}
    result["findings"][1]["expected"] = {"interval_month": "<= 12"}
    failure = junit(hs_crypto_compliance_junit([result])).find(
        "testsuite/testcase[@name='rotation-interval: Rotation interval at most max_interval_month months']/failure")
    assert failure.text.endswith("[observed: interval_month: 24; expected: interval_month: <= 12]")
    assert "observed interval_month: 24; expected interval_month: &lt;= 12" in hs_crypto_compliance_html([result])


def _many_findings(results, count):
    """The first result with ``count`` findings (copies of its first one, each on a key of its own)."""
    result = copy.deepcopy(results[0])
    template = next(finding for finding in result["findings"] if finding.get("key_id"))
    result["findings"] = [dict(template, key_id=f"00000000-0000-4000-8000-{index:012d}", key_name=f"bulk-{index:05d}")
                          for index in range(count)]
    return result


def test_a_large_findings_table_shows_one_page_and_the_rest_hidden(results):
    """Tens of thousands of rows laid out at once stalled the browser: the table shows FINDINGS_PAGE rows, the others
    are in the page (filter and sort reach them) but hidden, and "Show more" adds a page."""
    page_size = _compliance_report.FINDINGS_PAGE
    document = hs_crypto_compliance_html([_many_findings(results, page_size + 3)])
    rows = re.findall(r"<tr( hidden)? data-severity=", document)
    assert len(rows) == page_size + 3
    assert [flag for flag in rows[:page_size] if flag] == [] and all(rows[page_size:])
    assert re.search(r'<button id="findings-more" type="button">Show 500 more</button>', document)
    assert f"{page_size} of {page_size + 3} matching findings shown ({page_size + 3} in all)" in document
    assert f'data-page="{page_size}"' in document
    script = Page(document).scripts[0]
    for needle in ("limit += page", "matched <= limit", "apply(true)", "more.hidden"):
        assert needle in script


def test_a_small_findings_table_shows_every_row_and_no_button(results):
    document = hs_crypto_compliance_html(results)
    findings = sum(len(result["findings"]) for result in results)
    assert "<tr hidden" not in document
    assert '<button id="findings-more" type="button" hidden>' in document
    assert f"{findings} of {findings} findings shown" in document


def test_above_the_limit_keys_on_one_spot_share_a_point(results, monkeypatch):
    """Up to KEY_POINTS_MAX root keys, a point per key; beyond, one point per spot and status, counting its keys, so
    the chart of 50,000 keys is not 50,000 circles drawn over one another."""
    root_keys = [key for result in results for key in result["keys"] if key["type"] == "root"]
    single = Page(hs_crypto_compliance_html(results)).inside("circle", "chart-keys", "point")
    assert {attrs["data-keys"] for _tag, attrs, _path in single} == {"1"} and len(single) == len(root_keys)
    crowd = copy.deepcopy(results)
    crowd[0]["keys"] = crowd[0]["keys"] + [dict(key, id=f"{key['id'][:-4]}{index:04d}", name=f"{key['name']}-{index}")
                                           for index in range(40) for key in crowd[0]["keys"] if key["type"] == "root"]
    monkeypatch.setattr(_compliance_report, "KEY_POINTS_MAX", 10)
    shared = Page(hs_crypto_compliance_html(crowd)).inside("circle", "chart-keys", "point")
    total = len([key for result in crowd for key in result["keys"] if key["type"] == "root"])
    assert len(shared) < len(root_keys) + 1 < total
    assert sum(int(attrs["data-keys"]) for _tag, attrs, _path in shared) == total
    document = hs_crypto_compliance_html(crowd)
    assert re.search(r"<title>41 keys here \(overdue\): payments-hpcs / payments-root, payments-hpcs / payments-root-0, "
                     r"[^<]*, \.\.\.</title>", document)
