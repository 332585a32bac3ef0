#!/usr/bin/env bash
# vm.nfs-scenarios: `ilk run --guest IMAGE --nfs nfs4.2 --nfs nfs3-nolock`
# with the nfs-cross-client scenario: server A on client A, starters on client
# B, the data directories on the export. The verdicts that follow from the
# kit's own design, each with its reason (below), must come out; each variant
# of nfs-server-restart on nfs3 is judged, around one restart for both
# strategies; a network
# scenario asked of a local target is UNSUPPORTED with the way to run it; a
# counterexample found across the clients replays in a lab of its own; and
# nothing of the labs is left.
#
#   tests/vm/nfs_scenarios.sh ILK_BUILD_DIR
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, or no QEMU).
set -euo pipefail

. "$(dirname "$0")/common.sh"
vm_test_init vm.nfs-scenarios "the guest image cache, QEMU guests" "${1:-}"

work=$(mktemp -d /dev/shm/ilk-nfs-scenarios.XXXXXX)
trap 'rm -rf "$work"' EXIT
qemus() { pgrep -f "qemu-system-x86_64 -name nfs-.*$work" || true; }

image=$("$repo/ci/guest/image.sh" 6.1 --ilk "$build" 2>"$work/image.err") || { cat "$work/image.err"; fail "ci/guest/image.sh 6.1 --ilk $build failed"; }

# 1. A network scenario on a local target: UNSUPPORTED, saying how to run it.
rc=0
TMPDIR=$work "$ilk" run --target tmpfs --strategy lifetime-flock --scenario nfs-cross-client --no-probe -q --format json \
  --report-dir "$work/local" --output "$work/local.json" 2>"$work/local.err" || rc=$?
python3 - "$work/local.json" <<'PY' || fail "nfs-cross-client on tmpfs (exit $rc): $(cat "$work/local.err")"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["targets"][0]["cells"][0]["scenarios"][0]
assert s["verdict"] == "UNSUPPORTED" and "--nfs NAME" in s["reason"], s
PY

# 2. The lab: each expected verdict, with its reason.
t0=$EPOCHREALTIME
TMPDIR=$work "$ilk" run --guest "$image" --nfs nfs4.2 --nfs nfs3-nolock --strategy lifetime-flock --strategy legacy-pid \
  --scenario nfs-cross-client -q --format json --report-dir "$work/report" --output "$work/report.json" 2>"$work/run.err" \
  || { cat "$work/run.err"; fail "ilk run --nfs exited non-zero"; }
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
summary=$(python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def fail(m): print("FAIL: " + m); sys.exit(1)
expected = {
    # flock on NFS is a POSIX lock held by the server (nfs(5), flock(2)): the clients exclude each other.
    ("nfs4.2", "lifetime-flock"): ("SAFE", None),
    # nolock: each client grants its own locks (nfs(5)): B's lock never meets A's.
    ("nfs3-nolock", "lifetime-flock"): ("UNSAFE", "'lock postmaster.pid (flock, no wait)' (locked)"),
    # B's kill(pid, 0) on client B asks its own PID space about A's PID on client A: ESRCH,
    # so B takes the pidfile as stale and runs beside A.
    ("nfs4.2", "legacy-pid"): ("UNSAFE", "kill(pid, 0)' (ESRCH)"),
    ("nfs3-nolock", "legacy-pid"): ("UNSAFE", "kill(pid, 0)' (ESRCH)"),
}
targets = {t["name"]: t for t in r["targets"]}
if sorted(targets) != ["nfs3-nolock", "nfs4.2"]: fail(f"targets {sorted(targets)}")
if [s["name"] for s in r["scenarios"]] != ["nfs-cross-client"]: fail(f"scenarios {r['scenarios']}")
out = []
for (mount, strategy), (verdict, words) in expected.items():
    t = targets[mount]
    if t.get("unsupported"): fail(f"{mount} not run: {t['unsupported']}")
    if t["kind"] != "network" or t["info"]["server"]["implementation"] != "kernel-nfsd": fail(f"{mount}: {t['kind']} {t['info']}")
    cell = next(c for c in t["cells"] if c["strategy"] == strategy)
    s = cell["scenarios"][0]
    if s["verdict"] != verdict: fail(f"{strategy} on {mount}: {s['verdict']}, expected {verdict}: {s.get('reason')}")
    if words and words not in s.get("reason", ""): fail(f"{strategy} on {mount}: the reason lacks {words!r}: {s.get('reason')}")
    if verdict == "UNSAFE":
        cx = json.load(open(s["counterexample"] if s["counterexample"].startswith("/") else sys.argv[1].rsplit("/", 1)[0] + "/report/" + s["counterexample"]))
        if "A" not in cx["transcript"] or "B" not in cx["transcript"]: fail(f"{strategy} on {mount}: counterexample without A and B")
    out.append(f"{strategy} on {mount} {verdict}")
print("; ".join(out))
PY
) || fail "$summary"
[ -z "$(qemus)" ] || fail "a QEMU of the lab is still running: $(qemus)"

