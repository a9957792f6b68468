#!/usr/bin/env bash
# For the runme.sh targets (with the alias needs/target/setup_hs_crypto_emulator): print the path of an
# integration_config.yml that names a running emulator. That is tests/integration/integration_config.yml itself when
# it names one (hs_crypto_emulator_http_url); otherwise this target's role starts the emulator (or reuses the running
# one, for the personality hs_crypto_personality) and its variables, added to those of integration_config.yml, are
# written to OUTPUT_DIR (ansible-test's per-target output folder).
#
# Usage in runme.sh: config="$(../setup_hs_crypto_emulator/files/integration_config.sh)"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
targets="$(cd "${here}/../.." && pwd)"
config="$(cd "${targets}/.." && pwd)/integration_config.yml"

if [[ -f "${config}" ]] && grep -q '^hs_crypto_emulator_http_url:' "${config}"; then
    printf '%s\n' "${config}"
    exit 0
fi

out_dir="${OUTPUT_DIR:-}"
if [[ -z "${out_dir}" ]]; then
    out_dir="$(mktemp -d "${TMPDIR:-/tmp}/hs-crypto-config.XXXXXX")"
fi
out="${out_dir}/hs_crypto_integration_config.yml"
args=(-i 'localhost,' -c local "${here}/connection.yml" -e "setup_hs_crypto_emulator_out=${out}")
if [[ -f "${config}" ]]; then
    args+=(-e "@${config}" -e "setup_hs_crypto_emulator_config=${config}")
fi
# The playbook's output goes to standard error: standard output is the path only.
ANSIBLE_ROLES_PATH="${targets}" ansible-playbook "${args[@]}" >&2
printf '%s\n' "${out}"
