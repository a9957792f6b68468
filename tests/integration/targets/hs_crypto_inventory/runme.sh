#!/usr/bin/env bash
# The inventory plugin ibm.hs_crypto.hs_crypto against the emulator's Resource Controller and Global Tagging:
# 1. an account of its own with 108 instances (two pages of 100), six of them tagged (prepare.py);
# 2. ansible-inventory --graph/--list: every instance, grouped by service, region and tag; collision-free host names;
#    the requests: one token, one request per page, one tag read per instance;
# 3. the cache: a second listing sends no request, and the cache holds no credential;
# 4. ibm.hs_crypto.provision over that inventory (keys declared in group_vars of the plugin's groups) converges, and a
#    re-run changes nothing; the audit (--check --diff) and the report playbook of the guide run over it;
# 5. the plugin's EXAMPLES, as written.
set -eu -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$("${here}/../setup_hs_crypto_emulator/files/integration_config.sh")"
python="$(command -v python || command -v python3)"
work="$(mktemp -d "${TMPDIR:-/tmp}/hs-crypto-inventory.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
fleet_size=105  # and 3 more (prepare.py): 108, two pages of 100

"${python}" "${here}/files/prepare.py" "${config}" "${work}/env" "${fleet_size}"
set -a
# shellcheck disable=SC1091
source "${work}/env"
set +a
export ANSIBLE_INVENTORY_UNPARSED_FAILED=true ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true
inventory="${here}/files/estate/fleet.hs_crypto.yml"

since() { "${python}" "${here}/files/requests_since.py" "${HSC_EMULATOR_HTTP_URL}" "$1"; }
seq0="$(since 0 | cut -d' ' -f1)"

# --- 2. --graph and --list ---------------------------------------------------------------------
ansible-inventory -i "${inventory}" --graph > "${work}/graph.txt"
seq1="$(since "${seq0}" | tee /dev/stderr | cut -d' ' -f1)"
for group in '@hpcs_instances:' '@service_hs_crypto:' '@service_key_protect:' '@region_us_south:' '@region_eu_de:' '@region_jp_tok:' \
    '@tag_env_prod:' '@tag_env_dev:'; do
    grep -qF -- "${group}" "${work}/graph.txt" || { echo "no group ${group} in --graph" >&2; cat "${work}/graph.txt" >&2; exit 1; }
done
sed -n '/@tag_env_prod:/,/@/p' "${work}/graph.txt"
ansible-inventory -i "${inventory}" --list > "${work}/list.json"
"${python}" "${here}/files/check_inventory.py" "${work}/list.json" "${HSC_FLEET_SIZE}" "${HSC_COLLIDING_A}" "${HSC_COLLIDING_B}"
read -r seq2 count kinds < <(since "${seq1}")
expected="{\"GET /v2/resource_instances\":2,\"GET /v3/tags\":${HSC_FLEET_SIZE},\"POST /identity/token\":1}"
[[ "${kinds}" == "${expected}" ]] || { echo "cold listing sent ${kinds}, expected ${expected}" >&2; exit 1; }
echo "REQUESTS cold, ${HSC_FLEET_SIZE} instances with tags: ${count} ${kinds}"

# without tags: a token and one request per page
sed '/^read_tags: true/d' "${inventory}" > "${work}/notags.hs_crypto.yml"
ansible-inventory -i "${work}/notags.hs_crypto.yml" --list > /dev/null
read -r seq3 count kinds < <(since "${seq2}")
[[ "${kinds}" == '{"GET /v2/resource_instances":2,"POST /identity/token":1}' ]] || { echo "sent ${kinds}" >&2; exit 1; }
echo "REQUESTS cold, ${HSC_FLEET_SIZE} instances without tags: ${count} ${kinds}"

# --- 3. the cache ------------------------------------------------------------------------------------
cat "${inventory}" - > "${work}/cached.hs_crypto.yml" <<EOF_CACHE
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ${work}/cache
cache_timeout: 3600
EOF_CACHE
ansible-inventory -i "${work}/cached.hs_crypto.yml" --list > "${work}/cached-cold.json"
read -r seq4 count kinds < <(since "${seq3}")
((count == HSC_FLEET_SIZE + 3)) || { echo "cold cached listing sent ${count} requests" >&2; exit 1; }
ansible-inventory -i "${work}/cached.hs_crypto.yml" --list > "${work}/cached-warm.json"
read -r seq5 count kinds < <(since "${seq4}")
((count == 0)) || { echo "a cache hit sent ${count} requests: ${kinds}" >&2; exit 1; }
echo "REQUESTS cached, ${HSC_FLEET_SIZE} instances: ${count}"
cmp -s "${work}/cached-cold.json" "${work}/cached-warm.json" || { echo "the cache gave another inventory" >&2; exit 1; }
if grep -rlF -e "${IBMCLOUD_API_KEY}" -e 'Bearer' -e 'access_token' -e 'eyJ' "${work}/cache"; then
    echo "a credential in the inventory cache" >&2
    exit 1
fi
ansible-inventory -i "${work}/cached.hs_crypto.yml" --list --flush-cache > /dev/null
read -r _seq count kinds < <(since "${seq5}")
((count == HSC_FLEET_SIZE + 3)) || { echo "--flush-cache sent ${count} requests" >&2; exit 1; }

