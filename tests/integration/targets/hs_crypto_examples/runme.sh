#!/usr/bin/env bash
# Run every module's EXAMPLES, as written, against the emulator (see generate.py for how).
#
# ansible-test runs this from a copy of the target, beside a copy of integration_config.yml (the emulator's URLs,
# CA and identities), with arguments for ansible-playbook (maybe -v). The examples' placeholder variables get
# emulator values, and the environment points IAM, the broker and the CA bundle at the emulator; the examples then
# discover the endpoint through the broker, as they would on IBM Cloud.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# integration_config.yml, or a copy completed with the variables of the emulator the setup target starts
config="$("${here}/../setup_hs_crypto_emulator/files/integration_config.sh")"
python="$(command -v python || command -v python3)"
work="$(mktemp -d "${TMPDIR:-/tmp}/hs-crypto-examples.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

"${python}" "${here}/generate.py" "${here}/scenarios" "${work}"
# The examples' "script of your own" for the secure import runs from the playbook's working directory.
cp "${here}/files/encrypt_for_import.py" "${here}/../setup_hs_crypto_emulator/files/make_certificate.py" "${work}/"
mkdir -p "${work}/root"

cd "${work}"
ansible-playbook -i localhost, -c local examples.yml -e "@${config}" \
    -e "examples_work=${work}" -e "dek_file=${work}/dek.wrapped" "$@"

# The user guide's secure import playbook (docs/docsite/rst/secure_import.rst), as written there: with --check it must
# pass and write nothing; then for real it imports the key, and a second run finds it (one key, not two).
collections="$("${python}" -c 'import json, sys; print(next(iter(json.load(sys.stdin))))' \
    < <(ansible-galaxy collection list ibm.hs_crypto --format json))"
"${python}" "${here}/files/docs_playbook.py" "${collections}/ibm/hs_crypto/docs/docsite/rst/secure_import.rst" \
    "The playbook" "${work}/secure_import.yml"
mkdir -p "${work}/root/secure"
printf '%s' 'user guide root key material, 32' > "${work}/root/secure/byok.key"
eval "$("${python}" - "${config}" "${work}" <<'EOF_PY'
import shlex, sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
for name, value in (("IBMCLOUD_API_KEY", config["hs_crypto_api_key"]), ("HS_CRYPTO_IAM_URL", config["hs_crypto_emulator_url"]),
                    ("HS_CRYPTO_BROKER_URL", config["hs_crypto_emulator_url"]), ("HS_CRYPTO_CA_PATH", config["hs_crypto_ca_path"]),
                    ("HS_CRYPTO_EXAMPLES_ROOT", sys.argv[2] + "/root"),
                    ("EMULATOR_RESET_URL", config["hs_crypto_emulator_http_url"] + "/_emulator/reset")):
    print(f"export {name}={shlex.quote(value)}")
EOF_PY
)"
"${python}" -c 'import os, urllib.request; urllib.request.urlopen(urllib.request.Request(os.environ["EMULATOR_RESET_URL"], method="POST"))'
guide=(-i "localhost," -c local -e "@${config}" -e '{"hpcs_instance_id": "{{ hs_crypto_instance_id }}"}'
       -e "ansible_python_interpreter=${python}")
ansible-playbook "${guide[@]}" --check "${work}/secure_import.yml" "$@"
ansible-playbook "${guide[@]}" -e expected_keys=0 -e expect_no_writes=true "${here}/files/docs_secure_import_check.yml" "$@"
ansible-playbook "${guide[@]}" "${work}/secure_import.yml" "$@"
ansible-playbook "${guide[@]}" "${work}/secure_import.yml" "$@"
ansible-playbook "${guide[@]}" -e expected_keys=1 -e expect_no_writes=false "${here}/files/docs_secure_import_check.yml" "$@"
