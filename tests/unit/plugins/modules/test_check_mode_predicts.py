# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 11, check mode: a check-mode run makes the reads the real run makes and fails (or reports a pending approval)
exactly where the real run would; it never writes."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key


def writes(hsc, mark):
    return [e for e in hsc.requests_since(mark) if e["method"] != "GET"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_expiration_date_in_the_past_is_refused_before_any_request(run_module, hsc, check_mode):
    args = hsc.args(name="expired-key", expiration_date="2020-01-01T00:00:00Z")
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key.main, args, check_mode=check_mode)
    assert failed and "expiration_date" in result["msg"] and "in the past" in result["msg"]
    assert hsc.requests_since(mark, service=None) == []
