# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Metadata kept by hand must agree with the code, with the tested matrix and with the certification checklist.

The tested matrix is noxfile.py's ``ANSIBLE_CORE`` (release -> (pinned version, Python)) and ``PRIMARY``, read with
``ast.literal_eval`` (nox is not imported). docs/certification.md says which checklist item each test here proves.
"""

import ast
import glob
import os
import re

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from ansible_collections.ibm.hs_crypto.plugins.module_utils._version import COLLECTION_VERSION

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REPOSITORY = "https://github.com/ibm-hs-crypto/ibm.hs_crypto"
# The README sections of Red Hat's certified collection README template
# (https://github.com/ansible-collections/partner-certification-requirements, docs/readme-template.md), in its order.
README_SECTIONS = ("Description", "Requirements", "Installation", "Use cases", "Testing", "Support",
                   "Release notes and roadmap", "Related information", "License information")
# galaxy-importer's REQUIRED_TAG_LIST (Automation Hub wants at least one of them) and its tag format.
REQUIRED_TAGS = {"ai", "application", "cloud", "database", "eda", "infrastructure", "linux", "monitoring", "networking",
                 "security", "storage", "tools", "windows"}
TAG_FORMAT = re.compile(r"^(?!.*__)[a-z][0-9a-z_]*$")
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def load(path):
    return yaml.safe_load(read(path))


def release_tuple(text):
    return tuple(int(part) for part in str(text).split(".")[:2])


def noxfile_constants(text):
    """The literal values of the top-level assignments of noxfile.py (the ones ast.literal_eval can read)."""
    found = {}
    for node in ast.parse(text).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and node.value is not None:
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    return found


def noxfile_matrix():
    """(ANSIBLE_CORE, PRIMARY) of noxfile.py."""
    constants = noxfile_constants(read("noxfile.py"))
    assert "ANSIBLE_CORE" in constants and "PRIMARY" in constants, "noxfile.py has no literal ANSIBLE_CORE and PRIMARY"
    return constants["ANSIBLE_CORE"], constants["PRIMARY"]


def oldest_tested():
    return min(noxfile_matrix()[0], key=release_tuple)


def markdown_sections(text):
    """{heading: body} of the level-2 sections of a markdown text."""
    found, heading = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            found[heading] = []
        elif heading is not None:
            found[heading].append(line)
    return {heading: "\n".join(body) for heading, body in found.items()}


def readme_section(prefix):
    matches = [body for heading, body in markdown_sections(read("README.md")).items() if heading.startswith(prefix)]
    assert len(matches) == 1, f"README.md has {len(matches)} sections whose heading starts with {prefix!r}"
    return matches[0]


def table_rows(text):
    """The cells of every markdown table row of a text."""
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.strip().startswith("|")]


# --- What the collection states, against the code -------------------------------------------------------------------

# Actions that run on the controller and take no connection option: a play's module_defaults for the group (an API
# key, an instance) would be refused by them, so they stay out of it. Each is an action plugin with a documentation stub.
CONTROLLER_ACTIONS = {"hs_crypto_compliance_report"}


def test_action_group_lists_every_module_and_nothing_else():
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                     if name.endswith(".py") and not name.startswith("_"))
    group = load("meta/runtime.yml")["action_groups"]["hs_crypto"]
    assert sorted(group) == [name for name in modules if name not in CONTROLLER_ACTIONS]
    assert group == sorted(group), "keep the action group sorted"
    for name in CONTROLLER_ACTIONS:
        assert os.path.isfile(os.path.join(ROOT, "plugins", "action", f"{name}.py"))
        with open(os.path.join(ROOT, "plugins", "modules", f"{name}.py"), encoding="utf-8") as handle:
            assert "def main" not in handle.read(), f"{name} is documentation only: its action plugin does the work"


def test_user_agent_version_matches_galaxy():
    assert load("galaxy.yml")["version"] == COLLECTION_VERSION


def test_galaxy_version_is_semantic():
    assert SEMVER.match(str(load("galaxy.yml")["version"]))


def _versions_added(spec, where):
    found = []
    if isinstance(spec, dict):
        if "version_added" in spec:
            found.append((where, str(spec["version_added"])))
        for key in ("options", "suboptions"):
            for name, option in (spec.get(key) or {}).items():
                found.extend(_versions_added(option, f"{where}.{name}"))
    return found


def version_added_claims():
    """(where, version_added) of every module, option, role entry point and role option."""
    claims = []
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "[!_]*.py"))):
        for node in ast.parse(read(path)).body:
            if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "DOCUMENTATION" for target in node.targets):
                claims.extend(_versions_added(yaml.safe_load(ast.literal_eval(node.value)), os.path.basename(path)))
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))):
        for entry_point, spec in load(path)["argument_specs"].items():
            claims.extend(_versions_added(spec, f"{os.path.relpath(path, ROOT)} {entry_point}"))
    return claims


def test_nothing_claims_a_version_added_later_than_the_collection():
    version = Version(str(load("galaxy.yml")["version"]))
    claims = version_added_claims()
    assert claims, "no version_added found: the reader of the module docs is broken"
    later = [(where, claimed) for where, claimed in claims if Version(claimed) > version]
    assert later == []


# --- The supported ansible-core releases (noxfile.py) and what states them ------------------------------------------

def test_the_tested_matrix_is_well_formed():
    matrix, primary = noxfile_matrix()
    assert matrix, "ANSIBLE_CORE is empty"
    for release, (pinned, python) in matrix.items():
        assert re.match(r"^\d+\.\d+$", release) and pinned.startswith(f"{release}."), (release, pinned)
        assert re.match(r"^3\.\d+$", python), (release, python)
    assert primary == max(matrix, key=release_tuple), "the primary release is the newest one tested"


def test_noxfile_reader_takes_literal_assignments_only():
    constants = noxfile_constants("A = {'2.19': ('2.19.1', '3.11')}\nB: str = '2.19'\nC = f(1)\n")
    assert constants == {"A": {"2.19": ("2.19.1", "3.11")}, "B": "2.19"}


def test_requires_ansible_is_the_oldest_tested_release():
    requires = load("meta/runtime.yml")["requires_ansible"]
    assert requires == f">={oldest_tested()}.0", \
        "meta/runtime.yml requires_ansible must be '>=' the oldest release of noxfile.py's ANSIBLE_CORE, without upper bound"


def test_readme_states_the_tested_matrix():
    """The Requirements section has one table row per tested release: release, Python, pinned version; the primary
    release's row says so, and only it."""
    matrix, primary = noxfile_matrix()
    section = readme_section("Requirements")
    rows = {row[0]: row for row in table_rows(section) if re.match(r"^\d+\.\d+$", row[0])}
    assert sorted(rows) == sorted(matrix), "README.md's table of tested releases is not noxfile.py's ANSIBLE_CORE"
    for release, (pinned, python) in matrix.items():
        assert rows[release][1] == python and pinned in rows[release], rows[release]
        assert ("primary" in " ".join(rows[release]).lower()) == (release == primary), rows[release]
    assert f"ansible-core {oldest_tested()} or later" in section
    assert f"Python {min((python for dummy, python in matrix.values()), key=release_tuple)} or later" in section


