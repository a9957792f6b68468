# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Metadata kept by hand must agree with the code."""

import os

import yaml

from ansible_collections.ibm.hs_crypto.plugins.module_utils.version import COLLECTION_VERSION

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
