# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Reports of ``hs_crypto_compliance_info`` results: one self-contained HTML page, and JUnit XML for CI.

Pure Python, standard library only, and no import of Ansible: the filters (plugins/filter/hs_crypto_compliance_html.py)
wrap these functions, and scripts/check_report.py imports this file by path to render the same report it then checks
in a browser and against the JUnit schema.

Both renderings are deterministic: the same input gives the same bytes (no render time, no random id), so a task
writing the report with ``ansible.builtin.copy`` is idempotent.
"""

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

SEVERITIES = ("critical", "high", "medium", "low")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
STATUSES = ("pass", "fail", "waived", "not_applicable", "disabled")
# A month of rotation interval, in days, on the key age chart (the rotation rules of hs_crypto_compliance_info age keys
# in days against an interval in months).
DAYS_PER_MONTH = 30
# The findings table shows this many rows at first, and adds as many at each "Show more"; the others are in the page,
# hidden (filtering and sorting cover them all). Laying out the tens of thousands of rows of a large estate at once
# stalled the browser for minutes.
FINDINGS_PAGE = 500
# Up to this many root keys, the key age chart draws one point per key; beyond, keys that fall on the same spot share
# one point, whose title counts them (they would be drawn over one another anyway).
KEY_POINTS_MAX = 2000

# Characters XML 1.0 cannot carry at all (not even escaped): C0 controls but tab, newline and carriage return; surrogates;
# U+FFFE and U+FFFF. Text from the service (key names, messages) could hold them and break every XML reader.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class ReportInputError(ValueError):
    """The input is not a list (or dictionary) of hs_crypto_compliance_info results."""


# --- input ---------------------------------------------------------------------------------------------------------

def plain(value):
    """``value`` as plain Python data (ansible-core 2.19 hands filters lazily templated containers)."""
    if isinstance(value, Mapping):
        return {str(key) if isinstance(key, str) else key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def normalize(results):
    """The results as a list: a list as given, or a dictionary inventory_hostname -> result sorted by host name.

    Each entry must be a hs_crypto_compliance_info result (a dictionary with ``instance`` and ``rules``); missing
    optional parts (findings, keys, summary, unused_waivers) read as empty.
    """
    if results is None:
        return []
    results = plain(results)
    if isinstance(results, Mapping):
        entries = [(f"results[{host!r}]", results[host]) for host in sorted(results, key=str)]
    elif isinstance(results, list):
        entries = [(f"results[{index}]", result) for index, result in enumerate(results)]
    else:
        raise ReportInputError(f"the input must be a list of hs_crypto_compliance_info results or a dictionary "
                               f"inventory_hostname -> result, not {type(results).__name__}")
    normalized = []
    for where, result in entries:
        if not isinstance(result, Mapping) or not isinstance(result.get("instance"), Mapping) or not isinstance(result.get("rules"), list):
            raise ReportInputError(f"{where} is not a hs_crypto_compliance_info result: it needs 'instance' (a dictionary) "
                                   f"and 'rules' (a list)")
        entry = dict(result)
        for part in ("findings", "keys", "unused_waivers"):
            entry[part] = list(entry.get(part) or [])
        entry["summary"] = dict(entry.get("summary") or {})
        normalized.append(entry)
    return normalized


def instance_label(result):
    """The instance's name, else its id."""
    instance = result["instance"]
    return str(instance.get("name") or instance.get("instance_id") or "(unknown instance)")


def _num(value, default=0):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _text(value):
    """A value as display text: lists joined with commas, null as empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{_text(name)}: {_text(item)}" for name, item in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_text(value):
    return _XML_INVALID.sub("\ufffd", _text(value))


def _share(value):
    """A compliant share (0..1) as a float clamped to 0..1, or None when absent."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return min(1.0, max(0.0, float(value)))


def _percent(share):
    return "n/a" if share is None else f"{share * 100:.1f}%"


def _checks(result):
    """The number of checks behind the instance's compliant share: keys and instances that applicable rules checked."""
    return sum(_num(rule.get("checked")) for rule in result["rules"] if rule.get("status") in ("pass", "fail", "waived"))


def overall_share(results):
    """The compliant share of all instances together: their shares weighted by their number of checks."""
    shares = [(share, _checks(result)) for result in results
              for share in [_share(result["summary"].get("compliant_share"))] if share is not None]
    if not shares:
        return None
    weight = sum(checks for _share_, checks in shares)
    if not weight:
        return sum(share for share, _checks_ in shares) / len(shares)
    return sum(share * checks for share, checks in shares) / weight


