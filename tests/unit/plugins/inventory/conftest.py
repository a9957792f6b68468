# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inventory plugin tests: the plugin loaded by its name (ibm.hs_crypto.hs_crypto), as ansible-inventory loads it, and run
against the in-process emulator, whose request log counts what it sent."""

import os
import sys

import pytest

from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

TESTS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)
# The folder holding ansible_collections/, so that the collection loader finds ibm.hs_crypto by name.
COLLECTIONS_ROOT = os.path.abspath(os.path.join(TESTS_DIR, "..", "..", "..", ".."))


def _install_collection_finder():
    from ansible.utils.collection_loader import AnsibleCollectionConfig
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    if AnsibleCollectionConfig.collection_finder is None:
        _AnsibleCollectionFinder(paths=[COLLECTIONS_ROOT])._install()  # pylint: disable=protected-access


# Before the test modules import the plugin's module, so that the loader and the tests share one module.
_install_collection_finder()

# The emulator fixtures of the module tests.
from ansible_collections.ibm.hs_crypto.tests.unit.plugins.modules.conftest import emu, emulator  # noqa: E402,F401 pylint: disable=unused-import,wrong-import-position


@pytest.fixture
def load_inventory(tmp_path):
    """``load_inventory(config_text, name='test.hs_crypto.yml', cache=True)`` -> InventoryData, as ansible-inventory parses
    the file (the plugin's verify_file first)."""
    def load(text, name="test.hs_crypto.yml", cache=True, loader=None):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        plugin = inventory_loader.get("ibm.hs_crypto.hs_crypto")
        assert plugin is not None
        inventory = InventoryData()
        if not plugin.verify_file(str(path)):
            raise ValueError(f"verify_file refused {name}")
        plugin.parse(inventory, loader or DataLoader(), str(path), cache=cache)
        try:  # as InventoryManager does after parse
            plugin.update_cache_if_changed()
        except AttributeError:  # no cache configured
            pass
        return inventory
    return load


@pytest.fixture(autouse=True)
def fresh_sessions():
    """Each test signs in anew: the controller connections keep tokens per process (plugin_utils/_connection.py)."""
    from ansible_collections.ibm.hs_crypto.plugins.plugin_utils._connection import clear_cache
    clear_cache()
    yield
    clear_cache()
