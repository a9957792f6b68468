# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``ibm.hs_crypto.hs_crypto_crn`` and ``ibm.hs_crypto.hs_crypto_to_crn`` filters: parse and build CRNs.

Both are thin wrappers over module_utils/_crn.py, the code the modules read ``instance_id`` and ``key_id`` CRNs
with, so a playbook splitting a CRN applies the rules a module would.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ibm.hs_crypto.plugins.module_utils._crn import build_crn, parse_crn
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError


def hs_crypto_crn(crn):
    """A CRN string -> a dictionary of its parts."""
    try:
        return parse_crn(crn, "hs_crypto_crn")
    except ConfigurationError as exc:
        raise AnsibleFilterError(str(exc)) from None


def hs_crypto_to_crn(parts):
    """A dictionary of CRN parts -> the CRN string."""
    try:
        return build_crn(dict(parts) if hasattr(parts, "items") else parts, "hs_crypto_to_crn")
    except ConfigurationError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"hs_crypto_crn": hs_crypto_crn, "hs_crypto_to_crn": hs_crypto_to_crn}
