# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Metadata kept by hand must agree with the code."""

import os

import yaml

from ansible_collections.ibm.hs_crypto.plugins.module_utils._version import COLLECTION_VERSION

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load(path):
    with open(os.path.join(ROOT, path)) as handle:
        return yaml.safe_load(handle)


def test_action_group_lists_every_module_and_nothing_else():
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                     if name.endswith(".py") and not name.startswith("_"))
    group = load("meta/runtime.yml")["action_groups"]["hs_crypto"]
    assert sorted(group) == modules
    assert group == sorted(group), "keep the action group sorted"


def test_user_agent_version_matches_galaxy():
    assert load("galaxy.yml")["version"] == COLLECTION_VERSION


def test_requires_ansible():
    assert load("meta/runtime.yml")["requires_ansible"] == ">=2.17.0"


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