def evaluation_time(results):
    """The evaluation time(s): one time, or "FIRST to LAST" when the instances were evaluated at different times."""
    times = sorted({str(result["evaluated_at"]) for result in results if result.get("evaluated_at")})
    if not times:
        return ""
    return times[0] if len(times) == 1 else f"{times[0]} to {times[-1]}"


def totals(results):
    """Totals over every instance: keys, findings (not waived), waived, by severity (not waived)."""
    total = {"instances": len(results), "keys": 0, "findings": 0, "waived": 0, "by_severity": dict.fromkeys(SEVERITIES, 0)}
    for result in results:
        findings = result["findings"]
        total["keys"] += _num(result["summary"].get("keys"), len(result["keys"]))
        total["findings"] += sum(1 for finding in findings if not finding.get("waived"))
        total["waived"] += sum(1 for finding in findings if finding.get("waived"))
        for finding in findings:
            if not finding.get("waived") and finding.get("severity") in SEVERITY_RANK:
                total["by_severity"][finding["severity"]] += 1
    return total


def rule_table(results):
    """Every rule id once, in the order met: its title, benchmarks, severity and counts over the instances."""
    rules = {}
    for result in results:
        for rule in result["rules"]:
            rule_id = _text(rule.get("id"))
            entry = rules.setdefault(rule_id, {
                "id": rule_id, "title": _text(rule.get("title")), "benchmarks": list(rule.get("benchmarks") or []),
                "severity": _text(rule.get("severity")), "statuses": dict.fromkeys(STATUSES, 0), "checked": 0, "failed": 0,
                "waived": 0})
            status = rule.get("status")
            if status in entry["statuses"]:
                entry["statuses"][status] += 1
            for count in ("checked", "failed", "waived"):
                entry[count] += _num(rule.get(count))
    return list(rules.values())


def key_points(results):
    """The key age chart's points: root keys with a known age since rotation (days_since_rotation).

    Each: instance, key, days (since the last rotation, else creation), interval_days (rotation interval in days, None
    when rotation is not enabled or has no interval: the "no rotation" band) and overdue (days > interval_days).
    """
    points = []
    for result in results:
        for key in result["keys"]:
            days = key.get("days_since_rotation")
            if key.get("type") != "root" or not isinstance(days, (int, float)) or isinstance(days, bool):
                continue
            months = key.get("rotation_interval_month")
            interval = months * DAYS_PER_MONTH if key.get("rotation_enabled") and _num(months, None) else None
            points.append({"instance": instance_label(result), "key": _text(key.get("name") or key.get("id")),
                           "key_id": _text(key.get("id")), "days": days, "interval_days": interval,
                           "overdue": interval is not None and days > interval})
    return points


# --- JUnit XML -------------------------------------------------------------------------------------------------------

def _finding_line(finding):
    key = finding.get("key_name") or finding.get("key_id")
    where = f"key {_text(key)} ({_text(finding.get('key_id'))})" if finding.get("key_id") else "instance"
    line = f"- {where}: {_text(finding.get('message'))}"
    if finding.get("observed") is not None or finding.get("expected") is not None:
        line += f" [observed: {_text(finding.get('observed'))}; expected: {_text(finding.get('expected'))}]"
    return line


def waiver_text(waiver):
    """An entry of ``unused_waivers`` (a waiver as declared) as one line."""
    if not isinstance(waiver, Mapping):
        return _text(waiver)
    where = f"key {_text(waiver['key'])}" if waiver.get("key") else "instance"
    if waiver.get("instance_id"):
        where += f" of {_text(waiver['instance_id'])}"
    return f"rule {_text(waiver.get('rule'))}, {where}: {_text(waiver.get('reason'))} (expires {_text(waiver.get('expires'))})"


def _waiver_line(finding):
    waiver = finding.get("waiver") or {}
    return (f"{_finding_line(finding)}\n  waived: {_text(waiver.get('reason'))} (expires {_text(waiver.get('expires'))})")


