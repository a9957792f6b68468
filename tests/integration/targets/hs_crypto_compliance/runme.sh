#!/usr/bin/env bash
# Key compliance over an inventory of three instances (issue 15): the playbooks compliance and compliance_remediate, the
# three reports, the gate, a waiver that expires, the clock moved to age keys. See scenario.py.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$("${here}/../setup_hs_crypto_emulator/files/integration_config.sh")"
python="$(command -v python || command -v python3)"

personality="$(sed -n 's/^hs_crypto_personality: *//p' "${config}" | tr -d "'\"")"
if [[ "${personality}" != hpcs ]]; then
    echo "runme.sh: not in the ${personality:-hpcs} personality: it evaluates an HPCS, a Key Protect Standard and a cross-region instance in one run"
    exit 0
fi

base="$(mktemp -d "${TMPDIR:-/tmp}/hs-crypto-compliance.XXXXXX")"
trap 'rm -rf "${base}"' EXIT

"${python}" "${here}/scenario.py" "${config}" "${base}" "$@"
