#!/usr/bin/env bash
# Secret scan (issue 6, "Secrets"): run every module and the role at -vvvv with known secret values, failures
# included (a 401, IAM and KMS 500s whose bodies echo the request), then search everything the run wrote.
#
# prepare.py reads integration_config.yml (the emulator's URLs, CA and identities), sets the emulator up and writes
# the secrets to an input directory that stands for the vault and is not scanned. The run gets its
# own log file, temporary, local and remote directories and Ansible home, so every file it writes is scanned.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# integration_config.yml when it names a running emulator; otherwise the setup target starts the emulator and completes a
# copy of it with the emulator's variables.
config="$("${here}/../setup_hs_crypto_emulator/files/integration_config.sh")"
python="$(command -v python || command -v python3)"

base="$(mktemp -d "${TMPDIR:-/tmp}/hs-crypto-secret-scan.XXXXXX")"
trap 'rm -rf "${base}"' EXIT
input="${base}/input"
run="${base}/run"
mkdir -p "${input}" "${run}/out" "${run}/tmp" "${run}/local" "${run}/remote" "${run}/home" "${run}/junit"

"${python}" "${here}/prepare.py" "${config}" "${input}"
set -a
# shellcheck disable=SC1091
source "${input}/secrets.env"
set +a

started="${SECONDS}"
rc=0
IBMCLOUD_API_KEY="${HSC_SCAN_API_KEY}" ANSIBLE_LOG_PATH="${run}/ansible.log" ANSIBLE_KEEP_REMOTE_FILES=0 ANSIBLE_LOCAL_TEMP="${run}/local" \
    ANSIBLE_REMOTE_TMP="${run}/remote" ANSIBLE_HOME="${run}/home" TMPDIR="${run}/tmp" HSC_SCAN_OUT="${run}/out" JUNIT_OUTPUT_DIR="${run}/junit" \
    ansible-playbook "${here}/scan.yml" -e "@${config}" -vvvv --diff "$@" >"${run}/out/stdout.txt" 2>"${run}/out/stderr.txt" || rc=$?
echo "secret scan: the playbook ran in $((SECONDS - started)) s (exit ${rc})"

scan_rc=0
"${python}" "${here}/../setup_hs_crypto_secret_scan/files/scan.py" "${input}/secrets.json" "${run}" || scan_rc=$?
if ((rc != 0)); then
    # Only the recap and the failed task: the output may hold findings, and scan.py has reported them by name.
    grep -E '^(fatal|failed|PLAY RECAP|localhost +:)|"msg":' "${run}/out/stdout.txt" | grep -v -F -f <(cut -d"'" -f2 "${input}/secrets.env") | tail -n 20 >&2 || true
    echo "runme.sh: the playbook failed" >&2
    exit 1
fi
exit "${scan_rc}"