def render_junit(results, suite_name="ibm.hs_crypto compliance"):
    """JUnit XML (Jenkins' junit-10.xsd): a ``<testsuite>`` per instance, a ``<testcase>`` per rule.

    A failed rule has a ``<failure>`` (type = the rule's severity) listing its findings; a not_applicable or disabled
    rule is ``<skipped>`` with the reason; a rule whose findings are all waived passes, its waivers in ``<system-out>``.
    """
    results = normalize(results)
    root = ET.Element("testsuites", {"name": _xml_text(suite_name)})
    counts = {"tests": 0, "failures": 0, "errors": 0}
    for result in results:
        label = instance_label(result)
        instance = result["instance"]
        suite = ET.SubElement(root, "testsuite", {"name": _xml_text(label)})
        properties = ET.SubElement(suite, "properties")
        for name in ("instance_id", "crn", "service", "plan", "region"):
            ET.SubElement(properties, "property", {"name": name, "value": _xml_text(instance.get(name))})
        ET.SubElement(properties, "property", {"name": "compliant_share",
                                               "value": _xml_text(result["summary"].get("compliant_share"))})
        suite_counts = {"tests": 0, "failures": 0, "skipped": 0}
        for rule in result["rules"]:
            rule_id = _text(rule.get("id"))
            findings = [finding for finding in result["findings"] if _text(finding.get("rule")) == rule_id]
            open_findings = [finding for finding in findings if not finding.get("waived")]
            waived = [finding for finding in findings if finding.get("waived")]
            case = ET.SubElement(suite, "testcase", {"classname": _xml_text(label),
                                                     "name": _xml_text(f"{rule_id}: {_text(rule.get('title'))}"),
                                                     "time": "0"})
            suite_counts["tests"] += 1
            status = rule.get("status")
            if status == "fail" or (open_findings and status not in ("not_applicable", "disabled")):
                suite_counts["failures"] += 1
                count = len(open_findings) or _num(rule.get("failed"))
                failure = ET.SubElement(case, "failure", {
                    "type": _xml_text(rule.get("severity")),
                    "message": _xml_text(f"{count} finding(s) of {_num(rule.get('checked'))} checked: {_text(rule.get('title'))}")})
                failure.text = _xml_text("\n".join(_finding_line(finding) for finding in open_findings)
                                         or f"{_num(rule.get('failed'))} check(s) failed")
            elif status in ("not_applicable", "disabled"):
                suite_counts["skipped"] += 1
                reason = rule.get("reason") or ("disabled" if status == "disabled" else "not applicable")
                ET.SubElement(case, "skipped", {"message": _xml_text(f"{status}: {_text(reason)}")})
            if waived:
                out = ET.SubElement(case, "system-out")
                out.text = _xml_text("Waived findings:\n" + "\n".join(_waiver_line(finding) for finding in waived))
        suite.set("tests", str(suite_counts["tests"]))
        suite.set("failures", str(suite_counts["failures"]))
        suite.set("errors", "0")
        suite.set("skipped", str(suite_counts["skipped"]))
        suite.set("time", "0")
        if result.get("evaluated_at"):
            suite.set("timestamp", _xml_text(result["evaluated_at"]))
        summary = result["summary"]
        lines = [f"Instance {label} ({_text(instance.get('instance_id'))}), {_text(instance.get('service'))} "
                 f"{_text(instance.get('plan'))} in {_text(instance.get('region'))}, evaluated at {_text(result.get('evaluated_at'))}",
                 f"Keys: {_text(summary.get('keys'))}; findings: {_text(summary.get('findings'))}; waived: "
                 f"{_text(summary.get('waived'))}; compliant share: {_percent(_share(summary.get('compliant_share')))}"]
        if result["unused_waivers"]:
            lines.append("Unused waivers (match no finding):")
            lines.extend(f"- {waiver_text(waiver)}" for waiver in result["unused_waivers"])
        out = ET.SubElement(suite, "system-out")
        out.text = _xml_text("\n".join(lines))
        counts["tests"] += suite_counts["tests"]
        counts["failures"] += suite_counts["failures"]
    for name, value in counts.items():
        root.set(name, str(value))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- HTML --------------------------------------------------------------------------------------------------------------

def _e(value):
    """Text escaped for HTML (element content and quoted attribute values)."""
    return html.escape(_text(value), quote=True)


def _fmt(number):
    """A number for SVG coordinates: at most 1 decimal, no trailing zeros (deterministic)."""
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


SEVERITY_COLOURS = {"critical": "#8b0000", "high": "#d1361b", "medium": "#e08a00", "low": "#3c7dc4"}
STATUS_COLOURS = {"fail": "#d1361b", "pass": "#2e8540", "na": "#a7adb4"}
SEGMENT_WORDS = {"fail": "failing", "pass": "passing or waived", "na": "not applicable or disabled"}

