#!/usr/bin/env bash
# Benchmarks with the figures the issues name. Prints numbers, asserts nothing.
#   ci/bench.sh            probe timing only (uses build/, builds it if needed)
#   ci/bench.sh --build    also cold configure+build and one-plugin rebuild (slow)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${ILK_BENCH_RUNS:-10}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

if [ "${1:-}" = "--build" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ilk-bench-build.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  t0=$(now)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$dir" -j "$(nproc)" >/dev/null
  t1=$(now)
  echo "cold configure + build (all targets, $(nproc) cores): $(secs "$t0" "$t1") s"
  touch plugins/bsd-flock/flock_lock.cpp
  t0=$(now)
  cmake --build "$dir" -j "$(nproc)" >/dev/null
  t1=$(now)
  echo "rebuild after touching plugins/bsd-flock/flock_lock.cpp: $(secs "$t0" "$t1") s"
fi

[ -x build/bin/ilk ] || { cmake -S . -B build -G Ninja >/dev/null && cmake --build build -j "$(nproc)" >/dev/null; }
target=$(mktemp -d "${TMPDIR:-/tmp}/ilk-bench.XXXXXX")
trap 'rm -rf "$target" ${dir:+"$dir"}' EXIT
times=()
for _ in $(seq "$runs"); do
  t0=$(now)
  build/bin/ilk probe --target "$target" --format json --output "$target/probe.json"
  t1=$(now)
  times+=("$(secs "$t0" "$t1")")
done
facts=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["facts"]))' "$target/probe.json")
printf '%s\n' "${times[@]}" | sort -n | awk -v n="$runs" -v f="$facts" '
  { t[NR] = $1 }
  END { printf "ilk probe, all facts for all primitives (%d facts), %d runs: min %.2f s, median %.2f s, max %.2f s\n",
        f, n, t[1], t[int((n + 1) / 2)], t[n] }'
python3 - "$target/probe.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
slow = sorted(r["facts"].items(), key=lambda kv: -kv[1]["elapsed_ms"])[:5]
print("slowest facts of the last run:", ", ".join(f"{k} {v['elapsed_ms']:.0f} ms" for k, v in slow))
hand = [v["evidence"].get("handover_ms") for k, v in r["facts"].items() if k.endswith("released_on_holder_kill")]
hand = [h for h in hand if h is not None]
if hand: print(f"lock hand-over after SIGKILL: min {min(hand):.2f} ms, max {max(hand):.2f} ms")
PY

# --- the protocol engine (ilk run) ---------------------------------------------
# The machine's floor: fork + _exit + waitpid in C, on one CPU and on every
# CPU at once (in some VMs page-table work does not scale across CPUs).
fork_c="$target/fork-floor"
cat >"$fork_c.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char** argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 2000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        const pid_t p = fork();
        if (p == 0) _exit(0);
        waitpid(p, 0, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.3f\n", ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / n);
    return 0;
}
C
cc -O2 -o "$fork_c" "$fork_c.c"
floor=$(taskset -c 0 "$fork_c" 2000)
cpus=$(nproc)
floor_all=$(for c in $(seq 0 $((cpus - 1))); do taskset -c "$c" "$fork_c" 2000 & done | sort -n | tail -1; wait)
echo "fork + exit + wait in C: $floor ms on one CPU ($(awk -v f="$floor" 'BEGIN { printf "%.0f", 1000 / f }')/s); $floor_all ms each with $cpus at once" \
     "($(awk -v f="$floor_all" -v n="$cpus" 'BEGIN { printf "%.0f", n * 1000 / f }')/s in all)"
shm=$(mktemp -d /dev/shm/ilk-bench.XXXXXX)
chmod 755 "$shm"  # contenders of some scenarios run under a dedicated uid
trap 'rm -rf "$target" "$shm" ${dir:+"$dir"}' EXIT
build/bin/ilk run --strategy tom-2004 --scenario concurrent-stale --target "$shm" --format json --output "$shm/tom.json" \
  --report-dir "$shm/report" -q
