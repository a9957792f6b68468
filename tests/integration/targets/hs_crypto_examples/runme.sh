#!/usr/bin/env bash
# Run every module's EXAMPLES, as written, against the emulator (see generate.py for how).
#
# ansible-test runs this from a copy of the target, beside a copy of integration_config.yml (the emulator's URLs,
# CA and identities), with arguments for ansible-playbook (maybe -v). The examples' placeholder variables get
# emulator values, and the environment points IAM, the broker and the CA bundle at the emulator; the examples then
# discover the endpoint through the broker, as they would on IBM Cloud.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="${here}/../../integration_config.yml"
python="$(command -v python || command -v python3)"
work="$(mktemp -d "${TMPDIR:-/tmp}/hs-crypto-examples.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

"${python}" "${here}/generate.py" "${here}/scenarios" "${work}"
# The examples' "script of your own" for the secure import runs from the playbook's working directory.
cp "${here}/files/encrypt_for_import.py" "${work}/"
mkdir -p "${work}/root"

cd "${work}"
ansible-playbook -i localhost, -c local examples.yml -e "@${config}" \
    -e "examples_work=${work}" -e "dek_file=${work}/dek.wrapped" "$@"
