# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import requests

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_iam_token import main

ALICE = "hsc-emulator-alice-api-key-0001"


def counters(emu):
    return requests.get(emu.http_url + "/_emulator/counters", timeout=5).json()


def test_token_with_expiry_and_identity(emu, run_module):
    failed, result = run_module(main, {"api_key": ALICE, "iam_url": emu.http_url})
    assert not failed and result["changed"] is False
    assert result["iam_token"].count(".") == 2
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3600
    assert result["expiration"] > 0 and result["expires_at"].endswith("Z")
    assert result["identity"]["iam_id"] == "IBMid-alice"
    assert ALICE not in json.dumps(result)
    assert counters(emu)["by_service"].get("iam") == 1


def test_check_mode_still_returns_a_token(emu, run_module):
    failed, result = run_module(main, {"api_key": ALICE, "iam_url": emu.http_url}, check_mode=True)
    assert not failed and result["iam_token"]


def test_missing_api_key_fails_before_any_request(emu, run_module):
    failed, result = run_module(main, {"iam_url": emu.http_url})
    assert failed and "api_key is required" in result["msg"]
    assert counters(emu)["total"] == 0


def test_unknown_api_key_reports_iam_error_without_the_key(emu, run_module):
    failed, result = run_module(main, {"api_key": "wrong-key-123456", "iam_url": emu.http_url})
    assert failed
    assert result["msg"].startswith("Could not obtain an IAM token: IAM refused to issue a token: ")
    assert "BXNIM0415E" in result["msg"] and result["error"]["status"] == 400
    assert "wrong-key-123456" not in json.dumps(result)


def test_unreachable_iam_fails_with_a_clear_message(run_module):
    failed, result = run_module(main, {"api_key": ALICE, "iam_url": "http://127.0.0.1:9", "retries": 0, "timeout": 2})
    assert failed and "POST /identity/token failed after 1 attempt(s)" in result["msg"]
