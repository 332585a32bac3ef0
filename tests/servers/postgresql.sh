#!/usr/bin/env bash
# server.postgresql: the real PostgreSQL 15 of Debian (servers/postgresql-15.toml)
# as a contender on tmpfs, in the scenarios of tests/servers/expected-verdicts.md,
# next to its model pg-current; every row's verdict as in the table, with its
# reason. Then nothing of it is left: no process of the server's user, no SysV
# segment it made, no socket or data directory; and a run SIGKILLed mid-trial
# leaves what `ilk clean` removes, the same way.
#
#   tests/servers/postgresql.sh ILK_BUILD_DIR
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, no postgresql-15, no ilk-server user).
set -euo pipefail

name=server.postgresql
skip() { echo "SKIP: $name: $*"; exit 77; }
fail() { echo "FAIL: $name: $*"; exit 1; }
build=$(cd "${1:?usage: $0 ILK_BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
ilk=$build/bin/ilk
[ "$(id -u)" -eq 0 ] || skip "needs root (the server runs as the kit's user ilk-server)"
[ -x /usr/lib/postgresql/15/bin/postgres ] || skip "postgresql-15 is not installed (ci/setup.sh installs it)"
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
mapfile -t scenarios < <(awk -F' \\| ' '/^\| (postgresql-15|pg-current)/ {print $2}' "$table" | sort -u)
args=()
for s in "${scenarios[@]}"; do args+=(--scenario "$s"); done
t0=$EPOCHREALTIME
ILK_STATE_DIR=$state TMPDIR=$work "$ilk" run --target tmpfs --jobs 1 --strategy postgresql-15 --strategy postgresql-15+shared-port \
  "${args[@]}" --server-trials 5 -q --format json --report-dir "$work/report" --output "$work/report.json" 2>"$work/run.err" \
  || [ $? -eq 1 ] || { cat "$work/run.err"; fail "ilk run exited with an error"; }
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
result=$(python3 - "$work/report.json" "$table" <<'PY'
import json, sys
report, table = sys.argv[1], sys.argv[2]
expected = {}
for number, line in enumerate(open(table, encoding="utf-8"), 1):
    cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
    if not line.startswith("| ") or len(cells) != 4 or cells[0] in ("strategy", "---"):
        continue
    strategy, scenario, verdict, why = cells
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
        if cell["strategy"].startswith("postgresql-15") and s["verdict"] != "UNSUPPORTED" and "free-running trials of the real server" not in s.get("coverage", ""):
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
# The kit is killed while a server and its session's backend run; what they
# leave (processes, the segment, the scratch) is the next clean's to remove.
ILK_STATE_DIR=$state TMPDIR=$work "$ilk" run --target tmpfs --jobs 1 --strategy postgresql-15 --scenario crash-orphans \
  --server-trials 50 -q --format json --report-dir "$work/killed" >/dev/null 2>"$work/killed.err" &
kit=$!
# (ps into a variable first: under pipefail, grep -q leaving early would fail ps with SIGPIPE)
session_seen() { local p; p=$(ps -o args= -u "$uid" 2>/dev/null || true); grep -q 'COPY\|sleep 0.2' <<<"$p"; }
seen=no
for _ in $(seq 1 300); do
  session_seen && { seen=yes; break; }
  sleep 0.1
done
[ $seen = yes ] || { kill -9 "$kit" 2>/dev/null; fail "no session of the server appeared within 30 s: $(tail -3 "$work/killed.err")"; }
kill -9 "$kit"  # the kit alone, as a crash of it would: its workers and zygote follow it, the server does not
{ wait "$kit"; } 2>/dev/null || true
sleep 0.5
[ -n "$(server_leftovers)" ] || fail "nothing of the server outlived the SIGKILLed kit, so this test shows nothing (it should: the server knows nothing of the kit)"
before=$(server_leftovers | wc -l)
ILK_STATE_DIR=$state "$ilk" clean >"$work/clean.out" 2>&1 || { cat "$work/clean.out"; fail "ilk clean failed"; }
for _ in $(seq 1 50); do [ -z "$(server_leftovers)" ] && break; sleep 0.1; done
left=$(server_leftovers)
[ -z "$left" ] || fail "after ilk clean the server's user still has: $left ($(cat "$work/clean.out"))"
[ -z "$(find "$work" -mindepth 1 -maxdepth 1 -name 'ilk-*' -print -quit)" ] || fail "ilk clean left the scratch directory: $(ls -d "$work"/ilk-*)"
echo "PASS: $name: $result, in $secs s; SIGKILLed mid-trial, $before processes and segments of the server outlived the kit, ilk clean removed them"