# 2b. Each variant judged, the trials of both strategies around one restart
# per variant. NLM clients reclaim their locks after a server restart only
# when sm-notify tells them (statd(8), sm-notify(8)): with the notification
# the lock stays A's; without it the restarted server holds no lock, grants
# B's, and A's client, never told, goes on reading and writing.
TMPDIR=$work "$ilk" run --guest "$image" --nfs nfs3 --strategy lifetime-flock --strategy legacy-pid --scenario nfs-server-restart \
  --format json --report-dir "$work/restart" --output "$work/restart.json" 2>"$work/restart.err" \
  || { cat "$work/restart.err"; fail "ilk run --nfs nfs3 --scenario nfs-server-restart exited non-zero"; }
for v in notify no-notify; do
  grep -q "^nfs3: nfs-server-restart ($v): 2 strategies around one lab event$" "$work/restart.err" \
    || { cat "$work/restart.err"; fail "variant $v did not run both strategies around one restart"; }
done
restart=$(python3 - "$work/restart.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def fail(m): print("FAIL: " + m); sys.exit(1)
cells = {c["strategy"]: c["scenarios"][0] for c in r["targets"][0]["cells"]}
s = cells["lifetime-flock"]
got = [(v["variant"], v["verdict"], v.get("never_told", False)) for v in s.get("variants", [])]
if got != [("notify", "SAFE", False), ("no-notify", "UNSAFE", True)]: fail(f"lifetime-flock on nfs3 per variant: {got}: {s.get('reason')}")
if s["counterexample"] is None or "no-notify" not in s["counterexample"]: fail(f"no counterexample of no-notify: {s['counterexample']}")
# kill(pid, 0) across clients, whatever the restart did.
got = [(v["variant"], v["verdict"]) for v in cells["legacy-pid"].get("variants", [])]
if got != [("notify", "UNSAFE"), ("no-notify", "UNSAFE")]: fail(f"legacy-pid on nfs3 per variant: {got}")
print("lifetime-flock on nfs3 under a server restart: SAFE with sm-notify, UNSAFE and never told without")
PY
) || fail "$restart"
[ -z "$(qemus)" ] || fail "a QEMU of the lab is still running: $(qemus)"

# 3. ilk replay of a counterexample found across the clients: refused without
# a lab (exit 2, saying how), replayed to the same verdict in one.
cx=$work/report/counterexamples/nfs4.2/legacy-pid--nfs-cross-client--running.json
[ -s "$cx" ] || fail "no counterexample $cx"
grep -q '"network_mount": "nfs4.2"' "$cx" || fail "the counterexample does not name its network mount"
rc=0; "$ilk" replay "$cx" >"$work/replay-nolab.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "replay it in an NFS lab with --guest IMAGE" "$work/replay-nolab.out" \
  || { cat "$work/replay-nolab.out"; fail "replay without --guest: exit $rc"; }
TMPDIR=$work "$ilk" replay "$cx" --guest "$image" >"$work/replay.out" 2>&1 || { cat "$work/replay.out"; fail "ilk replay --guest failed"; }
grep -q "^1 of 1 replays reached UNSAFE" "$work/replay.out" || { cat "$work/replay.out"; fail "the replay did not reach UNSAFE"; }
[ -z "$(qemus)" ] || fail "a QEMU of the replay's lab is still running: $(qemus)"

TMPDIR=$work "$ilk" clean >"$work/clean.out" 2>&1 || { cat "$work/clean.out"; fail "ilk clean failed"; }
left=$(find "$work" -mindepth 1 -maxdepth 1 ! -name '*.json' ! -name '*.err' ! -name '*.out' ! -name report ! -name local ! -name restart | head -n 5)
[ -z "$left" ] || fail "left behind in TMPDIR: $left"
echo "PASS: vm.nfs-scenarios: lab and cells in $secs s; $summary; $restart; the legacy-pid counterexample replayed in a lab"
