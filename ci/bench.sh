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