CSS = """
:root { --fail: #d1361b; --pass: #2e8540; --na: #a7adb4; --line: #d6d9dd; --ink: #1d2329; --muted: #5b636b; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0; padding: 0 24px 48px; background: #f7f8fa; }
header { padding: 20px 0 8px; border-bottom: 2px solid var(--line); margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 28px 0 10px; }
.meta { color: var(--muted); margin: 0 0 10px; }
.totals { display: flex; flex-wrap: wrap; gap: 10px; margin: 0; padding: 0; list-style: none; }
.totals li { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.totals b { display: block; font-size: 20px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef0f3; font-weight: 600; white-space: nowrap; }
th.sortable { cursor: pointer; user-select: none; }
th.sortable::after { content: " \\2195"; color: var(--muted); }
th[aria-sort="ascending"]::after { content: " \\2191"; color: var(--ink); }
th[aria-sort="descending"]::after { content: " \\2193"; color: var(--ink); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.id { color: var(--muted); font-size: 12px; font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
.sev { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.sev-critical { background: #8b0000; } .sev-high { background: #d1361b; } .sev-medium { background: #e08a00; }
.sev-low { background: #3c7dc4; }
.share { display: flex; align-items: center; gap: 8px; min-width: 160px; }
.share-bar { flex: 1; height: 10px; background: #f3c9c1; border-radius: 5px; overflow: hidden; }
.share-bar span { display: block; height: 100%; background: var(--pass); }
.controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 8px; }
.controls input, .controls select { font: inherit; padding: 4px 6px; border: 1px solid #aab0b6; border-radius: 4px; }
.controls input { min-width: 260px; }
#findings-more { font: inherit; margin-top: 8px; padding: 4px 12px; border: 1px solid #aab0b6; border-radius: 4px; background: #fff; cursor: pointer; }
.waived-yes { color: var(--muted); font-style: italic; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
.legend { color: var(--muted); font-size: 12px; margin-top: 4px; }
.empty { color: var(--muted); font-style: italic; }
"""

JS = """
(function () {
  'use strict';
  var table = document.getElementById('findings');
  if (!table) { return; }
  var body = table.tBodies[0];
  var text = document.getElementById('filter-text');
  var selects = { severity: document.getElementById('filter-severity'), rule: document.getElementById('filter-rule'),
                  instance: document.getElementById('filter-instance') };
  var count = document.getElementById('findings-count');
  var more = document.getElementById('findings-more');
  var page = Number(table.getAttribute('data-page')) || 500;
  var limit = page;
  var rows = Array.prototype.slice.call(body.rows);

  function rowText(row) {
    if (row.searchText === undefined) { row.searchText = row.textContent.toLowerCase(); }
    return row.searchText;
  }

  // Only the first `limit` matching rows are shown (a page at a time, "Show more" adds one): a report of a large
  // estate holds tens of thousands of findings, and laying them all out would stall the browser.
  function apply(keepLimit) {
    if (keepLimit !== true) { limit = page; }
    var needle = text.value.trim().toLowerCase();
    var matched = 0, shown = 0;
    rows.forEach(function (row) {
      var ok = (!needle || rowText(row).indexOf(needle) !== -1);
      Object.keys(selects).forEach(function (name) {
        var value = selects[name].value;
        if (value && row.getAttribute('data-' + name) !== value) { ok = false; }
      });
      if (ok) { matched += 1; }
      row.hidden = !(ok && matched <= limit);
      if (!row.hidden) { shown += 1; }
    });
    count.textContent = shown === matched ? shown + ' of ' + rows.length + ' findings shown'
      : shown + ' of ' + matched + ' matching findings shown (' + rows.length + ' in all)';
    more.hidden = shown === matched;
  }

  function cellKey(row, index) {
    var cell = row.cells[index];
    var key = cell.getAttribute('data-sort');
    return key === null ? cell.textContent.trim().toLowerCase() : key;
  }

  function compare(a, b) {
    var na = Number(a), nb = Number(b);
    if (a !== '' && b !== '' && !isNaN(na) && !isNaN(nb)) { return na - nb; }
    return a < b ? -1 : (a > b ? 1 : 0);
  }

  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th, index) {
    if (!th.classList.contains('sortable')) { return; }
    th.tabIndex = 0;
    function sort() {
      var descending = th.getAttribute('aria-sort') === 'ascending';
      headers.forEach(function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      var order = rows.map(function (row, position) { return [cellKey(row, index), position, row]; });
      order.sort(function (a, b) { return (descending ? -compare(a[0], b[0]) : compare(a[0], b[0])) || (a[1] - b[1]); });
      rows = order.map(function (entry) { return entry[2]; });
      var fragment = document.createDocumentFragment();
      rows.forEach(function (row) { fragment.appendChild(row); });
      body.appendChild(fragment);
      apply(true);
    }
    th.addEventListener('click', sort);
    th.addEventListener('keydown', function (event) { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sort(); } });
  });

  text.addEventListener('input', apply);
  Object.keys(selects).forEach(function (name) { selects[name].addEventListener('change', apply); });
  more.addEventListener('click', function () { limit += page; apply(true); });
  apply();
}());
"""