# the API key as a vault-encrypted value in the inventory file, none in the environment
printf 'inventory-target-vault-password\n' > "${work}/vault-password"
{
    sed '/^read_tags: true/d' "${inventory}"
    ansible-vault encrypt_string --vault-password-file "${work}/vault-password" --name api_key "${IBMCLOUD_API_KEY}" 2>/dev/null
} > "${work}/vaulted.hs_crypto.yml"
env -u IBMCLOUD_API_KEY ansible-inventory -i "${work}/vaulted.hs_crypto.yml" --vault-password-file "${work}/vault-password" --list \
    > "${work}/vaulted.json"
"${python}" -c 'import json, sys; assert len(json.load(open(sys.argv[1]))["_meta"]["hostvars"]) == int(sys.argv[2])' \
    "${work}/vaulted.json" "${HSC_FLEET_SIZE}"
if grep -qF "${IBMCLOUD_API_KEY}" "${work}/vaulted.json"; then
    echo "the API key in the inventory" >&2
    exit 1
fi
echo "vault-encrypted api_key: ${HSC_FLEET_SIZE} hosts"

# --- 4. the main job over the inventory ---------------------------------------------------------
run_provision() {
    ansible-playbook ibm.hs_crypto.provision -i "${inventory}" -e hs_crypto_hosts=tag_env_prod
}
run_provision > "${work}/provision-1.log" 2>&1 || { tail -n 40 "${work}/provision-1.log" >&2; exit 1; }
grep -E '^fleet-00[0-3] +:' "${work}/provision-1.log"
for host in fleet-000 fleet-001 fleet-002 fleet-003; do
    grep -qE "^${host} +: ok=[0-9]+ +changed=[1-9]" "${work}/provision-1.log" || { echo "${host} did not converge" >&2; exit 1; }
done
grep -qE 'fleet-001: 3 key\(s\) declared.* 3 created' "${work}/provision-1.log" || { echo "fleet-001 (Key Protect) did not get 3 keys" >&2; exit 1; }
grep -qE 'fleet-000: 2 key\(s\) declared.* 2 created' "${work}/provision-1.log" || { echo "fleet-000 (HPCS) did not get 2 keys" >&2; exit 1; }
run_provision > "${work}/provision-2.log" 2>&1 || { tail -n 40 "${work}/provision-2.log" >&2; exit 1; }
grep -E '^fleet-00[0-3] +:' "${work}/provision-2.log"
if grep -E '^fleet-00[0-3] +:' "${work}/provision-2.log" | grep -vqE 'changed=0 .*failed=0'; then
    echo "the re-run changed something" >&2
    exit 1
fi
# the audit (check mode, diff) and the report playbook of the guide, over the same inventory
ansible-playbook ibm.hs_crypto.provision -i "${inventory}" -e hs_crypto_hosts=tag_env_prod --check --diff > "${work}/audit.log" 2>&1 \
    || { tail -n 40 "${work}/audit.log" >&2; exit 1; }
if grep -E '^fleet-00[0-3] +:' "${work}/audit.log" | grep -vqE 'changed=0 .*failed=0'; then
    echo "check mode predicts a change after convergence" >&2
    exit 1
fi
grep -qE 'fleet-001: 3 key\(s\) declared, check mode, nothing was changed: would create 0' "${work}/audit.log"
ansible-playbook "${here}/files/report.yml" -i "${inventory}" --limit tag_env_prod > "${work}/report.log" 2>&1 \
    || { tail -n 40 "${work}/report.log" >&2; exit 1; }
reported="$(grep -c '"inventory-prod-root"' "${work}/report.log" || true)"
((reported == 4)) || { echo "the report listed inventory-prod-root ${reported} times, expected 4" >&2; exit 1; }
echo "audit and report over the inventory: ok"

# --- 5. the plugin's EXAMPLES as written --------------------------------------------------------------
ansible-doc -t inventory ibm.hs_crypto.hs_crypto --json > "${work}/doc.json"
"${python}" - "${work}/doc.json" "${work}" <<'EOF_PY'
# The EXAMPLES (as ansible-doc shows them): the first inventory file as it stands; after "# ---", a header, a "#" line,
# then a file commented out.
import json, os, sys
import yaml
examples = json.load(open(sys.argv[1], encoding="utf-8"))["ibm.hs_crypto.hs_crypto"]["examples"]
first, _sep, second = examples.partition("# ---\n")
_header, _sep, body = second.partition("#\n")
body = "".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines(True))
for name, doc in (("example1.hs_crypto.yml", first), ("example2.hs_crypto.yml", body)):
    assert yaml.safe_load(doc)["plugin"] == "ibm.hs_crypto.hs_crypto", name
    with open(os.path.join(sys.argv[2], name), "w", encoding="utf-8") as handle:
        handle.write(doc)
EOF_PY
ansible-inventory -i "${work}/example1.hs_crypto.yml" --graph > "${work}/example1.txt"
grep -qF '@tag_env_prod:' "${work}/example1.txt" && grep -qF '@service_key_protect:' "${work}/example1.txt"
HOME="${work}/home" ansible-inventory -i "${work}/example2.hs_crypto.yml" --list > "${work}/example2.json"
"${python}" - "${work}/example2.json" <<'EOF_PY'
import json, sys
hostvars = json.load(open(sys.argv[1], encoding="utf-8"))["_meta"]["hostvars"]
assert sorted(hostvars) == ["payments-us"], sorted(hostvars)
payments = hostvars["payments-us"]
assert payments["hs_crypto_instance_endpoint_type"] == "private" and payments["hs_crypto_instance_endpoint"], payments
assert payments["hs_crypto_instance_report"] is False
EOF_PY
ls "${work}/home/.cache/ansible/hs_crypto" > /dev/null
echo "hs_crypto_inventory: all checks passed"