MINIMUM = re.compile(r"ansible-core\s*(?:>=\s*(\d+\.\d+)|(\d+\.\d+)(?:\.\d+)?\s+or\s+later)")


def stated_minimums(path):
    """The ansible-core releases a text states as the minimum (``ansible-core>=X.Y``, ``ansible-core X.Y or later``)."""
    return [(os.path.relpath(path, ROOT), a or b) for a, b in MINIMUM.findall(read(path))]


def test_minimum_statement_reader():
    assert MINIMUM.findall("ansible-core>=2.17, ansible-core 2.19 or later, ansible-core\n2.20.1 or later, ansible-core 2.21") == [
        ("2.17", ""), ("", "2.19"), ("", "2.20")]


def test_readme_states_no_other_minimum_ansible_core():
    stated = stated_minimums("README.md")
    assert stated and all(release == oldest_tested() for dummy, release in stated), stated


def test_roles_and_user_guide_state_the_oldest_tested_ansible_core():
    stated = [(os.path.relpath(path, ROOT), str((load(path).get("galaxy_info") or {}).get("min_ansible_version")))
              for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "main.yml")))]
    for path in sorted(glob.glob(os.path.join(ROOT, "docs", "docsite", "rst", "*.rst"))):
        stated += stated_minimums(path)
    assert stated, "found no stated minimum at all"
    wrong = [(path, release) for path, release in stated if release_tuple(release) != release_tuple(oldest_tested())]
    assert wrong == []