def _severity_badge(severity):
    return f'<span class="sev sev-{_e(severity)}">{_e(severity)}</span>' if severity in SEVERITY_RANK else _e(severity)


def _share_cell(share):
    if share is None:
        return '<td data-sort="-1">n/a</td>'
    return (f'<td data-sort="{share:.4f}"><div class="share"><div class="share-bar" role="img" aria-label="{_percent(share)} compliant">'
            f'<span style="width: {share * 100:.1f}%"></span></div><span>{_percent(share)}</span></div></td>')


def _summary_table(results):
    head = ("<tr><th>Instance</th><th>Service</th><th>Plan</th><th>Region</th><th class=\"num\">Keys</th>"
            + "".join(f'<th class="num">{name.capitalize()}</th>' for name in SEVERITIES)
            + '<th class="num">Waived</th><th>Compliant share</th></tr>')
    rows = []
    for result in results:
        instance, summary = result["instance"], result["summary"]
        open_findings = [finding for finding in result["findings"] if not finding.get("waived")]
        by_severity = {name: sum(1 for finding in open_findings if finding.get("severity") == name) for name in SEVERITIES}
        waived = sum(1 for finding in result["findings"] if finding.get("waived"))
        rows.append(
            f'<tr data-instance="{_e(instance.get("instance_id"))}"><td>{_e(instance_label(result))}'
            + (f'<div class="id">{_e(instance.get("instance_id"))}</div>' if instance.get("name") else "")
            + f'</td><td>{_e(instance.get("service"))}</td>'
            f'<td>{_e(instance.get("plan"))}</td><td>{_e(instance.get("region"))}</td>'
            f'<td class="num">{_e(_num(summary.get("keys"), len(result["keys"])))}</td>'
            + "".join(f'<td class="num">{by_severity[name]}</td>' for name in SEVERITIES)
            + f'<td class="num">{waived}</td>{_share_cell(_share(summary.get("compliant_share")))}</tr>')
    if not rows:
        rows.append(f'<tr><td colspan="{7 + len(SEVERITIES)}" class="empty">No instance evaluated.</td></tr>')
    return f'<table id="summary"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _options(values):
    return "".join(f'<option value="{_e(value)}">{_e(label)}</option>' for value, label in values)


def _findings_section(results):
    findings = [(result, finding) for result in results for finding in result["findings"]]
    rules = list(dict.fromkeys(_text(finding.get("rule")) for _result, finding in findings))
    instances = list(dict.fromkeys((_text(result["instance"].get("instance_id")), instance_label(result)) for result in results))
    controls = (
        '<div class="controls">'
        '<label>Search <input id="filter-text" type="search" placeholder="key, rule, message..." autocomplete="off"></label>'
        '<label>Severity <select id="filter-severity"><option value="">all</option>'
        + _options((name, name) for name in SEVERITIES) + '</select></label>'
        '<label>Rule <select id="filter-rule"><option value="">all</option>' + _options((rule, rule) for rule in rules) + '</select></label>'
        '<label>Instance <select id="filter-instance"><option value="">all</option>' + _options(instances) + '</select></label>'
        f'<span id="findings-count" aria-live="polite">{_count_text(min(len(findings), FINDINGS_PAGE), len(findings), len(findings))}</span></div>')
    head = ('<tr><th class="sortable">Instance</th><th class="sortable">Key</th><th class="sortable">Rule</th>'
            '<th class="sortable">Severity</th><th class="sortable">Message</th><th class="sortable">Waived</th></tr>')
    rows = []
    for result, finding in findings:
        severity = _text(finding.get("severity"))
        if finding.get("key_id"):
            aliases = finding.get("key_aliases") or []
            key = (f'{_e(finding.get("key_name") or finding.get("key_id"))}'
                   + (f' <span class="id">({_e(aliases)})</span>' if aliases else "")
                   + f'<div class="id">{_e(finding.get("key_id"))}</div>')
            key_sort = _text(finding.get("key_name") or finding.get("key_id")).lower()
        else:
            key, key_sort = '<span class="empty">instance</span>', ""
        waiver = finding.get("waiver") or {}
        waived = (f'<span class="waived-yes">yes: {_e(waiver.get("reason"))} (expires {_e(waiver.get("expires"))})</span>'
                  if finding.get("waived") else "no")
        detail = ""
        if finding.get("observed") is not None or finding.get("expected") is not None:
            detail = f'<div class="id">observed {_e(finding.get("observed"))}; expected {_e(finding.get("expected"))}</div>'
        rows.append(
            f'<tr{" hidden" if len(rows) >= FINDINGS_PAGE else ""} data-severity="{_e(severity)}" data-rule="{_e(finding.get("rule"))}" '
            f'data-instance="{_e(result["instance"].get("instance_id"))}" data-waived="{"yes" if finding.get("waived") else "no"}">'
            f'<td>{_e(instance_label(result))}</td><td data-sort="{_e(key_sort)}">{key}</td>'
            f'<td><span title="{_e(finding.get("title"))}">{_e(finding.get("rule"))}</span></td>'
            f'<td data-sort="{SEVERITY_RANK.get(severity, len(SEVERITIES))}">{_severity_badge(severity)}</td>'
            f'<td>{_e(finding.get("message"))}{detail}</td><td data-sort="{1 if finding.get("waived") else 0}">{waived}</td></tr>')
    empty = '' if rows else '<p class="empty">No findings.</p>'
    more = (f'<button id="findings-more" type="button"{"" if len(rows) > FINDINGS_PAGE else " hidden"}>'
            f'Show {FINDINGS_PAGE} more</button>')
    return (f'{controls}<table id="findings" data-page="{FINDINGS_PAGE}"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
            f'</table>{more}{empty}')


