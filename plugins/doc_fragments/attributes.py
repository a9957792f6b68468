# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    # Attributes shared by every module; each module states its own check_mode and diff_mode support.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the service.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  action_group:
    description: Use C(group/ibm.hs_crypto.hs_crypto) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - ibm.hs_crypto.hs_crypto
"""

    # For modules that only read: check mode changes nothing about what they do.
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    details: This module only reads, so it runs normally in check mode.
  diff_mode:
    support: N/A
    details: This module changes nothing.
"""
