#!/usr/bin/env bash
# GPU check: install offline, then run the registry-wide tests, the parity tests, the
# GPU tier and the benchmark on torch and JAX on this machine's GPU; print a summary.
#
# Usage: scripts/gpu_check.sh [--dry-run] [--backends "torch jax"] WHEELS_DIR
#
#   WHEELS_DIR  a folder of wheels installed with `pip install --no-index`: keras, namex,
#               optree (and any other missing dependency), and optionally a keras_zoo
#               wheel; without one, this repository is installed with
#               `pip install --no-deps -e .`. The GPU builds of torch and jax must be
#               installed already (or be wheels in WHEELS_DIR).
#   --dry-run   print the steps without running anything.
#   --backends  the backends to check (default "torch jax").
#
# Environment: PYTHON (default python3), PYTEST_ARGS (extra pytest arguments),
# BENCH_ROUNDS (benchmark rounds, default 3: the benchmark writes the GPU section of
# docs/performance.md; the zoo's default configurations, --device gpu).
# Exit status: 0 when every step passed, 1 when one failed, 2 on a usage error.
# Run from anywhere; it works in the repository root. Logs: $LOG_DIR (default
# gpu-check-logs/), one file per step.

set -u -o pipefail

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

DRY_RUN=0
BACKENDS="torch jax"
WHEELS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --backends) shift; BACKENDS="${1:?--backends needs a value}" ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "gpu_check: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) WHEELS="$1" ;;
  esac
  shift
done
if [ -z "$WHEELS" ]; then
  echo "gpu_check: give the folder of wheels to install (see --help)" >&2
  exit 2
fi
if [ "$DRY_RUN" = 0 ] && [ ! -d "$WHEELS" ]; then
  echo "gpu_check: $WHEELS is not a folder" >&2
  exit 2
fi

REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO" || exit 2
PYTHON="${PYTHON:-python3}"
LOG_DIR="${LOG_DIR:-$REPO/gpu-check-logs}"
PYTEST_ARGS="${PYTEST_ARGS:-}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
[ "$DRY_RUN" = 0 ] && mkdir -p "$LOG_DIR"

ROWS=()      # "backend|suite|status|passed|failed|skipped"
FAILED=0

# run_step BACKEND SUITE JUNIT_XML COMMAND...: run (or print) one step, record its row.
run_step() {
  local backend="$1" suite="$2" junit="$3"
  shift 3
  local log="$LOG_DIR/${backend}-${suite}.log"
  if [ "$DRY_RUN" = 1 ]; then
    printf '[dry-run] (%s/%s) KERAS_BACKEND=%s' "$backend" "$suite" "$backend"
    printf ' %q' "$@"
    echo
    ROWS+=("$backend|$suite|dry-run|-|-|-")
    return 0
  fi
  echo "== $backend / $suite: $*"
  local status=0
  KERAS_BACKEND="$backend" "$@" >"$log" 2>&1 || status=$?
  local counts="-|-|-"
  if [ -n "$junit" ] && [ -f "$junit" ]; then
    counts="$("$PYTHON" - "$junit" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
get = lambda k: sum(int(s.get(k, 0)) for s in suites)
failed = get("failures") + get("errors")
print(f"{get('tests') - failed - get('skipped')}|{failed}|{get('skipped')}")
EOF
)" || counts="-|-|-"
  fi
  local word=passed
  # pytest exits 5 when nothing was collected (e.g. every test deselected): not a failure
  if [ "$status" != 0 ] && ! { [ "$status" = 5 ] && [ -n "$junit" ]; }; then
    word="FAILED($status)"
    FAILED=1
    tail -n 30 "$log" | sed 's/^/    /'
  fi
  ROWS+=("$backend|$suite|$word|$counts")
  echo "   -> $word (log: $log)"
}

# -- 1. offline install --------------------------------------------------------------
run_step any install "" "$PYTHON" -m pip install --no-index --find-links "$WHEELS" \
  keras namex optree
ZOO_WHEEL="$(ls "$WHEELS"/keras_zoo-*.whl 2>/dev/null | head -n 1 || true)"
if [ -n "$ZOO_WHEEL" ]; then
  run_step any install-zoo "" "$PYTHON" -m pip install --no-index --no-deps "$ZOO_WHEEL"
else
  run_step any install-zoo "" "$PYTHON" -m pip install --no-index --no-deps -e .
fi

# -- 2. per backend: GPU visible, tests ------------------------------------------------

for backend in $BACKENDS; do
  run_step "$backend" gpu-visible "" "$PYTHON" -c \
    "from zoo.backend import devices; n = devices.gpu_count(); print(n, 'GPU(s)'); raise SystemExit(0 if n else 1)"
  for suite in models parity gpu-tier; do
    junit="$LOG_DIR/${backend}-${suite}.xml"
    case "$suite" in
      models) targets=(tests/models) ;;
      parity) targets=(-m parity) ;;
      gpu-tier) targets=(tests/test_gpu.py) ;;
    esac
    # shellcheck disable=SC2086
    run_step "$backend" "$suite" "$junit" "$PYTHON" -m pytest -p no:cacheprovider -q \
      --junitxml="$junit" "${targets[@]}" $PYTEST_ARGS
  done
done

# -- 3. the benchmark, once for all the backends, on the GPU ---------------------------
# Its tables go into the GPU section of docs/performance.md (the CPU sections stay).
BENCH_BACKENDS="${BACKENDS// /,}"
run_step "${BACKENDS// /+}" benchmark "" "$PYTHON" scripts/benchmark.py --device gpu \
  --backends "$BENCH_BACKENDS" --rounds "$BENCH_ROUNDS"

# -- 4. summary ----------------------------------------------------------------------
echo
printf '%-11s %-12s %-28s %7s %7s %8s\n' backend suite status passed failed skipped
for row in "${ROWS[@]}"; do
  IFS='|' read -r b s st p f k <<<"$row"
  printf '%-11s %-12s %-28s %7s %7s %8s\n' "$b" "$s" "$st" "$p" "$f" "$k"
done
if [ "$DRY_RUN" = 1 ]; then
  echo "dry run: nothing was run"
  exit 0
fi
[ "$FAILED" = 0 ] && echo "gpu_check: all steps passed" || echo "gpu_check: some steps FAILED"
exit "$FAILED"