def _count_text(shown, matched, total):
    """The findings counter, as the page's script writes it."""
    if shown == matched:
        return f"{shown} of {total} findings shown"
    return f"{shown} of {matched} matching findings shown ({total} in all)"


def _svg(chart_id, width, height, label, body):
    return (f'<svg id="{chart_id}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_e(label)}">{body}</svg>')


def instance_chart(results):
    """Horizontal bars: the compliant share of each instance (one ``rect.bar`` per instance)."""
    row, left, width = 26, 170, 300
    height = 30 + row * max(1, len(results))
    parts = [f'<line x1="{left}" y1="8" x2="{left}" y2="{height - 18}" stroke="#8a9199"/>']
    for tick in (0, 50, 100):
        x = left + width * tick / 100
        parts.append(f'<line x1="{_fmt(x)}" y1="{height - 18}" x2="{_fmt(x)}" y2="{height - 14}" stroke="#8a9199"/>'
                     f'<text x="{_fmt(x)}" y="{height - 3}" text-anchor="middle">{tick}%</text>')
    for index, result in enumerate(results):
        share = _share(result["summary"].get("compliant_share"))
        y = 10 + index * row
        label = instance_label(result)
        short = label if len(label) <= 24 else label[:23] + "\u2026"
        length = width * (share or 0)
        colour = STATUS_COLOURS["pass"] if (share or 0) >= 0.9 else ("#e08a00" if (share or 0) >= 0.7 else STATUS_COLOURS["fail"])
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(short)}</text>'
                     f'<rect x="{left}" y="{y}" width="{width}" height="18" fill="#eef0f3"/>'
                     f'<rect class="bar" x="{left}" y="{y}" width="{_fmt(length)}" height="18" fill="{colour}">'
                     f'<title>{_e(label)}: {_percent(share)} compliant</title></rect>'
                     f'<text x="{_fmt(left + length + 4)}" y="{y + 13}">{_percent(share)}</text>')
    return _svg("chart-instances", left + width + 50, height, "Compliant share per instance", "".join(parts))


def rule_chart(results):
    """Stacked bars per rule: how many instances fail it, pass it (or have it waived), or where it does not apply.

    One ``g.rule-bar`` per rule, holding a ``rect.seg-fail``, ``rect.seg-pass`` and ``rect.seg-na`` for the non-zero
    parts; the label gives the share of the rule's checks (keys or instances) that passed.
    """
    rules = rule_table(results)
    row, left, width = 24, 200, 260
    height = 20 + row * max(1, len(rules))
    parts = []
    for index, rule in enumerate(rules):
        statuses = rule["statuses"]
        counts = (("fail", statuses["fail"]), ("pass", statuses["pass"] + statuses["waived"]),
                  ("na", statuses["not_applicable"] + statuses["disabled"]))
        total = sum(count for _name, count in counts) or 1
        y = 6 + index * row
        x = float(left)
        segments = []
        for name, count in counts:
            if not count:
                continue
            segment = width * count / total
            segments.append(f'<rect class="seg seg-{name}" x="{_fmt(x)}" y="{y}" width="{_fmt(segment)}" height="16" '
                            f'fill="{STATUS_COLOURS[name]}"><title>{_e(rule["id"])}: {count} instance(s) '
                            f'{SEGMENT_WORDS[name]}</title></rect>')
            x += segment
        checked = rule["checked"]
        passed = f'{(checked - rule["failed"]) / checked * 100:.0f}% of {checked} checks' if checked else "no check"
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_e(rule["id"])}</text>'
                     f'<g class="rule-bar" data-rule="{_e(rule["id"])}">{"".join(segments)}</g>'
                     f'<text x="{left + width + 6}" y="{y + 12}">{passed}</text>')
    return _svg("chart-rules", left + width + 120, height, "Compliance per rule", "".join(parts))


