#!/usr/bin/env bash
# The GPU path measured on a real GPU, in one call (under 8 minutes on a 16-core machine: each
# step has its own time limit, 170 + 110 + 40 + 100 + 20 s, and reports what it finished):
#   1. the test suite with --backend cupy (pytest -n, one worker per core, capped in time);
#   2. every experiment, --quick, on cupy: the verdicts next to those of NumPy in the same call;
#   3. the GPU benchmarks (benchmarks/bench_gpu.py) and the transfer counts;
# then docs/gpu.md is rewritten with the device's name and the figures.
#
# It needs nothing installed: the machine's python3 with CuPy, NumPy, matplotlib, tqdm, pytest,
# hypothesis and pytest-xdist, and the project used from the working tree (PYTHONPATH=.).
#     bash benchmarks/gpu.sh            # on the GPU machine
#     GPU_BACKEND=strict GPU_SMALL=1 bash benchmarks/gpu.sh   # a dry run of the script on a CPU
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
PY=${PYTHON:-python3}
BACKEND=${GPU_BACKEND:-cupy}
WORK=${GPU_WORK:-$(mktemp -d)}
JOBS=$(nproc)
SMALL=${GPU_SMALL:+--small}
mkdir -p "$WORK"
rm -f "$WORK/bench.md"
echo "gpu.sh: backend $BACKEND, $JOBS cores, work folder $WORK"
# SIGINT first, so that pytest and the experiments report what they finished; KILL 10 s later
LIMIT="timeout -s INT -k 10"

# what the machine must have: nothing is installed here
if [ "$BACKEND" = cupy ] && ! $PY -c "import cupy; assert cupy.cuda.runtime.getDeviceCount() > 0"; then
    echo "gpu.sh: CuPy with a CUDA device is needed for --backend cupy" >&2
    exit 2
fi
XDIST="-n $JOBS"
$PY -c "import xdist" 2>/dev/null || { XDIST=""; echo "gpu.sh: no pytest-xdist: one process"; }

# 1. the suite (the experiments' own tests are step 2's business: they run there, once)
start=$(date +%s)
$LIMIT 170 $PY -m pytest -q $XDIST --backend "$BACKEND" -p no:cacheprovider \
    --ignore=tests/experiments > "$WORK/pytest.txt" 2>&1
echo "pytest exit $? after $(( $(date +%s) - start )) s" >> "$WORK/pytest.txt"
tail -3 "$WORK/pytest.txt"

# 2. the experiments, quick, on the device and on NumPy
start=$(date +%s)
$LIMIT 110 $PY -m experiments run all --quick --backend "$BACKEND" --jobs 8 \
    --out "$WORK/results-$BACKEND" > "$WORK/experiments-$BACKEND.txt" 2>&1
echo "exit $? after $(( $(date +%s) - start )) s" >> "$WORK/experiments-$BACKEND.txt"
$LIMIT 40 $PY -m experiments run all --quick --backend numpy --jobs "$JOBS" \
    --out "$WORK/results-numpy" > "$WORK/experiments-numpy.txt" 2>&1
tail -2 "$WORK/experiments-$BACKEND.txt"

# 3. the benchmarks
$LIMIT 100 $PY benchmarks/bench_gpu.py --backend "$BACKEND" $SMALL \
    --markdown "$WORK/bench.md" > "$WORK/bench.txt" 2>&1
echo "exit $?" >> "$WORK/bench.txt"
$LIMIT 20 $PY benchmarks/bench_transfers.py > "$WORK/transfers.txt" 2>&1

# the figures go into docs/gpu.md from a real GPU only; a dry run writes next to its files
REPORT=docs/gpu.md
[ "$BACKEND" = cupy ] || REPORT="$WORK/gpu.md"
$PY benchmarks/gpu_report.py --backend "$BACKEND" --work "$WORK" --out "$REPORT"
echo "gpu.sh: wrote $REPORT"
