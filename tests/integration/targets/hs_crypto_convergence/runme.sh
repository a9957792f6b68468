#!/usr/bin/env bash
# Convergence under random failures, and two concurrent runs, through the hs_crypto_instance role.
#
# 1. 210 declared keys (plus 10 existing keys declared absent); 3 % of all requests answer 503 and
#    1 % of KMS requests lose their answer after the change was made (fixed seeds); retries are off,
#    so failures reach the run. The role is re-run until a run changes nothing; then the instance
#    must hold exactly the declared keys: none missing, none duplicated, none extra.
# 2. Two runs of the role start at the same moment over 60 keys (40 with aliases, 20 known only by
#    name): afterwards every key exists once.
set -eux -o pipefail

# integration_config.yml, or a copy completed with the variables of the emulator the setup target starts
CONFIG="$(../setup_hs_crypto_emulator/files/integration_config.sh)"
WORK="${OUTPUT_DIR:-$(mktemp -d)}"
ANSIBLE_ROLES_PATH="$(pwd)"
export ANSIBLE_ROLES_PATH

playbook() {
    ansible-playbook -i "${WORK}/inventory.yml" -e "@${CONFIG}" "$@"
}

converged() {
    # A run converged when it succeeded and its recap shows no change.
    grep -qE '^bench-instance +: .* changed=0 .* failed=0' "$1"
}

# --- 1. random failures -----------------------------------------------------------------------
ansible-playbook -i localhost, -c local -e "@${CONFIG}" -e "work=${WORK}" -e keys=210 -e absent=10 -e faults=true setup.yml

runs=0
while true; do
    runs=$((runs + 1))
    if playbook converge.yml > "${WORK}/run-${runs}.log" 2>&1 && converged "${WORK}/run-${runs}.log"; then
        break
    fi
    grep -E "^bench-instance +:" "${WORK}/run-${runs}.log" || tail -c 400 "${WORK}/run-${runs}.log"
    if ((runs >= 15)); then
        echo "did not converge in ${runs} runs" >&2
        exit 1
    fi
done
echo "CONVERGED after ${runs} runs (the last one changed nothing)"
playbook -e expected=210 -e "runs=${runs}" verify.yml

# --- 2. two concurrent runs ---------------------------------------------------------------------
ansible-playbook -i localhost, -c local -e "@${CONFIG}" -e "work=${WORK}" -e keys=60 -e absent=0 -e faults=false -e name_only=20 setup.yml
playbook converge.yml > "${WORK}/concurrent-a.log" 2>&1 &
first=$!
playbook converge.yml > "${WORK}/concurrent-b.log" 2>&1 &
second=$!
wait "${first}"
wait "${second}"
playbook -e expected=60 -e runs=2 verify.yml
playbook converge.yml > "${WORK}/concurrent-after.log" 2>&1
converged "${WORK}/concurrent-after.log"
echo "CONCURRENT runs: no duplicate, and a third run changed nothing"
