# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side tests (the role's filters) that also run modules against the emulator: the module tests' fixtures.

ansible-test runs tests under tests/unit/plugins/modules and module_utils as target tests, where only
ansible.module_utils can be imported; the filters are controller code, so their tests live here.
"""

from ansible_collections.ibm.hs_crypto.tests.unit.plugins.modules.conftest import (  # noqa: F401 pylint: disable=unused-import
    emu, emulator, hsc, run_module, waits)
