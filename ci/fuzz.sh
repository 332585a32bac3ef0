#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader of outside input (tests/fuzz): each
# harness runs under libFuzzer with ASan+UBSan for SECONDS, from the
# repository's corpus, and the figures are printed: executions, coverage,
# crashes, leaks and timeouts. A finding is kept under the work directory and
# named, with the line that makes it a regression (its input joins the
# corpus, which CTest replays).
#
# Usage: ci/fuzz.sh [SECONDS] [--runs N] [--parallel P] [--only NAME]... [--build DIR] [--keep DIR]
#   SECONDS     per harness at most (default 60)
#   --runs N    stop a harness after N executions (within SECONDS)
#   --parallel P  run P harnesses at once (default 1)
#   --only      this harness only; repeatable (default: all of them)
#   --build     the libFuzzer build (default build-fuzz; configured and built
#               with clang++ here when missing)
#   --keep DIR  keep the grown corpus and findings in DIR (default: a
#               temporary directory, removed unless something was found)
# Exit: 0 when no harness found anything, 1 when one did, 2 on bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
seconds=60 runs=-1 parallel=1 build=build-fuzz keep="" only=()
while [ $# -gt 0 ]; do
    case $1 in
        --only) only+=("$2"); shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --parallel) parallel=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        [0-9]*) seconds=$1; shift ;;
        *) echo "ci/fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
harnesses=$(sed -n 's/^set(ILK_FUZZ_HARNESSES \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)
[ ${#only[@]} -gt 0 ] || read -r -a only <<< "$harnesses"
for h in "${only[@]}"; do
    [[ " $harnesses " == *" $h "* ]] || { echo "ci/fuzz.sh: no harness '$h' (there are: $harnesses)" >&2; exit 2; }
done
command -v clang++ > /dev/null || { echo "ci/fuzz.sh: clang++ is missing: apt-get install clang libclang-rt-14-dev" >&2; exit 2; }

if [ ! -f "$build/CMakeCache.txt" ]; then
    launcher=()
    command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    CXX=clang++ cmake -S . -B "$build" -G Ninja -DILK_FUZZ=ON "${launcher[@]}" > /dev/null
fi
targets=()
for h in "${only[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" > "$build/fuzz-build.log" 2>&1 || {
    tail -30 "$build/fuzz-build.log"; echo "ci/fuzz.sh: the build failed (log: $build/fuzz-build.log)" >&2; exit 2; }

if [ -n "$keep" ]; then
    mkdir -p "$keep"; work=$(cd "$keep" && pwd)
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/ilk-fuzz-XXXXXX")
fi
# Harnesses read the shipped strategies and servers, and write their inputs under TMPDIR.
export ILK_STRATEGY_PATH=$src/strategies ILK_SERVER_PATH=$src/servers TMPDIR=$work
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

fuzz() {  # one harness, its log in $work/NAME.log
    local h=$1 max_len=8192
    # Inputs up to 8 KiB; a server log 2 KiB (a line is matched on its first
    # 1 KiB), a report 16 KiB. Longer seeds (a log line of 256 KiB, a report
    # of 40 KiB) are truncated here and replayed whole by CTest.
    case $h in server_log) max_len=2048 ;; report) max_len=16384 ;; esac
    mkdir -p "$work/corpus/$h" "$work/findings/$h"
    "$build/bin/fuzz_$h" "$work/corpus/$h" "$src/tests/fuzz/corpus/$h" -max_total_time="$seconds" -runs="$runs" -timeout=10 \
        -max_len=$max_len -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/findings/$h/" > "$work/$h.log" 2>&1 || true
}
running=0
for h in "${only[@]}"; do
    if [ "$running" -ge "$parallel" ]; then wait -n || true; running=$((running - 1)); fi
    fuzz "$h" &
    running=$((running + 1))
done
wait

printf '%-16s %7s %11s %9s %6s %7s %7s %s\n' harness seconds execs execs/s cov ft new findings
found=0
for h in "${only[@]}"; do
    log=$work/$h.log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    # Its time: "Done N runs in S second(s)", at its runs or its time cap;
    # after a finding, not known (the rate is then libFuzzer's last).
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    done_line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$done_line")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$done_line")
    rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<< "$done_line")
    if [ -n "$took" ] && [ -n "$execs" ]; then rate=$(( execs / (took > 0 ? took : 1) )); fi
    n=$(ls "$work/findings/$h" | wc -l)
    findings=$(ls "$work/findings/$h" | sed 's/-.*//' | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')
    printf '%-16s %7s %11s %9s %6s %7s %7s %s\n' "$h" "${took:--}" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
        "$(ls "$work/corpus/$h" | wc -l)" "${findings:-0}"
    if [ "$n" -gt 0 ] || [ -z "$execs" ]; then
        found=1
        [ -n "$execs" ] || echo "  $h did not finish: see $log"
        for f in "$work/findings/$h"/*; do
            [ -e "$f" ] || continue
            echo "  $f"
            echo "    reproduce: $build/bin/fuzz_$h $f"
            echo "    once fixed, keep it: cp $f tests/fuzz/corpus/$h/"
        done
    fi
done
if [ "$found" = 0 ] && [ -z "$keep" ]; then rm -rf "$work"; else echo "corpus and findings: $work"; fi
exit $found
