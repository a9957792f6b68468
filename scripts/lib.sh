# shellcheck shell=bash
# Shared helpers for scripts/test, scripts/demo and scripts/emulator.
# Source it; it does not change shell options of the caller.

# --- Locations --------------------------------------------------------------------------------
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${HS_CRYPTO_VENV:-${REPO_ROOT}/.venv}"                     # HS_CRYPTO_VENV moves it (trying other pins)
BUILD_DIR="${HS_CRYPTO_BUILD_DIR:-${REPO_ROOT}/.build}"          # HS_CRYPTO_BUILD_DIR moves it (parallel runs)
COLLECTIONS_ROOT="${BUILD_DIR}"                                  # contains ansible_collections/
COLLECTION_DIR="${COLLECTIONS_ROOT}/ansible_collections/ibm/hs_crypto"
REQUIREMENTS="${HS_CRYPTO_REQUIREMENTS:-${REPO_ROOT}/tests/requirements-dev.txt}"
PYTHON_VERSION="3.11"                                            # the version ansible-test runs
# Debian packages as package:command (installed by the setup step when the command is missing):
# ShellCheck for the scripts, Chromium and its WebDriver for the check of the rendered docsite.
APT_PACKAGES=(shellcheck:shellcheck chromium:chromium chromium-driver:chromedriver)
# PYTHON (environment) may name the interpreter that creates the venv; default python3.
: "${PYTHON:=python3}"

export REPO_ROOT VENV BUILD_DIR COLLECTIONS_ROOT COLLECTION_DIR

# --- Output -----------------------------------------------------------------------------------
log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# now_ms: wall clock in milliseconds (bash 5 EPOCHREALTIME, no subprocess).
now_ms() {
    local t="${EPOCHREALTIME/[.,]/}"
    printf '%s\n' "$((t / 1000))"
}

# fmt_ms MS: "4.2 s"
fmt_ms() {
    printf '%d.%d s' "$(($1 / 1000))" "$((($1 % 1000) / 100))"
}

# --- Step runner with timing ------------------------------------------------------------------
STEP_NAMES=()
STEP_TIMES=()
STEP_RESULTS=()

# run_step NAME COMMAND...: run COMMAND in a subshell with errexit active, print
# "==> NAME (12.3 s)" and record the result. Sets STEP_RC to the command's exit status and always
# returns 0: calling it as "run_step ... || x" would make bash ignore errexit inside COMMAND.
STEP_RC=0
run_step() {
    local name="$1" start elapsed
    shift
    log ""
    log "==> ${name}"
    start="$(now_ms)"
    set +e
    (set -euo pipefail; "$@")
    STEP_RC=$?
    set -e
    elapsed=$(($(now_ms) - start))
    STEP_NAMES+=("${name}")
    STEP_TIMES+=("${elapsed}")
    if ((STEP_RC == 0)); then
        STEP_RESULTS+=("ok")
        log "==> ${name} ($(fmt_ms "${elapsed}"))"
    else
        STEP_RESULTS+=("FAILED (exit ${STEP_RC})")
        log "==> ${name} FAILED with exit code ${STEP_RC} ($(fmt_ms "${elapsed}"))"
    fi
}

# print_summary TOTAL_MS: table of all recorded steps.
print_summary() {
    local i
    log ""
    log "Summary"
    log "-------"
    for i in "${!STEP_NAMES[@]}"; do
        printf '  %-14s %10s   %s\n' "${STEP_NAMES[i]}" "$(fmt_ms "${STEP_TIMES[i]}")" "${STEP_RESULTS[i]}" >&2
    done
    printf '  %-14s %10s\n' "total" "$(fmt_ms "$1")" >&2
}

# --- Environment ------------------------------------------------------------------------------

# use_venv: put the venv first on PATH and point Ansible at the staged collection and at
# scratch directories inside .build/ (keeps runs out of $HOME and out of the repository).
use_venv() {
    export VIRTUAL_ENV="${VENV}"
    export PATH="${VENV}/bin:${PATH}"
    export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_ROOT}"
    export ANSIBLE_LOCAL_TEMP="${BUILD_DIR}/tmp/ansible-local"
    export ANSIBLE_REMOTE_TMP="${BUILD_DIR}/tmp/ansible-remote"
    export ANSIBLE_PYTHON_INTERPRETER="${VENV}/bin/python"     # avoids the pyenv shim
    export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-${CI:+1}}"
    [[ -n "${ANSIBLE_NOCOLOR}" ]] || unset ANSIBLE_NOCOLOR
    unset PYTHONPATH
    mkdir -p "${ANSIBLE_LOCAL_TEMP}" "${ANSIBLE_REMOTE_TMP}"
}

# as_root COMMAND...: run as root directly or through passwordless sudo; fail otherwise.
as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

