# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the built collection shows must stand on its own.

README.md is the page Galaxy shows for the tarball that ``ansible-galaxy collection build`` makes, and galaxy.yml's
``build_ignore`` leaves the tooling (scripts/, tests/, docs/emulator.md, ...) out of it. So every relative link of
README.md, and every repository path it names outside its section for people with a clone, must be in the tarball;
repository-only material is linked by full URL. The plugins' docstrings and comments cite only files of the
repository (or IBM's API documentation by URL), never notes that do not ship.
"""

import fnmatch
import os
import re

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\s]+)`")
TOP_DIRS = ("docs/", "scripts/", "tests/", "roles/", "playbooks/", "examples/", "plugins/", "meta/", "benchmarks/", ".ci/")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


BUILD_IGNORE = yaml.safe_load(read("galaxy.yml"))["build_ignore"]


def shipped(path):
    """Whether ``ansible-galaxy collection build`` puts the repository path in the tarball (build_ignore patterns are
    matched with fnmatch against every file and directory path, relative to the collection root)."""
    path = path.rstrip("/")
    if not os.path.exists(os.path.join(ROOT, path)):
        return False
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return not any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in BUILD_IGNORE)


def sections(text):
    """(heading, body) of each level-2 section of a markdown text (the part before the first heading has '')."""
    found, heading, body = [], "", []
    for line in text.splitlines():
        if line.startswith("## "):
            found.append((heading, "\n".join(body)))
            heading, body = line[3:], []
        else:
            body.append(line)
    found.append((heading, "\n".join(body)))
    return found


def test_the_shipped_predicate_follows_build_ignore():
    assert shipped("docs/secure-import.md")
    assert shipped("roles/hs_crypto_instance/README.md")
    assert not shipped("docs/emulator.md")
    assert not shipped("scripts/demo")
    assert not shipped("tests/hpcs_emulator")
    assert not shipped("docs/no-such-page.md")


def test_every_relative_link_of_the_readme_is_in_the_tarball():
    """README.md links by full URL (Automation Hub shows it outside the repository: test_collection_metadata.py); a
    relative link that slips in must at least name a file the tarball holds."""
    links = [target for target in LINK.findall(read("README.md")) if "://" not in target and not target.startswith("#")]
    missing = [target for target in links if not shipped(target.split("#")[0])]
    assert missing == [], f"README.md links files the built collection does not hold: {missing}"


def test_the_readme_names_repository_only_paths_only_for_people_with_a_clone():
    """Outside the section for a clone, a path in code (`docs/emulator.md`) is what an installed collection's reader
    looks for: it must ship (or be given as a link with a full URL)."""
    named = []
    for heading, body in sections(read("README.md")):
        if "clone" in heading.lower():
            continue
        named += [(heading, path) for path in CODE_SPAN.findall(body) if path.startswith(TOP_DIRS) and not shipped(path)]
    assert named == [], f"README.md names files the built collection does not hold: {named}"


def plugin_files():
    for folder, dummy, files in os.walk(os.path.join(ROOT, "plugins")):
        for name in sorted(files):
            if name.endswith((".py", ".yml")):
                yield os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/")


@pytest.mark.parametrize("path", sorted(plugin_files()))
def test_plugins_cite_only_files_of_the_repository(path):
    cited = re.findall(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b", read(path))
    outside = [name for name in cited if not os.path.exists(os.path.join(ROOT, name))]
    assert outside == [], f"{path} cites {outside}: cite docs/design-choices.md or https://cloud.ibm.com/apidocs/hs-crypto instead"
