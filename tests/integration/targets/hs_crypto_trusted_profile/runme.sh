#!/usr/bin/env bash
# Sign-in without an API key (issue 13): every module, the key lookup, the role and the inventory plugin sign in with a
# trusted profile, against the emulator:
# - container: IAM's compute-resource-token grant (a token file, as projected into an OpenShift pod) and the profile;
# - vpc: the VPC instance metadata service (both API versions; a profile by id, and the instance's default profile).
# No API key is in the environment. For each flow the emulator's request log must show no API-key grant (only the
# cr-token grant, or none at all and the metadata service), and the output (-vvv) and the Ansible log neither the
# compute-resource token nor any instance identity or IAM access token (files/check_run.py).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$("${here}/../setup_hs_crypto_emulator/files/integration_config.sh")"
python="$(command -v python || command -v python3)"
work="$(mktemp -d "${TMPDIR:-/tmp}/hs-crypto-trusted-profile.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

"${python}" "${here}/files/prepare.py" "${config}" "${work}"
set -a
# shellcheck disable=SC1091
source "${work}/env"
set +a
unset IBMCLOUD_API_KEY IC_API_KEY IBMCLOUD_IAM_TOKEN IC_IAM_TOKEN CR_TOKEN_FILENAME IAM_PROFILE_ID IAM_PROFILE_NAME IAM_PROFILE_CRN \
    HS_CRYPTO_AUTH_TYPE HS_CRYPTO_METADATA_URL VPC_IMS_VERSION

since() {
    "${python}" -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + "/_emulator/requests?since=999999999"))["last_seq"])' \
        "${HSC_EMULATOR_HTTP_URL}"
}

for flow in container vpc-2022-03-01 vpc-2025-08-26; do
    mark="$(since)"
    out="${work}/${flow}.log"
    # -vvv and a log file: the module arguments and results Ansible prints and logs are scanned too.
    ANSIBLE_LOG_PATH="${work}/${flow}.ansible.log" ansible-playbook -i localhost, -c local "${here}/files/modules.yml" -e "@${config}" \
        -e "tp_flow=${flow}" -e "tp_cr_token_file=${HSC_TP_CR_TOKEN_FILE}" -vvv "$@" > "${out}" 2>&1 || { grep -E '^(fatal|failed)' "${out}" | tail -n 5 >&2; exit 1; }
    grep -E '^localhost +:' "${out}"
    summary="$("${python}" "${here}/files/check_run.py" "${HSC_EMULATOR_HTTP_URL}" "${mark}" "${flow%%-*}" "${out}" "${work}/${flow}.ansible.log")"
    echo "REQUESTS ${flow}: ${summary#* }"
done

# The inventory plugin, from the environment as in a CI job (IBM's names for the token file and the profile).
inventory="${work}/tp.hs_crypto.yml"
printf '%s\n' '---' 'plugin: ibm.hs_crypto.hs_crypto' > "${inventory}"
export HS_CRYPTO_IAM_URL="${HSC_EMULATOR_URL}" HS_CRYPTO_RESOURCE_CONTROLLER_URL="${HSC_EMULATOR_URL}" HS_CRYPTO_CA_PATH="${HSC_CA_PATH}"
export ANSIBLE_INVENTORY_UNPARSED_FAILED=true ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true
for flow in container vpc; do
    mark="$(since)"
    if [[ "${flow}" == container ]]; then
        CR_TOKEN_FILENAME="${HSC_TP_CR_TOKEN_FILE}" IAM_PROFILE_ID=Profile-9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f \
            ansible-inventory -i "${inventory}" --list > "${work}/inventory-${flow}.json" 2> "${work}/inventory-${flow}.err" \
            || { cat "${work}/inventory-${flow}.err" >&2; exit 1; }
    else
        HS_CRYPTO_AUTH_TYPE=vpc HS_CRYPTO_METADATA_URL="${HSC_EMULATOR_HTTP_URL}" \
            ansible-inventory -i "${inventory}" --list > "${work}/inventory-${flow}.json" 2> "${work}/inventory-${flow}.err" \
            || { cat "${work}/inventory-${flow}.err" >&2; exit 1; }
    fi
    "${python}" - "${work}/inventory-${flow}.json" <<'EOF_PY'
import json, sys
hosts = json.load(open(sys.argv[1]))["_meta"]["hostvars"]
plain = lambda value: next(iter(value.values())) if isinstance(value, dict) else value  # {"__ansible_unsafe": ...}
ids = {plain(host["hs_crypto_instance_id"]) for host in hosts.values()}
assert "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b" in ids and len(ids) >= 6, sorted(ids)
EOF_PY
    summary="$("${python}" "${here}/files/check_run.py" --no-kms "${HSC_EMULATOR_HTTP_URL}" "${mark}" "${flow}" \
        "${work}/inventory-${flow}.json" "${work}/inventory-${flow}.err")"
    echo "REQUESTS inventory ${flow}: ${summary#* }"
done