# --- Certification checklist ---------------------------------------------------------------------------------------

def test_modules_run_on_the_controller_python_only():
    """The modules need requests and talk to IBM Cloud: they run on the control node (tests/config.yml)."""
    assert load("tests/config.yml") == {"modules": {"python_requires": "controller"}}


def test_ee_requirements_use_only_lower_bounds():
    lines = [line.split("#")[0].strip() for line in read("meta/ee-requirements.txt").splitlines()]
    requirements = [Requirement(line) for line in lines if line]
    assert requirements, "meta/ee-requirements.txt lists nothing"
    names = {requirement.name.lower() for requirement in requirements}
    assert "requests" in names, "the modules import requests"
    assert not names & {"ansible", "ansible-core", "ansible-base"}, "execution environments provide ansible-core"
    for requirement in requirements:
        assert all(spec.operator == ">=" for spec in requirement.specifier), f"{requirement}: only >= lower bounds"
    assert load("meta/execution-environment.yml")["dependencies"]["python"] == "meta/ee-requirements.txt"


def test_readme_has_every_certification_section_in_order():
    headings = list(markdown_sections(read("README.md")))
    found = [next((heading for heading in headings if heading.startswith(name)), None) for name in README_SECTIONS]
    assert None not in found, f"README.md lacks {[name for name, heading in zip(README_SECTIONS, found) if heading is None]}"
    assert [headings.index(heading) for heading in found] == sorted(headings.index(heading) for heading in found)


def test_readme_requirements_name_the_python_packages():
    section = readme_section("Requirements")
    for line in read("meta/ee-requirements.txt").splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert line in section, f"README.md's Requirements do not name {line}"


def test_readme_installation_does_not_pip_install_ansible():
    assert not re.search(r"pip3?\s+install\s+[^\n]*\bansible(-core)?\b", read("README.md"))


