#!/usr/bin/env bash
# Ctrl-C during `ilk run`: exit 130 within seconds, a partial report, and no
# contender, segment, journal or scratch directory of the run left behind.
set -u
ilk=$1
work=$(mktemp -d /dev/shm/ilk-interrupt.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export ILK_STATE_DIR="$work/state"
fail() { echo "FAIL: $*"; exit 1; }

"$ilk" run --strategy legacy-pid --scenario concurrent-start --schedule random --trials 1000000 --target "$work" \
  --report-dir "$work/report" --format json --output "$work/report.json" -q &
pid=$!
for _ in $(seq 100); do  # wait until contenders are really running
  pgrep -f "ilk contender --zygote" >/dev/null && break
  sleep 0.05
done
sleep 1
kill -INT "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "ilk run still running 5 s after SIGINT"; }
wait "$pid"; rc=$?
[ "$rc" -eq 130 ] || fail "exit code $rc, expected 130"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["interrupted"] is True; print("partial report:", sum(len(c["scenarios"]) for t in r["targets"] for c in t["cells"]), "scenario results")' \
  "$work/report.json" || fail "no partial report with interrupted=true"
sleep 0.2
left=$(ps -eo pid,args | grep -F "$ilk contender" | grep -v grep | wc -l)
[ "$left" -eq 0 ] || fail "$left contender process(es) left"
ls "$work"/ilk-scratch-* >/dev/null 2>&1 && fail "scratch directory left in $work"
for d in "${TMPDIR:-/tmp}"/ilk-scratch-"$pid"-*; do  # the run's own scratch (named by its pid)
  [ -e "$d" ] && fail "scratch directory $d left"
done
ls "$ILK_STATE_DIR"/*.journal >/dev/null 2>&1 && fail "journal left in $ILK_STATE_DIR"
keys=$(awk 'NR > 1 { printf "%x\n", $1 }' /proc/sysvipc/shm | grep -c '^49' || true)
echo "segments with the kit's key prefix now: $keys"
echo "PASS: interrupted cleanly"