python3 - "$shm/tom.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["targets"][0]["cells"][0]["scenarios"][0]
print(f"tom-2004 / concurrent-stale (exhaustive, tmpfs): {c['verdict']}, counterexample found after {c['found_ms']:.0f} ms "
      f"({c['schedules']} schedules; cell with shrinking {c['elapsed_ms']:.0f} ms)")
PY
build/bin/ilk run --strategy tom-2004+startup-lock --scenario concurrent-stale --target "$shm" --format json --output "$shm/window.json" \
  --report-dir "$shm/report" -q --no-probe
python3 - "$shm/window.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["targets"][0]["cells"][0]["scenarios"][0]
print(f"tom-2004+startup-lock / concurrent-stale (the startup lock's window, default search): {c['verdict']}"
      + (f", found after {c['found_ms']:.0f} ms" if c.get("found_ms", -1) >= 0 else "")
      + f" ({c['schedules']} schedules; cell {c['elapsed_ms']:.0f} ms)")
PY
# The bounded search with and without the partial-order reduction, on one cell
# whose bound completes: schedules, seconds, schedules per second per CPU.
for reduce in "" --no-reduce; do
  build/bin/ilk run --strategy legacy-pid --scenario concurrent-start --target "$shm" --format json --output "$shm/por.json" \
    --report-dir "$shm/report" -q --no-probe --max-schedules 5000 --pct-runs 0 --jobs 1 $reduce
  python3 - "$shm/por.json" "${reduce:-reduced}" "$floor" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["targets"][0]["cells"][0]["scenarios"][0]
secs = c["elapsed_ms"] / 1000
floor = float(sys.argv[3])
print(f"legacy-pid / concurrent-start, bound 2 + 1 crash, {sys.argv[2]}: {c['verdict']}, {c['schedules']} schedules in {secs:.1f} s "
      f"= {c['schedules'] / secs:.0f} schedules/s (a schedule costs {secs * 1000 / c['schedules']:.1f} ms = "
      f"{secs * 1000 / c['schedules'] / floor:.1f} x fork+exit+wait in C); {'complete' if c['complete'] else 'cap hit'}")
PY
done
# One target's whole matrix on one worker, then shared out among a worker per CPU.
for jobs in 1 "$cpus"; do
  t0=$(now)
  build/bin/ilk run --target "$shm" --format json --output "$shm/full.json" --report-dir "$shm/report" -q --jobs "$jobs"
  t1=$(now)
  python3 - "$shm/full.json" "$(secs "$t0" "$t1")" "$jobs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cells = [s for t in r["targets"] for c in t["cells"] for s in c["scenarios"]]
count = {}
for c in cells: count[c["verdict"]] = count.get(c["verdict"], 0) + 1
n = sum(c['schedules'] for c in cells)
secs = float(sys.argv[2])
print(f"one target, every strategy x scenario (tmpfs directory, {sys.argv[3]} worker(s)): {secs:.1f} s wall, {len(cells)} scenario results, "
      f"{n} schedules = {n / secs:.0f}/s, " + ", ".join(f"{v} {k}" for k, v in sorted(count.items())))
PY
done
t0=$(now)
build/bin/ilk run --schedule stress --trials 300 --strategy lifetime-flock --scenario concurrent-start --target "$shm" \
  --format json --output "$shm/stress.json" --report-dir "$shm/report" -q
t1=$(now)
python3 - "$shm/stress.json" "$(secs "$t0" "$t1")" "$floor" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
trials = sum(s["schedules"] for t in r["targets"] for c in t["cells"] for s in c["scenarios"])
starters = 2 * 300 + 3 * 300  # concurrent-start variants "2" and "3"
secs = r["elapsed_ms"] / 1000
floor = float(sys.argv[3])
print(f"stress (free-running, lifetime-flock / concurrent-start, tmpfs): {trials} trials in {secs:.1f} s = {trials / secs:.0f} trials/s, "
      f"{starters / secs:.0f} contender runs/s; a contender run costs {secs * 1000 / starters:.2f} ms = "
      f"{secs * 1000 / starters / floor:.1f} x fork+exit+wait in C ({floor} ms)")
