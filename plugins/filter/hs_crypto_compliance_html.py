# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``ibm.hs_crypto.hs_crypto_compliance_html`` and ``ibm.hs_crypto.hs_crypto_compliance_junit`` filters.

Reports of ``ibm.hs_crypto.hs_crypto_compliance_info`` results, rendered on the controller: one self-contained HTML
page (inline CSS, JavaScript and SVG; no external resource) and JUnit XML for CI. Thin wrappers over
plugin_utils/_compliance_report.py, which scripts/check_report.py also renders with.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ibm.hs_crypto.plugins.plugin_utils._compliance_report import ReportInputError, render_html, render_junit


def hs_crypto_compliance_html(results, title=None):
    """Results of hs_crypto_compliance_info (a list, or a dictionary inventory_hostname -> result) -> an HTML document."""
    try:
        return render_html(results, title=title)
    except ReportInputError as exc:
        raise AnsibleFilterError(f"hs_crypto_compliance_html: {exc}") from None


def hs_crypto_compliance_junit(results, suite_name="ibm.hs_crypto compliance"):
    """Results of hs_crypto_compliance_info (a list, or a dictionary inventory_hostname -> result) -> JUnit XML text."""
    try:
        return render_junit(results, suite_name=suite_name)
    except ReportInputError as exc:
        raise AnsibleFilterError(f"hs_crypto_compliance_junit: {exc}") from None


class FilterModule:
    def filters(self):
        return {"hs_crypto_compliance_html": hs_crypto_compliance_html, "hs_crypto_compliance_junit": hs_crypto_compliance_junit}