def key_chart(results):
    """Scatter of root keys: x = days since the last rotation (else creation), y = rotation interval in days.

    Points right of (below) the diagonal x = y are overdue (red); keys without automatic rotation are drawn on a band
    under the x axis (grey). One ``circle.point`` per key of ``key_points``, up to KEY_POINTS_MAX keys; beyond, one per
    spot (a pixel of the chart and a status), its ``data-keys`` and title counting the keys there.
    """
    points = key_points(results)
    left, top, size, band = 84, 12, 300, 34
    scale_max = max([30.0] + [point["days"] for point in points] + [point["interval_days"] for point in points if point["interval_days"]])
    step = next(step for step in (30, 90, 180, 365, 730, 1825, 3650, 10**9) if scale_max / step <= 6)
    scale_max = step * -(-scale_max // step)

    def sx(days):
        return left + size * min(days, scale_max) / scale_max

    def sy(days):
        return top + size - size * min(days, scale_max) / scale_max

    bottom = top + size
    parts = [f'<polygon points="{left},{bottom} {left + size},{bottom} {left + size},{top}" fill="#fbe3de"/>',
             f'<text x="{left + size - 6}" y="{bottom - 8}" text-anchor="end" fill="#a52a14">overdue</text>',
             f'<line x1="{left}" y1="{bottom}" x2="{left + size}" y2="{top}" stroke="#a52a14" stroke-dasharray="4 3"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#8a9199"/>',
             f'<line x1="{left}" y1="{bottom}" x2="{left + size}" y2="{bottom}" stroke="#8a9199"/>',
             f'<rect x="{left}" y="{bottom + 22}" width="{size}" height="{band - 8}" fill="#eef0f3"/>',
             f'<text x="{left - 6}" y="{bottom + 22 + (band - 8) / 2 + 4:.0f}" text-anchor="end">no rotation</text>']
    tick = 0
    while tick <= scale_max:
        parts.append(f'<text x="{_fmt(sx(tick))}" y="{bottom + 14}" text-anchor="middle">{tick}</text>'
                     f'<text x="{left - 6}" y="{_fmt(sy(tick) + 4)}" text-anchor="end">{tick}</text>')
        tick += step
    parts.append(f'<text x="{left + size / 2:.0f}" y="{bottom + band + 34}" text-anchor="middle">days since the last rotation (or creation)</text>'
                 f'<text transform="translate(12 {top + size / 2:.0f}) rotate(-90)" text-anchor="middle">rotation interval (days)</text>')
    spots = {}  # (x, y, overdue) -> the points drawn there: one each up to KEY_POINTS_MAX keys
    for point in points:
        if point["interval_days"] is None:
            cx, cy = sx(point["days"]), bottom + 22 + (band - 8) / 2
        else:
            cx, cy = sx(point["days"]), sy(point["interval_days"])
        spot = (round(cx), round(cy), point["overdue"], point["interval_days"] is None) if len(points) > KEY_POINTS_MAX else len(spots)
        spots.setdefault(spot, (cx, cy, []))[2].append(point)
    for cx, cy, group in spots.values():
        point = group[0]
        if point["interval_days"] is None:
            colour, state = "#6b737b", "no automatic rotation"
        else:
            colour, state = (STATUS_COLOURS["fail"], "overdue") if point["overdue"] else (STATUS_COLOURS["pass"], "within its interval")
        if len(group) == 1:
            title = (f'{_e(point["instance"])} / {_e(point["key"])}: {_e(point["days"])} days since rotation; '
                     f'{"interval " + _fmt(point["interval_days"]) + " days" if point["interval_days"] is not None else "no interval"}'
                     f' ({state})')
        else:
            names = ", ".join(f'{_e(item["instance"])} / {_e(item["key"])}' for item in group[:5])
            title = f'{len(group)} keys here ({state}): {names}{", ..." if len(group) > 5 else ""}'
        parts.append(f'<circle class="point" data-overdue="{"yes" if point["overdue"] else "no"}" data-keys="{len(group)}" '
                     f'cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="5" fill="{colour}" fill-opacity="0.85" stroke="#fff"><title>{title}</title></circle>')
    return _svg("chart-keys", left + size + 20, bottom + band + 44, "Key age against rotation interval", "".join(parts))


def _rules_table(results):
    head = ('<tr><th>Rule</th><th>Title</th><th>Benchmarks</th><th>Severity</th><th class="num">Pass</th><th class="num">Fail</th>'
            '<th class="num">Waived</th><th class="num">Not applicable</th><th class="num">Disabled</th>'
            '<th class="num">Checked</th><th class="num">Failed checks</th></tr>')
    rows = []
    for rule in rule_table(results):
        statuses = rule["statuses"]
        rows.append(f'<tr data-rule="{_e(rule["id"])}"><td>{_e(rule["id"])}</td><td>{_e(rule["title"])}</td>'
                    f'<td>{_e(rule["benchmarks"]) or "&mdash;"}</td><td>{_severity_badge(rule["severity"])}</td>'
                    + "".join(f'<td class="num">{statuses[status]}</td>' for status in STATUSES)
                    + f'<td class="num">{rule["checked"]}</td><td class="num">{rule["failed"]}</td></tr>')
    if not rows:
        rows.append('<tr><td colspan="11" class="empty">No rule evaluated.</td></tr>')
    return f'<table id="rules"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _unused_waivers(results):
    items = [f'<li>{_e(instance_label(result))}: {_e(waiver_text(waiver))}</li>' for result in results for waiver in result["unused_waivers"]]
    if not items:
        return ""
    return f'<h2>Unused waivers</h2><p class="meta">Waivers that match no finding.</p><ul id="unused-waivers">{"".join(items)}</ul>'


def render_html(results, title=None):
    """One self-contained HTML document (inline CSS, JavaScript and SVG; no external URL) reporting the results."""
    results = normalize(results)
    title = _text(title) or "ibm.hs_crypto compliance report"
    total = totals(results)
    when = evaluation_time(results)
    share = overall_share(results)
    tiles = [("Instances", total["instances"]), ("Keys", total["keys"]), ("Open findings", total["findings"])]
    tiles += [(name.capitalize(), total["by_severity"][name]) for name in SEVERITIES]
    tiles += [("Waived", total["waived"]), ("Compliant share", _percent(share))]
    header = (f'<header><h1>{_e(title)}</h1>'
              f'<p class="meta">Evaluated at <time id="evaluated-at">{_e(when) or "unknown"}</time>'
              f' by ibm.hs_crypto.hs_crypto_compliance_info</p>'
              f'<ul class="totals" id="totals">'
              + "".join(f'<li data-total="{_e(name.lower().replace(" ", "-"))}"><b>{_e(value)}</b>{_e(name)}</li>' for name, value in tiles)
              + '</ul></header>')
    charts = ('<div class="charts">'
              f'<figure><figcaption>Compliant share per instance</figcaption>{instance_chart(results)}'
              '<div class="legend">Share of passed checks (keys and instance settings) per instance.</div></figure>'
              f'<figure><figcaption>Compliance per rule</figcaption>{rule_chart(results)}'
              '<div class="legend"><span style="color:#d1361b">&#9632;</span> instances failing '
              '<span style="color:#2e8540">&#9632;</span> passing or waived '
              '<span style="color:#a7adb4">&#9632;</span> not applicable or disabled; right: passed checks.</div></figure>'
              f'<figure><figcaption>Key age against rotation interval (root keys)</figcaption>{key_chart(results)}'
              '<div class="legend">Keys in the shaded area, past the diagonal, are past their rotation interval (the '
              'rotation-overdue rule adds its grace days before it reports them); an interval of one month counts as '
              f'{DAYS_PER_MONTH} days. Keys without automatic rotation are on the band below the axis.</div></figure></div>')
    document = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{header}\n'
        f'<section><h2>Instances</h2>{_summary_table(results)}</section>\n'
        f'<section><h2>Charts</h2>{charts}</section>\n'
        f'<section><h2>Findings</h2>{_findings_section(results)}</section>\n'
        f'<section><h2>Rules</h2>{_rules_table(results)}</section>\n'
        f'{_unused_waivers(results)}\n'
        f'<script>{JS}</script>\n</body>\n</html>\n')
    return document
