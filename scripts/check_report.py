"""Render the compliance reports from hs_crypto_compliance_info results and check them: JUnit against its schema, HTML in Chromium.

Usage:
  python scripts/check_report.py RESULTS_JSON OUT_DIR [--xsd PATH] [--no-browser]

RESULTS_JSON holds what ``hs_crypto_compliance_info`` returns, one result per instance (a list, or a dictionary
inventory_hostname -> result), for example tests/unit/fixtures/compliance_results.json. The script renders both reports
with plugins/plugin_utils/_compliance_report.py (imported by path: the code the filters ``hs_crypto_compliance_junit``
and ``hs_crypto_compliance_html`` run) into OUT_DIR/compliance-junit.xml and OUT_DIR/compliance-report.html, then:

1. JUnit: validates the XML with the ``xmlschema`` package against Jenkins' ``junit-10.xsd``, the schema pytest
   validates its own junitxml output against, and checks one testsuite per instance and one testcase per rule.
   ``--xsd PATH`` names the schema. Without it the script fetches it through pip only (nothing else is downloaded):
   ``pip download --no-deps --no-binary :all: pytest==<PYTEST_PIN> -d OUT_DIR`` (pytest's sdist; the pin is
   tests/constraints.txt's), then extracts ``*/testing/example_scripts/junit-10.xsd`` into OUT_DIR. The nox session
   can do the same and pass ``--xsd``.
2. HTML (skipped with ``--no-browser``): opens the file in headless Chromium through selenium (Debian's chromium and
   chromium-driver, started as scripts/docsite.py starts them) and checks that
   - no request leaves the file: Chromium's performance log (DevTools Network events) and the page's resource timing
     list only file:// URLs (and the log must show the page's own file:// request, so that an empty log is not taken as
     proof);
   - each SVG chart has a non-zero size and the expected number of bars or points (computed here from RESULTS_JSON);
   - a hostile text (``<script>``...) in the results is shown as text, and no script of it ran;
   - typing into the findings' search box shrinks the visible rows to those that contain the text, and the severity
     select keeps only that severity;
   - clicking the Severity header sorts by rank (critical first), clicking again reverses;
   then saves a screenshot of the whole page to OUT_DIR/compliance-report.png. A second page, OUT_DIR/
   compliance-report-large.html, holds more findings than the table shows at first: one page of rows is visible, "Show
   more" adds a page until every row shows, and a search finds a row beyond the first page.

Prints which checks ran and which passed; exits 1 naming every check that failed (2 for bad usage).
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RENDERER = os.path.join(ROOT, 'plugins', 'plugin_utils', '_compliance_report.py')
CONSTRAINTS = os.path.join(ROOT, 'tests', 'constraints.txt')
XSD_MEMBER = 'testing/example_scripts/junit-10.xsd'

CHROMIUM = os.environ.get('HS_CRYPTO_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('HS_CRYPTO_CHROMEDRIVER', '/usr/bin/chromedriver')
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage')
SEVERITY_RANK = {'critical': 0, 'high': 1, 'medium': 2, 'low': 3}


def load_renderer():
    """plugins/plugin_utils/_compliance_report.py, imported by path (no Ansible, no collection path needed)."""
    spec = importlib.util.spec_from_file_location('hs_crypto_compliance_report', RENDERER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_pin() -> str:
    with open(CONSTRAINTS, encoding='utf-8') as handle:
        for line in handle:
            match = re.match(r'\s*pytest==([^\s#]+)', line)
            if match:
                return match.group(1)
    raise RuntimeError(f'no pytest== pin in {CONSTRAINTS}')


def fetch_junit_xsd(out_dir: str, version: str | None = None) -> str:
    """Jenkins' junit-10.xsd from pytest's sdist, downloaded by pip into OUT_DIR; the path of the extracted schema."""
    version = version or pytest_pin()
    target = os.path.join(out_dir, 'junit-10.xsd')
    with tempfile.TemporaryDirectory(prefix='hs-crypto-pytest-sdist-') as download:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--no-binary', ':all:',
                        f'pytest=={version}', '-d', download], check=True)
        archives = glob.glob(os.path.join(download, 'pytest-*.tar.gz'))
        if len(archives) != 1:
            raise RuntimeError(f'pip download of pytest=={version} gave {os.listdir(download)}, not one sdist')
        with tarfile.open(archives[0]) as sdist:
            members = [member for member in sdist.getmembers() if member.name.endswith('/' + XSD_MEMBER) and member.isfile()]
            if not members:
                raise RuntimeError(f'{os.path.basename(archives[0])} has no */{XSD_MEMBER}')
            with sdist.extractfile(members[0]) as source, open(target, 'wb') as handle:
                handle.write(source.read())
    return target


class Report:
    """Checks run, passed and failed, by name."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.failures: list[str] = []

    def check(self, name: str, ok: bool, detail: str = '') -> bool:
        self.ran.append(name)
        if ok:
            print(f'  ok    {name}' + (f' ({detail})' if detail else ''))
        else:
            self.failures.append(f'{name}: {detail}' if detail else name)
            print(f'  FAIL  {name}' + (f': {detail}' if detail else ''))
        return ok


