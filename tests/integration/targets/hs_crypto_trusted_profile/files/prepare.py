#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Set the emulator up for the trusted-profile target and write what the run needs.

Usage: prepare.py <integration_config.yml> <work directory>

Writes <work>/sa-token (mode 0600: the compute-resource token of the emulator's pod, as a projected service-account token
would be) and <work>/env (the emulator's URLs and CA, and the token, as HSC_TP_CR_TOKEN for the scan only).
"""

import json
import os
import sys
import urllib.request

import yaml


def main():
    config_path, work = sys.argv[1], sys.argv[2]
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    http_url = config["hs_crypto_emulator_http_url"].rstrip("/")
    urllib.request.urlopen(urllib.request.Request(f"{http_url}/_emulator/reset", method="POST"), timeout=10).close()
    with urllib.request.urlopen(f"{http_url}/_emulator/config", timeout=10) as response:
        emulator = json.load(response)
    cr_token = emulator["compute_resources"][0]["cr_token"]
    token_file = os.path.join(work, "sa-token")
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(cr_token + "\n")
    with open(os.path.join(work, "env"), "w", encoding="utf-8") as handle:
        for name, value in (("HSC_TP_CR_TOKEN_FILE", token_file), ("HSC_TP_CR_TOKEN", cr_token), ("HSC_EMULATOR_HTTP_URL", http_url),
                            ("HSC_EMULATOR_URL", config["hs_crypto_emulator_url"].rstrip("/")), ("HSC_CA_PATH", config["hs_crypto_ca_path"]),
                            ("HSC_ACCOUNT_ID", emulator["account_id"])):
            handle.write(f"{name}='{value}'\n")


if __name__ == "__main__":
    main()