def test_readme_links_are_full_urls_to_existing_files():
    """Automation Hub shows README.md outside the repository: relative links break there. Links into this repository
    must name a file or folder that exists."""
    links = LINK.findall(read("README.md"))
    assert links
    relative = [link for link in links if not link.startswith(("https://", "#"))]
    assert relative == [], "README.md links must be full https URLs"
    anchors = {re.sub(r"[^\w -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
               for line in read("README.md").splitlines() if re.match(r"^#{2,6} ", line)}
    missing = [link for link in links if link.startswith("#") and link[1:] not in anchors]
    for link in links:
        match = re.match(rf"^{re.escape(REPOSITORY)}/(?:blob|tree)/main/([^#?]+)", link)
        if match and not os.path.exists(os.path.join(ROOT, match.group(1))):
            missing.append(link)
    assert missing == []


def test_readme_states_the_licence_of_galaxy_yml():
    licences = load("galaxy.yml")["license"]
    section = readme_section("License information")
    assert licences == ["GPL-3.0-or-later"] and "GPL-3.0-or-later" in section
    assert f"{REPOSITORY}/blob/main/COPYING" in section
    assert "GNU GENERAL PUBLIC LICENSE" in read("COPYING") and "Version 3" in read("COPYING")


def test_galaxy_yml_metadata():
    galaxy = load("galaxy.yml")
    assert galaxy["namespace"] == "ibm" and galaxy["name"] == "hs_crypto"
    assert galaxy["readme"] == "README.md" and galaxy["description"] and galaxy["authors"]
    assert "license_file" not in galaxy, "license and license_file are mutually exclusive"
    assert galaxy["repository"] == REPOSITORY
    assert galaxy["issues"] == f"{REPOSITORY}/issues"
    assert galaxy["documentation"].startswith(f"{REPOSITORY}/")
    tags = galaxy["tags"]
    assert 0 < len(tags) <= 20 and all(TAG_FORMAT.match(tag) for tag in tags), tags
    assert set(tags) & REQUIRED_TAGS, f"at least one tag of {sorted(REQUIRED_TAGS)}"
    assert not galaxy.get("dependencies"), "a certified collection may depend only on certified collections"


def test_ansible_lint_runs_the_production_profile_unweakened():
    """Certification runs ansible-lint with the production profile; rules it enforces must not be skipped, and content
    directories must not be excluded."""
    config = load(".ansible-lint")
    assert config["profile"] == "production" and config["offline"] is True
    assert not config.get("skip_list") and not config.get("warn_list")
    content = ("plugins", "roles", "playbooks", "extensions", "meta")
    assert not [path for path in config.get("exclude_paths") or [] if path.strip("/").split("/")[0] in content]
    assert not os.path.exists(os.path.join(ROOT, ".ansible-lint-ignore"))


def test_no_sanity_ignore_file():
    assert glob.glob(os.path.join(ROOT, "tests", "sanity", "ignore-*.txt")) == []


def test_changelog_config():
    """antsibull-changelog writes CHANGELOG.rst at the collection root, with the sections the fragments use."""
    config = load("changelogs/config.yaml")
    assert config["changelog_filename_template"] == "../CHANGELOG.rst"
    assert config["changes_file"] == "changelog.yaml" and config["notesdir"] == "fragments"
    assert config["changes_format"] == "combined" and config["keep_fragments"] is False
    assert config["prelude_section_name"] == "release_summary" and config["title"]
    sections = [name for name, dummy in config["sections"]]
    assert {"major_changes", "minor_changes", "breaking_changes", "deprecated_features", "removed_features",
            "security_fixes", "bugfixes", "known_issues"} <= set(sections)
    used = {key for path in glob.glob(os.path.join(ROOT, "changelogs", "fragments", "*.yml"))
            for key in load(path) or {} if not key.startswith(("add plugin.", "add object."))}
    assert used <= set(sections) | {config["prelude_section_name"], config["trivial_section_name"]}, used
    changelog = load("changelogs/changelog.yaml")
    assert set(changelog) <= {"ancestor", "releases"} and isinstance(changelog.get("releases") or {}, dict)


# --- The role's option specs ----------------------------------------------------------------------------------------

def _options_shape(options):
    """Option names, types, choices and defaults, recursively: what must agree between two specs."""
    shape = {}
    for name, spec in options.items():
        shape[name] = (spec.get("type", "str"), tuple(spec.get("choices") or ()), spec.get("default"), spec.get("elements"),
                       _options_shape(spec["options"]) if spec.get("options") else None)
    return shape


def test_role_key_entries_take_exactly_the_key_module_options():
    from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import key_argument_spec
    role = load("roles/hs_crypto_instance/meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    assert _options_shape(role["hs_crypto_instance_keys"]["options"]) == _options_shape(key_argument_spec())


def test_role_connect_options_are_the_main_ones():
    specs = load("roles/hs_crypto_instance/meta/argument_specs.yml")["argument_specs"]
    main, connect = specs["main"]["options"], specs["connect"]["options"]
    for name, spec in connect.items():
        assert _options_shape({name: spec}) == _options_shape({name: main[name]})