# --- JUnit -----------------------------------------------------------------------------------------------------------

def check_junit(report: Report, junit_path: str, xsd_path: str, results: list) -> None:
    import xml.etree.ElementTree as ET

    try:
        import xmlschema
    except ImportError:
        report.check('junit: schema validation', False, 'the xmlschema package is not installed (pip install xmlschema)')
        return
    try:
        schema = xmlschema.XMLSchema(xsd_path)
    except (OSError, xmlschema.XMLSchemaException) as exc:
        report.check('junit: read the schema', False, f'{xsd_path}: {str(exc).splitlines()[0]}')
        return
    errors = [str(error).splitlines()[0] for error in schema.iter_errors(junit_path)]
    report.check(f'junit: valid against {os.path.basename(xsd_path)}', not errors, '; '.join(errors[:5]))
    root = ET.parse(junit_path).getroot()
    suites = root.findall('testsuite')
    report.check('junit: one testsuite per instance', len(suites) == len(results), f'{len(suites)} suites, {len(results)} instances')
    cases = [len(suite.findall('testcase')) for suite in suites]
    rules = [len(result['rules']) for result in results]
    report.check('junit: one testcase per rule and instance', cases == rules, f'testcases {cases}, rules {rules}')
    failed = sum(1 for result in results for rule in result['rules'] if rule.get('status') == 'fail')
    report.check('junit: failures counted', root.get('failures') == str(failed), f"failures={root.get('failures')}, failed rules {failed}")


# --- HTML in Chromium ------------------------------------------------------------------------------------------------

