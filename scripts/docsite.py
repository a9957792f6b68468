"""Helpers of the ``docs`` step of scripts/test: an offline build of the docsite, and its check in a browser.

Usage:
  python scripts/docsite.py offline-conf SITE_DIR
      Make the Sphinx project that ``antsibull-docs sphinx-init`` wrote into SITE_DIR build without network access:
      write a local intersphinx inventory of the docs.ansible.com labels that antsibull-docs' pages link to, and point
      conf.py's ``intersphinx_mapping`` at it (the links still go to docs.ansible.com).
  python scripts/docsite.py check HTML_DIR [--report FILE]
      Open the built site in headless Chromium (selenium driving /usr/bin/chromedriver) and check that the collection
      index, every module's (and other plugin's) page, the role's page and every user guide page are there, and that
      each plugin page renders every option and return value that ``ansible-doc --json`` documents, visibly, under
      its own name.
      Needs ANSIBLE_COLLECTIONS_PATH pointing at the collection.

The browser runs with a fresh profile in a temporary directory and with every background network feature off;
it only ever opens file:// URLs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import typing as t
import zlib

COLLECTION = 'ibm.hs_crypto'
ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/latest/'

# Labels of the Ansible documentation that antsibull-docs' templates refer to: (label, page#anchor, title).
ANSIBLE_LABELS = (
    ('ansible_configuration_settings', 'reference_appendices/config.html', 'Ansible Configuration Settings'),
    ('common_return_values', 'reference_appendices/common_return_values.html', 'Return Values'),
    ('collections_keyword', 'collections_guide/collections_using_playbooks.html#simplifying-module-names-with-the-collections-keyword',
     'Simplifying module names with the collections keyword'),
    ('list_of_collections', 'collections/index.html', 'Collection Index'),
    ('action_plugins', 'plugins/action.html', 'Action plugins'),
    ('callback_plugins', 'plugins/callback.html', 'Callback plugins'),
    ('list_of_callback_plugins', 'collections/index_callback.html', 'Index of all Callback Plugins'),
)

# Ansible's configuration environment variables that plugin docs inherit (the cache options of inventory plugins).
ANSIBLE_ENVVARS = ('ANSIBLE_CACHE_PLUGIN', 'ANSIBLE_CACHE_PLUGIN_CONNECTION', 'ANSIBLE_CACHE_PLUGIN_PREFIX',
                   'ANSIBLE_CACHE_PLUGIN_TIMEOUT', 'ANSIBLE_INVENTORY_USE_EXTRA_VARS')

# Plugin types whose pages are checked (every plugin of the collection of these types has a page).
PLUGIN_TYPES = ('module', 'filter', 'test', 'lookup', 'inventory', 'callback', 'connection')

CHROMIUM = os.environ.get('HS_CRYPTO_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('HS_CRYPTO_CHROMEDRIVER', '/usr/bin/chromedriver')
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage')


# --- offline-conf ------------------------------------------------------------------------------------------------

def write_inventory(path: str) -> None:
    """Write a Sphinx (intersphinx) inventory, format version 2: ANSIBLE_LABELS and ANSIBLE_ENVVARS."""
    lines = [f'{label} std:label -1 {uri} {title}' for label, uri, title in ANSIBLE_LABELS]
    lines += [f'{name} std:envvar 1 reference_appendices/config.html#envvar-$ -' for name in ANSIBLE_ENVVARS]
    header = ('# Sphinx inventory version 2\n# Project: Ansible\n# Version: latest\n'
              '# The remainder of this file is compressed using zlib.\n')

    with open(path, 'wb') as handle:
        handle.write(header.encode('utf-8'))
        handle.write(zlib.compress(('\n'.join(lines) + '\n').encode('utf-8')))


def offline_conf(site_dir: str) -> None:
    inventory = os.path.join(site_dir, 'ansible_offline.inv')
    write_inventory(inventory)

    with open(os.path.join(site_dir, 'conf.py'), 'a', encoding='utf-8') as conf:
        conf.write('\n# Added by scripts/docsite.py: resolve references to the Ansible docs from a local inventory, offline.\n'
                   'intersphinx_mapping = {{\n'
                   '    {!r}: ({!r}, {!r}),\n'
                   '}}\n'.format('ansible_devel', ANSIBLE_DOCS, os.path.abspath(inventory)))


# --- check -------------------------------------------------------------------------------------------------------

def ansible_doc(*args: str) -> dict[str, t.Any]:
    output = subprocess.run(['ansible-doc', '--json', *args], check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def option_paths(options: dict[str, t.Any] | None, prefix: str = '') -> list[str]:
    """Every option and sub-option as antsibull-docs names its anchor: ``rotation/interval_month``."""
    paths = []

    for name, spec in sorted((options or {}).items()):
        path = prefix + name
        paths.append(path)
        paths.extend(option_paths(spec.get('suboptions') or spec.get('options'), path + '/'))

    return paths


def return_paths(values: dict[str, t.Any] | None, prefix: str = '') -> list[str]:
    paths = []

    for name, spec in sorted((values or {}).items()):
        path = prefix + name
        paths.append(path)
        paths.extend(return_paths(spec.get('contains'), path + '/'))

    return paths


def extra_doc_pages(collection_dir: str) -> list[str]:
    """The user guide pages extra-docs.yml lists (antsibull-docs writes them under docsite/)."""
    import yaml  # ansible-core's dependency

    with open(os.path.join(collection_dir, 'docs', 'docsite', 'extra-docs.yml'), encoding='utf-8') as handle:
        data = yaml.safe_load(handle)

    return [entry for section in data.get('sections') or [] for entry in section.get('toctree') or []]


# JavaScript run in each page: which anchors are missing, hidden, or titled with another name.
ANCHOR_PROBE = """
const [ids, prefix] = arguments;
const problems = [];
for (const id of ids) {
  const anchor = document.getElementById(prefix + id);
  if (!anchor) { problems.push(id + ': missing'); continue; }
  const title = anchor.nextElementSibling;
  const leaf = id.split('/').pop().split('--').pop();
  if (!title) { problems.push(id + ': no title after the anchor'); continue; }
  const box = title.getBoundingClientRect();
  if (box.width === 0 || box.height === 0 || getComputedStyle(title).visibility === 'hidden') {
    problems.push(id + ': not visible');
  } else if (!leaf.startsWith('_') && title.innerText.trim().split(/\\s+/)[0] !== leaf) {
    // (antsibull-docs shows positional filter and lookup arguments such as _input and _value by a caption)
    problems.push(id + ': titled ' + JSON.stringify(title.innerText.trim().slice(0, 40)));
  }
}
return problems;
"""


def start_browser(profile_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument('--user-data-dir=' + profile_dir)
    options.add_argument('--window-size=1280,1024')
    service = Service(executable_path=CHROMEDRIVER, log_output=os.path.join(profile_dir, 'chromedriver.log'))

    return webdriver.Chrome(options=options, service=service)


class Checker:
    def __init__(self, driver, html_dir: str) -> None:
        self.driver = driver
        self.html_dir = os.path.abspath(html_dir)
        self.errors: list[str] = []
        self.report: list[dict[str, t.Any]] = []

    def open(self, page: str) -> bool:
        path = os.path.join(self.html_dir, page)

        if not os.path.isfile(path):
            self.errors.append(f'{page}: no such page')
            return False

        self.driver.get('file://' + path)
        body = self.driver.find_element('tag name', 'body').text

        if not body.strip():
            self.errors.append(f'{page}: renders nothing')
            return False

        return True

    def heading(self) -> str:
        return self.driver.execute_script(
            "const h = document.querySelector('h1'); return h ? h.innerText.replace(/\\uf0c1/g, '').trim() : '';")

    def anchors(self, page: str, ids: list[str], prefix: str, what: str) -> int:
        problems = self.driver.execute_script(ANCHOR_PROBE, ids, prefix)
        self.errors.extend(f'{page}: {what} {problem}' for problem in problems)
        return len(ids) - len(problems)

    def plugin_page(self, page: str, title_word: str, options: list[str], returns: list[str]) -> None:
        if not self.open(page):
            return

        heading = self.heading()
        if title_word not in heading:
            self.errors.append(f'{page}: heading {heading!r} does not name {title_word}')

        shown_options = self.anchors(page, options, 'parameter-', 'option')
        shown_returns = self.anchors(page, returns, 'return-', 'return value')
        examples = self.driver.execute_script(
            "const s = document.getElementById('examples'); return s ? s.innerText : '';")

        if 'Examples' in examples and COLLECTION not in examples:
            self.errors.append(f'{page}: the examples do not use the FQCN')

        self.report.append({'page': page, 'heading': heading, 'options': shown_options, 'return_values': shown_returns})

    def simple_page(self, page: str, must_contain: list[str]) -> None:
        if not self.open(page):
            return

        text = self.driver.find_element('tag name', 'body').text
        missing = [word for word in must_contain if word not in text]

        if missing:
            self.errors.append(f"{page}: does not show {', '.join(missing)}")

        self.report.append({'page': page, 'heading': self.heading()})


def check(html_dir: str, report_file: str | None) -> int:
    started = time.monotonic()
    plugins: dict[str, dict[str, t.Any]] = {}

    for plugin_type in PLUGIN_TYPES:
        names = sorted(ansible_doc('-t', plugin_type, '--list', COLLECTION))
        if names:
            plugins[plugin_type] = ansible_doc('-t', plugin_type, *names)

    modules = sorted(plugins['module'])
    module_docs = plugins['module']
    roles = ansible_doc('-t', 'role', '--list', COLLECTION)
    role_docs = ansible_doc('-t', 'role', *sorted(roles))
    # <collection>/plugins/modules/<module>.py
    collection_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(
        module_docs[modules[0]]['doc']['filename']))))
    guide_pages = extra_doc_pages(collection_dir)

    with tempfile.TemporaryDirectory(prefix='hs-crypto-chromium-') as profile_dir:
        driver = start_browser(profile_dir)
        checker = Checker(driver, html_dir)

        try:
            checker.simple_page('index.html', [fqcn.split('.')[-1] for docs in plugins.values() for fqcn in docs] + ['User guide'])

            for plugin_type, docs in sorted(plugins.items()):
                for fqcn in sorted(docs):
                    name = fqcn.split('.')[-1]
                    checker.plugin_page(f'{name}_{plugin_type}.html', name,
                                        option_paths(docs[fqcn]['doc'].get('options')), return_paths(docs[fqcn].get('return')))

            for fqcn in sorted(role_docs):
                name = fqcn.split('.')[-1]
                options = []
                for entry_point, spec in sorted(role_docs[fqcn]['entry_points'].items()):
                    options.extend(f'{entry_point}--{path}' for path in option_paths(spec.get('options')))
                checker.plugin_page(f'{name}_role.html', name, options, [])

            for guide in guide_pages:
                checker.simple_page(f'docsite/{guide}.html', [])
        finally:
            driver.quit()

    for entry in checker.report:
        counts = ''.join(', %d %s' % (entry[key], key.replace('_', ' ')) for key in ('options', 'return_values') if key in entry)
        print(f"  {entry['page']:48} {entry['heading'][:60]}{counts}")

    if report_file:
        with open(report_file, 'w', encoding='utf-8') as handle:
            json.dump({'pages': checker.report, 'errors': checker.errors}, handle, indent=2)

    for error in checker.errors:
        print(f'error: {error}', file=sys.stderr)

    counts = ', '.join(f'{len(docs)} {plugin_type} plugin(s)' for plugin_type, docs in sorted(plugins.items()))
    print('%d pages checked in Chromium (%.1f s): %s, %d role(s), %d guide pages; %d problem(s)'
          % (len(checker.report), time.monotonic() - started, counts, len(role_docs), len(guide_pages), len(checker.errors)))

    return 1 if checker.errors else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    commands = parser.add_subparsers(dest='command', required=True)
    conf = commands.add_parser('offline-conf')
    conf.add_argument('site_dir')
    checking = commands.add_parser('check')
    checking.add_argument('html_dir')
    checking.add_argument('--report')
    args = parser.parse_args(argv)

    if args.command == 'offline-conf':
        offline_conf(args.site_dir)
        return 0

    return check(args.html_dir, args.report)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
