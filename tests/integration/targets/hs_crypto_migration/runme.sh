#!/usr/bin/env bash
# Move an HPCS instance to Key Protect with the collection's migration playbooks (issue 16): plan, apply, verify, rewrap
# and retire, each in check mode first, each run twice, a failure half-way through apply resumed, all at -vvvv, then a
# scan of everything the runs wrote for key material, data key plaintext, the API key and any token.
#
# The target is Key Protect Standard in the kp-standard personality and Key Protect Dedicated in kp-dedicated (the hpcs
# personality leaves this target out: its source is the same HPCS instance either way). scenario.py
# seeds the source through the emulator's API, runs the playbooks and checks the emulator's request log and state.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$("${here}/../setup_hs_crypto_emulator/files/integration_config.sh")"
python="$(command -v python || command -v python3)"

personality="$(sed -n 's/^hs_crypto_personality: *//p' "${config}" | tr -d "'\"")"
if [[ "${personality}" != kp-* ]]; then
    echo "runme.sh: not in the ${personality:-hpcs} personality: the source is always the HPCS instance; the kp-standard and kp-dedicated runs move it to each target"
    exit 0
fi

base="$(mktemp -d "${TMPDIR:-/tmp}/hs-crypto-migration.XXXXXX")"
trap 'rm -rf "${base}"' EXIT

"${python}" "${here}/scenario.py" "${config}" "${base}" "$@"
"${python}" "${here}/../setup_hs_crypto_secret_scan/files/scan.py" "${base}/input/secrets.json" "${base}/run"