# ensure_apt_packages: install the missing Debian packages of APT_PACKAGES when we can.
ensure_apt_packages() {
    local missing=() entry
    for entry in "${APT_PACKAGES[@]}"; do
        command -v "${entry#*:}" >/dev/null 2>&1 || missing+=("${entry%%:*}")
    done
    ((${#missing[@]})) || return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        log "warning: missing ${missing[*]} and no apt-get; install it yourself"
        return 0
    fi
    log "installing Debian packages: ${missing[*]}"
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null; }; then
        log "warning: could not install ${missing[*]} (need root or passwordless sudo)"
    fi
}

# requirements_stamp: what the venv was built from (requirements file + interpreter version).
requirements_stamp() {
    {
        sha256sum <"${REQUIREMENTS}"
        "${PYTHON}" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
}

# ensure_venv: (re)create .venv when the requirements file changed since it was built.
ensure_venv() {
    local stamp_file="${VENV}/.requirements.sha256" stamp version
    version="$("${PYTHON}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" ||
        die "cannot run ${PYTHON}"
    [[ "${version}" == "${PYTHON_VERSION}" ]] ||
        die "${PYTHON} is Python ${version}; Python ${PYTHON_VERSION} is required (set PYTHON=...)"
    stamp="$(requirements_stamp)"
    if [[ -x "${VENV}/bin/python" && -f "${stamp_file}" && "$(<"${stamp_file}")" == "${stamp}" ]] &&
        "${VENV}/bin/python" -c '' 2>/dev/null; then
        log "venv up to date: ${VENV}"
        return 0
    fi
    log "creating ${VENV} from ${REQUIREMENTS#"${REPO_ROOT}/"}"
    rm -rf "${VENV}"
    "${PYTHON}" -m venv "${VENV}"
    # Full pip output goes to a log; shown only when the install fails.
    if ! "${VENV}/bin/python" -m pip install --disable-pip-version-check --no-input \
        -r "${REQUIREMENTS}" >"${VENV}/pip-install.log" 2>&1; then
        grep -v 'is ignored: it is neither a file nor a directory' "${VENV}/pip-install.log" | tail -n 40 >&2
        die "pip install failed (full log: ${VENV}/pip-install.log)"
    fi
    printf '%s\n' "${stamp}" >"${stamp_file}"
    log "installed: $("${VENV}/bin/ansible" --version | head -n 1)"
}

# stage_collection: copy tracked + untracked-not-ignored files into
# .build/ansible_collections/ibm/hs_crypto (wiped first). ansible-test needs a real directory
# at that path. The copy gets its own empty git repository: otherwise ansible-test and
# ansible-lint find the enclosing repository, in which .build/ is ignored, and see no files.
stage_collection() {
    rm -rf "${COLLECTION_DIR}"
    mkdir -p "${COLLECTION_DIR}"
    (
        cd "${REPO_ROOT}"
        # Files deleted in the work tree are still listed by --cached; skip them.
        git ls-files -z --cached --others --exclude-standard --deduplicate |
            while IFS= read -r -d '' path; do
                if [[ -e "${path}" || -L "${path}" ]]; then printf '%s\0' "${path}"; fi
            done |
            tar --null --no-recursion -T - -cf -
    ) | tar -xf - -C "${COLLECTION_DIR}"
    git -C "${COLLECTION_DIR}" init -q
    log "staged $(find "${COLLECTION_DIR}" -path "${COLLECTION_DIR}/.git" -prune -o -type f -print | wc -l) files in ${COLLECTION_DIR#"${REPO_ROOT}/"}"
}

# --- HPCS emulator ----------------------------------------------------------------------------
EMULATOR_START_TIMEOUT=20

# emulator_pid STATE_FILE: print the pid of a live emulator started for STATE_FILE.
emulator_pid() {
    local pid_file="$1.pid" pid
    [[ -f "${pid_file}" ]] || return 1
    pid="$(<"${pid_file}")"
    [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
    # Guard against a recycled pid: it must still be our emulator.
    tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q 'hpcs_emulator' || return 1
    printf '%s\n' "${pid}"
}

# emulator_start STATE_FILE DATA_DIR [FRESH]: start the emulator in the background, wait for its
# state file, print the public URL. FRESH=1 wipes DATA_DIR first.
emulator_start() {
    local state_file="$1" data_dir="$2" fresh="${3:-0}" log_file="$1.log" pid waited=0
    [[ -d "${REPO_ROOT}/tests/hpcs_emulator" ]] ||
        die "the emulator package tests/hpcs_emulator does not exist (yet)"
    if pid="$(emulator_pid "${state_file}")"; then
        die "emulator already running (pid ${pid}, state ${state_file}); stop it first"
    fi
    mkdir -p "$(dirname "${state_file}")"
    if [[ "${fresh}" == 1 ]]; then rm -rf "${data_dir}"; fi
    mkdir -p "${data_dir}"
    rm -f "${state_file}" "${state_file}.pid"
    PYTHONPATH="${REPO_ROOT}/tests" nohup "${VENV}/bin/python" -m hpcs_emulator \
        --host 127.0.0.1 --http-port 0 --https-port 0 --private-port 0 \
        --state-file "${state_file}" --data-dir "${data_dir}" \
        </dev/null >"${log_file}" 2>&1 9>&- &
    pid=$!
    printf '%s\n' "${pid}" >"${state_file}.pid"
    # The emulator writes the state file atomically once it listens.
    until [[ -s "${state_file}" ]]; do
        if ! kill -0 "${pid}" 2>/dev/null; then
            tail -n 30 "${log_file}" >&2 || true
            rm -f "${state_file}.pid"
            die "emulator exited during start-up (log: ${log_file})"
        fi
        if ((waited >= EMULATOR_START_TIMEOUT * 10)); then
            tail -n 30 "${log_file}" >&2 || true
            emulator_stop "${state_file}"
            die "emulator did not become ready within ${EMULATOR_START_TIMEOUT} s (log: ${log_file})"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    log "emulator running (pid ${pid}): $(emulator_field "${state_file}" https_url)"
}

# emulator_stop STATE_FILE: SIGTERM, wait up to 10 s, then SIGKILL. Quiet if not running.
emulator_stop() {
    local state_file="$1" pid i
    if pid="$(emulator_pid "${state_file}")"; then
        kill -TERM "${pid}" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "${pid}" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "${pid}" 2>/dev/null; then
            log "emulator (pid ${pid}) ignored SIGTERM; killing it"
            kill -KILL "${pid}" 2>/dev/null || true
        fi
        log "emulator stopped (pid ${pid})"
    fi
    rm -f "${state_file}" "${state_file}.pid"
}

# emulator_field STATE_FILE KEY: print one top-level value of the state file.
emulator_field() {
    "${VENV}/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# write_emulator_vars [--env] STATE_FILE OUT_FILE: the connection variables of the integration
# tests as YAML (or, with --env, the modules' environment variables as shell exports), taken from
# the state file (API keys and instances from its "config"). OUT_FILE "-" is standard output.
write_emulator_vars() {
    "${VENV}/bin/python" "${REPO_ROOT}/scripts/emulator_vars.py" "$@"
}

# integration_suite STATE_FILE DATA_DIR PYTHON_VERSION [ARGS...]: the integration targets of the staged tree
# (COLLECTION_DIR) against a fresh emulator, with ansible-test's ARGS (targets, --exclude ...); the emulator is
# stopped whatever happens. Call it in a subshell (run_step's): it sets traps.
integration_suite() {
    local state="$1" data="$2" python_version="$3"
    shift 3
    # shellcheck disable=SC2064  # expand now: "state" is local to this function
    trap "emulator_stop '${state}'" EXIT
    trap 'exit 130' INT TERM
    emulator_start "${state}" "${data}" 1
    write_emulator_vars "${state}" "${COLLECTION_DIR}/tests/integration/integration_config.yml"
    cd "${COLLECTION_DIR}"
    ansible-test integration --local --python "${python_version}" --color no "$@"
}

# --- ansible-test -----------------------------------------------------------------------------

# install_pip_bootstrap PYTHON PYTHON_VERSION: ansible-test bootstraps pip in its sanity venvs with a get-pip script
# it would download from an unreachable host; it uses ~/.ansible/test/cache/get_pip_<ver>.py when present. Install
# scripts/get_pip_offline.py there, under the pip version that the ansible-test of PYTHON (an interpreter with
# ansible-core installed) asks for on PYTHON_VERSION: get_venv_packages() in
# ansible_test/_internal/python_requirements.py (23.1.2 in 2.17, 24.2 in 2.18 and 2.19, 25.2 in 2.21).
install_pip_bootstrap() {
    local python="$1" python_version="$2" pip_version cache_file source="${REPO_ROOT}/scripts/get_pip_offline.py"
    pip_version="$("${python}" - "${python_version}" <<'EOF_PY'
import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version=sys.argv[1]))['pip'])
EOF_PY
)"
    [[ "${pip_version}" =~ ^[0-9][0-9.]*$ ]] || die "unexpected pip version from ansible-test: ${pip_version}"
    cache_file="${HOME}/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    mkdir -p "$(dirname "${cache_file}")"
    if ! cmp -s "${source}" "${cache_file}"; then
        cp "${source}" "${cache_file}"
    fi
    log "pip ${pip_version} bootstrap: ${cache_file}"
}

# stage_tree DEST: like stage_collection, into DEST/ansible_collections/ibm/hs_crypto (for the matrix legs).
stage_tree() {
    COLLECTION_DIR="$1/ansible_collections/ibm/hs_crypto" stage_collection
}
