# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lookup tests: the module tests' emulator fixtures, and the lookup with its options as Ansible defines them.

Ansible's plugin loader needs its collection loader, which a plain ``pytest`` run (the collection's own runner) does
not install; so the lookup's option definitions are registered here as the loader would: its DOCUMENTATION with
the options of the doc fragments it extends (ibm.hs_crypto.controller). ``ansible-doc`` and the integration target
hs_crypto_lookup load it the real way.
"""

import importlib

import pytest
import yaml

from ansible import constants as C
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.ibm.hs_crypto.tests.unit.plugins.modules.conftest import (  # noqa: F401 pylint: disable=unused-import
    emu, emulator, hsc, waits)
from ansible_collections.ibm.hs_crypto.plugins.lookup import hs_crypto_key_info as plugin_module
from ansible_collections.ibm.hs_crypto.plugins.plugin_utils import _connection as controller

NAME = "ibm.hs_crypto.hs_crypto_key_info"
ENVIRONMENT = ("IBMCLOUD_API_KEY", "IC_API_KEY", "IBMCLOUD_IAM_TOKEN", "IC_IAM_TOKEN", "IBMCLOUD_REGION", "IC_REGION",
               "HS_CRYPTO_INSTANCE_ID", "HS_CRYPTO_ENDPOINT", "IBMCLOUD_KP_API_ENDPOINT", "HS_CRYPTO_IAM_URL",
               "IBMCLOUD_IAM_API_ENDPOINT", "HS_CRYPTO_BROKER_URL", "IBMCLOUD_HPCS_API_ENDPOINT", "HS_CRYPTO_CA_PATH",
               "HS_CRYPTO_VALIDATE_CERTS", "HS_CRYPTO_TIMEOUT", "HS_CRYPTO_RETRIES", "HS_CRYPTO_ENDPOINT_TYPE", "HS_CRYPTO_SERVICE",
               "HS_CRYPTO_RESOURCE_CONTROLLER_URL", "IBMCLOUD_RESOURCE_CONTROLLER_API_ENDPOINT")


def option_definitions():
    """The lookup's options: its own, and those of its doc fragments (an option of its own wins, as in Ansible)."""
    doc = yaml.safe_load(plugin_module.DOCUMENTATION)
    options = {}
    for fragment in doc.get("extends_documentation_fragment") or []:
        namespace, collection, name = fragment.split(".")
        module = importlib.import_module(f"ansible_collections.{namespace}.{collection}.plugins.doc_fragments.{name}")
        options.update(yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(doc["options"])
    return options


def new_plugin(variables=None):
    """The lookup, with a templar over ``variables`` as a task's."""
    C.config.initialize_plugin_configuration_definitions("lookup", NAME, option_definitions())
    plugin = plugin_module.LookupModule(loader=DataLoader(), templar=Templar(loader=DataLoader(), variables=variables or {}))
    plugin._load_name = NAME  # pylint: disable=protected-access
    return plugin


@pytest.fixture
def lookup(monkeypatch):
    """``lookup(terms, variables=None, **options)``: the lookup's result; a clean environment and an empty process cache first."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    controller.clear_cache()

    def run(terms, variables=None, **options):
        variables = dict(variables or {})
        return new_plugin(variables).run(list(terms), variables=variables, **options)

    yield run
    controller.clear_cache()