def start_browser(profile_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument('--user-data-dir=' + profile_dir)
    options.add_argument('--window-size=1400,1000')
    # Chromium's DevTools Network events, read back through the performance log: every request the page makes.
    options.set_capability('goog:loggingPrefs', {'performance': 'ALL'})
    service = Service(executable_path=CHROMEDRIVER, log_output=os.path.join(profile_dir, 'chromedriver.log'))

    return webdriver.Chrome(options=options, service=service)


def expected_counts(results: list) -> dict:
    """What the charts must hold, computed from the input (independently of the renderer)."""
    rules = []
    for result in results:
        for rule in result['rules']:
            if rule.get('id') not in rules:
                rules.append(rule.get('id'))
    points = [key for result in results for key in result.get('keys') or []
              if key.get('type') == 'root' and isinstance(key.get('days_since_rotation'), (int, float))]
    findings = [(result, finding) for result in results for finding in result.get('findings') or []]
    return {'instances': len(results), 'rules': len(rules), 'points': len(points), 'findings': len(findings)}


VISIBLE_ROWS = """
return Array.prototype.slice.call(document.querySelectorAll('#findings tbody tr'))
  .filter(function (row) { return !row.hidden && row.getBoundingClientRect().height > 0; })
  .map(function (row) { return {text: row.textContent, severity: row.getAttribute('data-severity')}; });
"""

CHART_BOXES = """
return ['chart-instances', 'chart-rules', 'chart-keys'].map(function (id) {
  var svg = document.getElementById(id);
  if (!svg) { return {id: id, missing: true}; }
  var box = svg.getBoundingClientRect();
  return {id: id, width: box.width, height: box.height,
          bars: svg.querySelectorAll('rect.bar').length, ruleBars: svg.querySelectorAll('g.rule-bar').length,
          points: svg.querySelectorAll('circle.point').length,
          drawn: Array.prototype.slice.call(svg.querySelectorAll('rect.bar, g.rule-bar, circle.point'))
            .filter(function (shape) { var b = shape.getBoundingClientRect(); return b.width > 0 || b.height > 0; }).length};
});
"""


def requests_made(driver) -> list[str]:
    """The URLs requested since the last call, from the performance log (Network.requestWillBeSent, WebSockets).

    Requests of Chromium's own pages (a chrome:// document such as the new tab page still loading) are left out: they
    are not the report's.
    """
    urls = []
    for entry in driver.get_log('performance'):
        message = json.loads(entry['message'])['message']
        params = message.get('params') or {}
        if message.get('method') == 'Network.requestWillBeSent' and not (params.get('documentURL') or '').startswith('chrome://'):
            urls.append(params['request']['url'])
        elif message.get('method') == 'Network.webSocketCreated':
            urls.append(params['url'])
    return urls


def check_html(report: Report, html_path: str, out_dir: str, results: list) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    expected = expected_counts(results)
    url = 'file://' + os.path.abspath(html_path)
    with tempfile.TemporaryDirectory(prefix='hs-crypto-chromium-') as profile_dir:
        driver = start_browser(profile_dir)
        try:
            driver.get('about:blank')
            time.sleep(0.5)
            requests_made(driver)  # drain what the browser loaded for itself at start
            driver.get(url)
            time.sleep(0.5)  # let anything the page would load start
            # 1. requests: only the file itself
            seen = requests_made(driver)
            resources = driver.execute_script("return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
            leaving = sorted({request for request in seen + resources if not request.startswith('file://')})
            report.check('html: the request log saw the page load', url in seen, f'{len(seen)} request(s) logged')
            report.check('html: no request leaves the file (file:// only)', not leaving, ', '.join(leaving[:5]))
            report.check('html: no JavaScript error', not [entry for entry in driver.get_log('browser') if entry['level'] == 'SEVERE'])

            # 2. charts
            boxes = {box['id']: box for box in driver.execute_script(CHART_BOXES)}
            for chart_id, count_name, expected_count in (('chart-instances', 'bars', expected['instances']),
                                                         ('chart-rules', 'ruleBars', expected['rules']),
                                                         ('chart-keys', 'points', expected['points'])):
                box = boxes[chart_id]
                report.check(f'html: {chart_id} has a size', not box.get('missing') and box['width'] > 0 and box['height'] > 0,
                             'missing' if box.get('missing') else f"{box['width']:.0f}x{box['height']:.0f}")
                if not box.get('missing'):
                    report.check(f'html: {chart_id} draws {expected_count} {count_name}',
                                 box[count_name] == expected_count and box['drawn'] >= min(1, expected_count),
                                 f"{box[count_name]} found, {box['drawn']} with a size")

            # 3. escaping, as a browser sees it: no script of the data ran; a hostile text is shown as text
            report.check('html: one script element only (none from the data)',
                         driver.execute_script("return document.scripts.length;") == 1)
            hostile = next((finding.get('key_name') for result in results for finding in result.get('findings') or []
                            if '<' in (finding.get('key_name') or '')), None)
            if hostile:
                body = driver.find_element(By.TAG_NAME, 'body').text
                report.check('html: a key name with markup is shown as text', hostile in body, hostile)

            # 4. filtering
            rows = driver.execute_script(VISIBLE_ROWS)
            report.check('html: every finding is a visible row', len(rows) == expected['findings'], f"{len(rows)} rows")
            needle = pick_needle(results, rows)
            if needle:
                box = driver.find_element(By.ID, 'filter-text')
                box.send_keys(needle)
                filtered = driver.execute_script(VISIBLE_ROWS)
                should = [row for row in rows if needle.lower() in row['text'].lower()]
                report.check(f'html: typing {needle!r} shrinks the findings', 0 < len(filtered) < len(rows) and len(filtered) == len(should),
                             f'{len(rows)} -> {len(filtered)} rows, {len(should)} expected')
                counter = driver.find_element(By.ID, 'findings-count').text
                report.check('html: the count follows the filter', counter.startswith(f'{len(filtered)} of {len(rows)}'), counter)
                box.clear()
                box.send_keys(' ')  # clear() sends no input event; a blank is trimmed by the filter
                report.check('html: clearing the search shows every row again', len(driver.execute_script(VISIBLE_ROWS)) == len(rows))
            severities = sorted({row['severity'] for row in rows}, key=lambda name: SEVERITY_RANK.get(name, 9))
            if severities:
                Select(driver.find_element(By.ID, 'filter-severity')).select_by_value(severities[0])
                kept = driver.execute_script(VISIBLE_ROWS)
                report.check(f'html: the severity select keeps the {severities[0]} findings',
                             kept and all(row['severity'] == severities[0] for row in kept)
                             and len(kept) == sum(1 for row in rows if row['severity'] == severities[0]), f'{len(kept)} rows')
                Select(driver.find_element(By.ID, 'filter-severity')).select_by_value('')

            # 5. sorting by severity rank
            header = driver.find_element(By.XPATH, "//table[@id='findings']/thead//th[normalize-space(.)='Severity']")
            header.click()
            ranks = [SEVERITY_RANK.get(row['severity'], 9) for row in driver.execute_script(VISIBLE_ROWS)]
            report.check('html: clicking Severity sorts by rank, critical first', ranks == sorted(ranks) and len(ranks) == len(rows),
                         ' '.join(map(str, ranks)))
            header.click()
            ranks = [SEVERITY_RANK.get(row['severity'], 9) for row in driver.execute_script(VISIBLE_ROWS)]
            report.check('html: clicking again reverses it', ranks == sorted(ranks, reverse=True), ' '.join(map(str, ranks)))
            report.check('html: the header shows the order', header.get_attribute('aria-sort') == 'descending',
                         str(header.get_attribute('aria-sort')))

            # 6. screenshot of the whole page
            height = driver.execute_script('return document.documentElement.scrollHeight;')
            driver.set_window_size(1400, min(max(height + 200, 800), 12000))
            header.click()  # back to critical first for the picture
            driver.execute_script('window.scrollTo(0, 0);')
            shot = os.path.join(out_dir, 'compliance-report.png')
            report.check('html: screenshot saved', driver.save_screenshot(shot) and os.path.getsize(shot) > 0, shot)
        finally:
            driver.quit()


def large_results(results: list, count: int) -> list:
    """The results with the first instance holding ``count`` findings, each on a key of its own named bulk-NNNNN."""
    first = json.loads(json.dumps(results[0]))
    template = next((finding for finding in first.get('findings') or [] if finding.get('key_id')), None)
    if template is None:
        return []
    first['findings'] = [dict(template, key_id=f'00000000-0000-4000-8000-{index:012d}', key_name=f'bulk-{index:05d}', key_aliases=[])
                         for index in range(count)]
    return [first]


def check_large_html(report: Report, renderer, results: list, out_dir: str) -> None:
    """A findings table longer than a page: one page of rows visible, "Show more" adds a page until none is left, and
    a search reaches the hidden rows."""
    from selenium.webdriver.common.by import By

    page = renderer.FINDINGS_PAGE
    total = 2 * page + 7
    data = large_results(results, total)
    if not data:
        report.check('html (large): the results have a finding on a key to copy', False)
        return
    html_path = os.path.join(out_dir, 'compliance-report-large.html')
    with open(html_path, 'w', encoding='utf-8') as handle:
        handle.write(renderer.render_html(data))
    with tempfile.TemporaryDirectory(prefix='hs-crypto-chromium-') as profile_dir:
        driver = start_browser(profile_dir)
        try:
            driver.get('file://' + os.path.abspath(html_path))
            rows = driver.execute_script(VISIBLE_ROWS)
            counter = driver.find_element(By.ID, 'findings-count')
            more = driver.find_element(By.ID, 'findings-more')
            report.check(f'html (large): {total} findings show one page of {page}', len(rows) == page, f'{len(rows)} rows')
            report.check('html (large): the count says so', counter.text == f'{page} of {total} matching findings shown ({total} in all)',
                         counter.text)
            shown = [len(rows)]
            while more.is_displayed() and len(shown) < 5:
                more.click()
                shown.append(len(driver.execute_script(VISIBLE_ROWS)))
            report.check('html (large): "Show more" adds a page until every row shows, then goes away',
                         shown == [page, 2 * page, total] and not more.is_displayed(), ' -> '.join(map(str, shown)))
            box = driver.find_element(By.ID, 'filter-text')
            box.send_keys(f'bulk-{total - 1:05d}')
            found = driver.execute_script(VISIBLE_ROWS)
            report.check('html (large): the search reaches a row beyond the first page',
                         len(found) == 1 and f'bulk-{total - 1:05d}' in found[0]['text'], f'{len(found)} rows')
            box.clear()
            box.send_keys(' ')  # an input event with an empty needle: back to the first page
            report.check('html (large): clearing the search shows the first page again',
                         len(driver.execute_script(VISIBLE_ROWS)) == page and more.is_displayed())
        finally:
            driver.quit()


def pick_needle(results: list, rows: list) -> str | None:
    """A text that some but not all findings rows contain: a key name, else a rule id."""
    candidates = [finding.get('key_name') for result in results for finding in result.get('findings') or []]
    candidates += [finding.get('rule') for result in results for finding in result.get('findings') or []]
    for candidate in candidates:
        if candidate and '<' not in candidate:
            matching = [row for row in rows if candidate.lower() in row['text'].lower()]
            if 0 < len(matching) < len(rows):
                return candidate
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('results_json', help='hs_crypto_compliance_info results (a list, or inventory_hostname -> result)')
    parser.add_argument('out_dir', help='where the reports, the screenshot and the fetched schema go')
    parser.add_argument('--xsd', help="junit-10.xsd; without it, fetched from pytest's sdist through pip")
    parser.add_argument('--no-browser', action='store_true', help='no Chromium here: only the JUnit schema check')
    args = parser.parse_args(argv)

    os.makedirs(args.out_dir, exist_ok=True)
    renderer = load_renderer()
    with open(args.results_json, encoding='utf-8') as handle:
        data = json.load(handle)
    results = renderer.normalize(data)
    junit_path = os.path.join(args.out_dir, 'compliance-junit.xml')
    html_path = os.path.join(args.out_dir, 'compliance-report.html')
    with open(junit_path, 'w', encoding='utf-8') as handle:
        handle.write(renderer.render_junit(data))
    with open(html_path, 'w', encoding='utf-8') as handle:
        handle.write(renderer.render_html(data))
    print(f'rendered {junit_path} and {html_path} from {len(results)} result(s)')

    report = Report()
    xsd = args.xsd
    if not xsd:
        try:
            xsd = fetch_junit_xsd(args.out_dir)
            print(f'fetched {xsd} from the sdist of pytest=={pytest_pin()}')
        except (OSError, RuntimeError, subprocess.CalledProcessError, tarfile.TarError) as exc:
            report.check('junit: get junit-10.xsd', False, str(exc))
    if xsd:
        check_junit(report, junit_path, xsd, results)

    if args.no_browser:
        print('html: browser checks not run (--no-browser)')
    else:
        try:
            check_html(report, html_path, args.out_dir, results)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # the browser failing is a failed check
            report.check('html: checks in Chromium', False, f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}')
        try:
            check_large_html(report, renderer, results, args.out_dir)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            report.check('html (large): checks in Chromium', False, f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}')

    print(f"checks run: {len(report.ran)} ({'JUnit schema and structure' + ('' if args.no_browser else ', HTML in Chromium')}); "
          f'{len(report.ran) - len(report.failures)} passed, {len(report.failures)} failed')
    for failure in report.failures:
        print(f'error: {failure}', file=sys.stderr)
    return 1 if report.failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
