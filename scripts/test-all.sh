#!/usr/bin/env bash
# The one test command: installs what the tests need, builds the front end,
# then runs every test suite.  Works on a fresh machine, as root, with no
# standard input (CI=true).  Exits non-zero when any step fails; every runner
# prints its own summary, and a short table of the steps closes the run.
#
#   bash scripts/test-all.sh              everything
#   bash scripts/test-all.sh -k insert    extra arguments go to pytest
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
export DEBIAN_FRONTEND=noninteractive
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

declare -a STEPS=()
FAILED=0

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
record() {  # record NAME STATUS
  STEPS+=("$(printf '%-28s %s' "$1" "$2")")
  if [ "$2" != ok ] && [ "$2" != skipped ]; then FAILED=1; fi
}
run() {  # run NAME COMMAND...: run a step, record its outcome
  local name=$1; shift
  step "$name: $*"
  local start=$SECONDS
  if "$@"; then
    record "$name" ok
  else
    local rc=$?
    record "$name" "FAILED (exit $rc)"
  fi
  echo "    ($name took $((SECONDS - start))s)"
}
finish() {
  printf '\n\033[1m==> summary\033[0m\n'
  printf '    %s\n' "${STEPS[@]}"
  if [ "$FAILED" -ne 0 ]; then
    echo "test-all: FAILED"
    exit 1
  fi
  echo "test-all: all steps passed"
  exit 0
}

# 1. Chromium for the browser tests (Debian's package; never a downloaded build).
install_chromium() {
  if [ -x /usr/bin/chromium ]; then
    echo "/usr/bin/chromium is there: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=(sudo -n); else
      echo "not root and no sudo: install chromium by hand (apt-get install chromium)"; return 1
    fi
  fi
  "${sudo[@]}" apt-get update -q </dev/null &&
    "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium </dev/null
}
run chromium install_chromium

# 2. Node packages, exactly as locked (skipped when node_modules matches the lock).
npm_ci_if_needed() {
  if ! command -v npm >/dev/null; then echo "npm not found: install Node.js 20+"; return 1; fi
  local marker=js/node_modules/.package-lock.json
  if [ -f "$marker" ] && [ ! js/package-lock.json -nt "$marker" ] && [ ! js/package.json -nt "$marker" ]; then
    echo "js/node_modules is up to date with js/package-lock.json"
    return 0
  fi
  (cd js && npm ci --no-progress </dev/null)
}
run "npm ci" npm_ci_if_needed

# 2b. Azurite, Microsoft's Azure Blob API emulator, for the az:// tests; its own
#     locked folder so the front end's lock stays small.
azurite_ci_if_needed() {
  local marker=tests/azurite/node_modules/.package-lock.json
  if [ -f "$marker" ] && [ ! tests/azurite/package-lock.json -nt "$marker" ]; then
    echo "tests/azurite/node_modules is up to date with its lock"
    return 0
  fi
  (cd tests/azurite && npm ci --no-progress </dev/null)
}
run "npm ci (azurite)" azurite_ci_if_needed
export CKPTZOO_AZURITE="$ROOT/tests/azurite/node_modules/.bin/azurite-blob"

# 3. The package with its test extras. The hatch-jupyter-builder hook builds
#    js/ (widget bundle + labextension) when the built files are missing or
#    older than their sources, and installs the labextension.
pip_install() {
  # (This machine's pip config names optional local indexes that may be
  # absent; pip warns once per package about them. Drop only those lines.)
  "$PYTHON" -m pip install --progress-bar off -q -e ".[test]" </dev/null 2>&1 |
    { grep -v "is ignored: it is neither a file nor a directory" || true; }
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  local missing=0
  for f in ckptzoo_widgets/static/widget.js ckptzoo_widgets/labextension/package.json; do
    if [ ! -f "$f" ]; then echo "build output missing: $f"; missing=1; fi
  done
  return $missing
}
run "pip install -e .[test]" pip_install

# 4. Lint and format: a style or lint error fails the run like a failing test.
run "ruff check" "$PYTHON" -m ruff check .
run "ruff format --check" "$PYTHON" -m ruff format --check .
run "mypy" "$PYTHON" -m mypy
run "eslint + prettier" bash -c 'cd js && npm run lint --silent </dev/null'

# 5. Front-end unit tests (vitest + jsdom).
run "vitest (npm test)" bash -c 'cd js && CI=true npm test --silent </dev/null'

# 6. Python: units, notebooks, and the real-browser tests.
run "pytest" "$PYTHON" -m pytest -ra "$@" </dev/null

finish
