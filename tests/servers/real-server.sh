#!/usr/bin/env bash
# server.NAME: a real server of Debian (servers/SERVER.toml) as a contender on
# tmpfs, in the scenarios of tests/servers/expected-verdicts.md, next to its
# model; every row's verdict as in the table, with its reason. Then nothing of
# it is left: no process of the server's user, no SysV segment it made, no
# socket or data directory; and a run SIGKILLed mid-trial leaves what
# `ilk clean` removes, the same way.
#
#   tests/servers/real-server.sh ILK_BUILD_DIR SERVER MODEL PROGRAM KILL_SCENARIO BUSY
#
# SERVER's rows (SERVER, SERVER+shared-port) and MODEL's are the table's rows
# that this test runs; PROGRAM is the server's binary (skipped without it);
# the run that is SIGKILLed runs KILL_SCENARIO, and is killed once a process
# of the server's user matches the regular expression BUSY (a session's
# backend, say: the moment the kit has the most to undo).
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, no PROGRAM, no ilk-server user).
set -euo pipefail

usage="usage: $0 ILK_BUILD_DIR SERVER MODEL PROGRAM KILL_SCENARIO BUSY"
build=$(cd "${1:?$usage}" && pwd)
server=${2:?$usage} model=${3:?$usage} program=${4:?$usage} kill_scenario=${5:?$usage} busy=${6:?$usage}
name=server.${server%%-[0-9]*}
skip() { echo "SKIP: $name: $*"; exit 77; }
fail() { echo "FAIL: $name: $*"; exit 1; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
ilk=$build/bin/ilk
[ "$(id -u)" -eq 0 ] || skip "needs root (the server runs as the kit's user ilk-server)"
[ -x "$program" ] || skip "$program is not installed (ci/setup.sh installs it)"
uid=$(id -u ilk-server 2>/dev/null) || skip "there is no user ilk-server (ci/setup.sh makes it)"

work=$(mktemp -d /dev/shm/ilk-server-test.XXXXXX)
chmod 755 "$work"  # the server's user must reach its data directory in there
state=$work/state
mkdir -m 700 "$state"
trap 'ILK_STATE_DIR=$state "$ilk" clean >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# What the server's user has on this machine: its processes, and the SysV
# segments it made (/proc/sysvipc/shm: cpid's owner is not listed, cuid is).
server_leftovers() {
  local procs segs
  procs=$(ps -o pid=,args= -u "$uid" 2>/dev/null || true)
  segs=$(awk -v u="$uid" 'NR > 1 && $10 == u {print "segment key " $1 " shmid " $2}' /proc/sysvipc/shm)
  printf '%s' "$procs${procs:+$'\n'}$segs"
}
[ -z "$(server_leftovers)" ] || skip "the user ilk-server already has processes or segments here (another run?): $(server_leftovers | head -3)"

# --- the table ----------------------------------------------------------------
table=$repo/tests/servers/expected-verdicts.md
rows() { awk -F' \\| ' -v s="$server" -v m="$model" '/^\| / && ($1 == "| " s || index($1, "| " s "+") == 1 || $1 == "| " m) {print $'"$1"'}' "$table" | sort -u; }
mapfile -t scenarios < <(rows 2)
args=()
for s in "${scenarios[@]}"; do args+=(--scenario "$s"); done
for s in $(rows 1 | sed 's/^| //' | grep -vx "$model"); do args+=(--strategy "$s"); done
t0=$EPOCHREALTIME
ILK_STATE_DIR=$state TMPDIR=$work "$ilk" run --target tmpfs --jobs 1 "${args[@]}" \
  --server-trials 5 -q --format json --report-dir "$work/report" --output "$work/report.json" 2>"$work/run.err" \
  || [ $? -eq 1 ] || { cat "$work/run.err"; fail "ilk run exited with an error"; }
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
result=$(python3 - "$work/report.json" "$table" "$server" "$model" <<'PY'
import json, sys
report, table, server, model = sys.argv[1:5]
ours = lambda strategy: strategy == model or strategy == server or strategy.startswith(server + "+")
expected = {}
for number, line in enumerate(open(table, encoding="utf-8"), 1):
    cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
    if not line.startswith("| ") or len(cells) != 4 or cells[0] in ("strategy", "---"):
        continue
    strategy, scenario, verdict, why = cells
    if not ours(strategy):
        continue
    if len(why) < 20:
        sys.exit(f"FAIL: {table}:{number}: the row needs its reason")
    expected[(strategy, scenario)] = (verdict, number)
(t,) = json.load(open(report))["targets"]
seen, failures = set(), []
for cell in t["cells"]:
    for s in cell["scenarios"]:
        key = (cell["strategy"], s["scenario"])
        seen.add(key)
        if key not in expected:
            failures.append(f"{key} ran but has no row in the table")
            continue
        verdict, number = expected[key]
        if s["verdict"] != verdict:
            failures.append(f"{table}:{number}: {key[0]} x {key[1]}: expected {verdict}, got {s['verdict']}: {s.get('reason') or s.get('coverage')}")
        if cell["strategy"] != model and s["verdict"] != "UNSUPPORTED" and "free-running trials of the real server" not in s.get("coverage", ""):
            failures.append(f"{key}: no rates of its free-running trials: {s.get('coverage')}")
for key in expected:
    if key not in seen:
        failures.append(f"{key} is in the table but did not run")
for f in failures:
    print("FAIL:", f)
print(f"{len(seen) - len(failures)} of {len(expected)} rows as in the table")
sys.exit(1 if failures else 0)
PY
) || fail "$result"
left=$(server_leftovers)
[ -z "$left" ] || fail "after the run, the server's user still has: $left"
[ -z "$(find "$work" -mindepth 1 -maxdepth 1 -name 'ilk-*' -print -quit)" ] || fail "the run left its scratch directory: $(ls -d "$work"/ilk-*)"

# --- SIGKILL mid-trial ---------------------------------------------------------
# The kit is killed while a server (and its session's backend, if it has one)
# runs; what they leave (processes, segments, the scratch) is the next
# clean's to remove.
# (ps into a variable first: under pipefail, grep -q leaving early would fail ps with SIGPIPE)
busy_seen() { local p; p=$(ps -o args= -u "$uid" 2>/dev/null || true); grep -qE "$busy" <<<"$p"; }
# A kill that lands as a trial ends (its server already stopped) leaves
# nothing to undo, which proves nothing: then the kit is run and killed again.
for attempt in 1 2 3; do
  ILK_STATE_DIR=$state TMPDIR=$work "$ilk" run --target tmpfs --jobs 1 --strategy "$server" --scenario "$kill_scenario" \
    --server-trials 50 -q --format json --report-dir "$work/killed" >/dev/null 2>"$work/killed.err" &
  kit=$!
  seen=no
  for _ in $(seq 1 300); do
    busy_seen && { seen=yes; break; }
    sleep 0.1
  done
  [ $seen = yes ] || { kill -9 "$kit" 2>/dev/null; fail "no process of the server's user matched '$busy' within 30 s: $(tail -3 "$work/killed.err")"; }
  kill -9 "$kit"  # the kit alone, as a crash of it would: its workers and zygote follow it, the server does not
  { wait "$kit"; } 2>/dev/null || true
  sleep 0.5
  [ -n "$(server_leftovers)" ] && break
  echo "attempt $attempt: the kit was killed when nothing of the server ran (a trial's end); again"
  ILK_STATE_DIR=$state "$ilk" clean >/dev/null 2>&1 || true
done
[ -n "$(server_leftovers)" ] || fail "in 3 attempts, nothing of the server outlived the SIGKILLed kit, so this test shows nothing (it should: the server knows nothing of the kit)"
before=$(server_leftovers | wc -l)
ILK_STATE_DIR=$state "$ilk" clean >"$work/clean.out" 2>&1 || { cat "$work/clean.out"; fail "ilk clean failed"; }
for _ in $(seq 1 50); do [ -z "$(server_leftovers)" ] && break; sleep 0.1; done
left=$(server_leftovers)
[ -z "$left" ] || fail "after ilk clean the server's user still has: $left ($(cat "$work/clean.out"))"
[ -z "$(find "$work" -mindepth 1 -maxdepth 1 -name 'ilk-*' -print -quit)" ] || fail "ilk clean left the scratch directory: $(ls -d "$work"/ilk-*)"
echo "PASS: $name: $result, in $secs s; SIGKILLed mid-trial, $before processes and segments of the server outlived the kit, ilk clean removed them"