PY

# --- real servers (issue 14) ----------------------------------------------------
# Debian's PostgreSQL 15 and MariaDB 10.11, each in every scenario on tmpfs, 10
# free-running trials per variant, beside its model: the issue's figure is
# PostgreSQL's row (< 5 min).
for server in postgresql-15:/usr/lib/postgresql/15/bin/postgres mariadb-10.11:/usr/sbin/mariadbd; do
  name=${server%%:*} program=${server#*:}
  if [ "$(id -u)" -ne 0 ] || [ ! -x "$program" ] || ! getent passwd ilk-server >/dev/null; then
    echo "real server $name: skipped (needs root, $program and the user ilk-server: ci/setup.sh)"
    continue
  fi
  chmod 755 "$shm"  # the server's user reaches its data directories in there
  t0=$(now)
  TMPDIR=$shm build/bin/ilk run --target tmpfs --jobs 1 --strategy "$name" --format json --output "$shm/server.json" \
    --report-dir "$shm/server-report" -q || true
  t1=$(now)
  python3 - "$shm/server.json" "$(secs "$t0" "$t1")" "$floor" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for c in r["targets"][0]["cells"]:
    secs = sum(s["elapsed_ms"] for s in c["scenarios"]) / 1000
    trials = sum(s["schedules"] for s in c["scenarios"])
    per = f"{trials} trials, {secs * 1000 / trials:.0f} ms a trial = {secs * 1000 / trials / float(sys.argv[3]):.0f} x fork+exit+wait in C" if trials else "no trials"
    print(f"{c['strategy']:<14} all {len(c['scenarios'])} scenarios on tmpfs: {secs:.1f} s ({per})")
print(f"  the run, the server and its model: {sys.argv[2]} s wall")
PY
  rm -rf "$shm/server.json" "$shm/server-report"
done

# --- the matrix (ilk run with no arguments) and ilk merge -----------------------
if [ "$(id -u)" -eq 0 ]; then
  t0=$(now)
  build/bin/ilk run --format json --output "$shm/main.json" --report-dir "$shm/main-report" -q
  t1=$(now)
  python3 - "$shm/main.json" "$(secs "$t0" "$t1")" "$(nproc)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"main job (ilk run, no arguments, all local targets, {sys.argv[3]} cores): {sys.argv[2]} s wall")
for t in r["targets"]:
    what = f"not set up: {t['unsupported']}" if t["unsupported"] else f"{t['info'].get('fstype', '?')}, {len(t['cells'])} cells"
    print(f"  {t['name']:<13} {t['elapsed_ms'] / 1000:6.1f} s  {what}")
PY
  report="$shm/main.json"
else
  echo "main job: skipped (the kit-made targets need root)"
  report="$shm/full.json"
fi
mkdir -p "$shm/merge"
for i in $(seq 50); do cp "$report" "$shm/merge/r$i.json"; done
t0=$(now)
build/bin/ilk merge "$shm"/merge/r*.json >/dev/null
t1=$(now)
echo "ilk merge of 50 reports ($(du -k "$report" | cut -f1) KiB each) to the merged matrix: $(secs "$t0" "$t1") s"
t0=$(now)
build/bin/ilk merge "$shm"/merge/r*.json --format json --output "$shm/merged.json" --html "$shm/merged.html" --markdown "$shm/merged.md"
t1=$(now)
echo "  and writing it as JSON ($(du -k "$shm/merged.json" | cut -f1) KiB), HTML ($(du -k "$shm/merged.html" | cut -f1) KiB) and Markdown: $(secs "$t0" "$t1") s"
