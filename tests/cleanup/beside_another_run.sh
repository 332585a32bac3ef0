#!/usr/bin/env bash
# cleanup.beside-another-run: the cleanup tests do not assume they run alone.
# Another `ilk run` (hugepage-tom: hugetlbfs segments, so it may raise
# vm.nr_overcommit_hugepages; tom-2004: SysV segments; kit-made ext4: a loop
# device and a mount) goes on, again and again, the whole time the cleanup
# tests run; they must pass, each checking what is its own run's (journal,
# keys, mounts below its directory, processes below it) and leaving the
# host-wide sysctl uncompared, and never rewritten, while the other run is
# seen. The other run must in turn finish with nothing of it left.
#
#   beside_another_run.sh <ilk binary> <ilk_cleanup_tests binary>
#
# Root (the other run raises the sysctl and mounts); skipped (77) without it.
set -euo pipefail
me="cleanup.beside-another-run"
fail() { echo "$me: FAIL: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || fail "usage: $0 <ilk binary> <ilk_cleanup_tests binary>"
ilk=$1 tests=$2
[[ $(id -u) -eq 0 ]] || { echo "$me: SKIP: the other run mounts and raises a sysctl: root"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ilk-beside.XXXXXX")
chmod 755 "$work"
mkdir -m 700 "$work/state"
mkdir -m 755 "$work/tmp"
other=""
stop_other() {
    [[ -n $other ]] || return 0
    kill -TERM -- "-$other" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$other" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$other" 2>/dev/null || true
    wait "$other" 2>/dev/null || true
    other=""
}
# On a failure: the other run's own journal undone (its state directory only).
trap 'stop_other; ILK_STATE_DIR=$work/state "$ilk" clean >/dev/null 2>&1 || true; rm -rf --one-file-system "$work"' EXIT
trap 'exit 130' INT TERM HUP

# The other run, in a loop, in a process group of its own (so it can be stopped
# as a whole, as a terminal's Ctrl-C would), with its own state directory.
sysctl_before=$(cat /proc/sys/vm/nr_overcommit_hugepages)
setsid bash -c '
    trap "kill -TERM \$child 2>/dev/null; wait \$child; exit 0" TERM
    n=0
    while :; do
        n=$((n + 1))
        TMPDIR=$2 ILK_STATE_DIR=$3 "$1" run --target tmpfs --target ext4 \
            --strategy hugepage-tom --strategy tom-2004 --scenario crash-orphans --scenario concurrent-stale \
            --report-dir "$4/report-$n" -q >"$4/run-$n.log" 2>&1 &
        child=$!
        wait $child || echo "run $n: exit $?" >>"$4/exits"
        echo "$n" >"$4/runs"
    done' _ "$ilk" "$work/tmp" "$work/state" "$work" &
other=$!

# Until the other run holds something: its journal exists.
for _ in $(seq 300); do
    compgen -G "$work/state/*" >/dev/null && break
    sleep 0.1
done
compgen -G "$work/state/*" >/dev/null || fail "the other run never started (no journal in $work/state): $(cat "$work"/run-*.log 2>/dev/null | head -20)"

echo "$me: the cleanup tests, beside another ilk run (pid group $other)"
rc=0
"$tests" >"$work/tests.log" 2>&1 || rc=$?
runs=$(cat "$work/runs" 2>/dev/null || echo 0)
stop_other

cat "$work/tests.log"
[[ $rc -eq 0 ]] || fail "the cleanup tests failed beside another run (exit $rc)"
notes=$(grep -c "not compared: other kits ran meanwhile" "$work/tests.log" || true)
skipped=$(grep -c "other kits are running" "$work/tests.log" || true)
[[ $((notes + skipped)) -gt 0 ]] || fail "no cleanup test saw the other run: the check proves nothing"
echo "$me: the other run ran $runs time(s) meanwhile; $notes sysctl comparison(s) left out, $skipped sysctl test(s) skipped for it"

# The other run, stopped by SIGTERM mid-run, left nothing: no journal, no
# scratch, no mount or loop device of its TMPDIR, the sysctl as it was.
[[ -z $(ls -A "$work/state") ]] || fail "the other run left journals: $(ls "$work/state")"
[[ -z $(ls -A "$work/tmp") ]] || fail "the other run left files in its TMPDIR: $(ls "$work/tmp")"
! grep -q " $work/" /proc/self/mounts || fail "a mount below $work is left: $(grep " $work/" /proc/self/mounts)"
for f in /sys/block/loop*/loop/backing_file; do
    [[ -f $f ]] || continue
    [[ $(cat "$f") != "$work"/* ]] || fail "loop device $(basename "$(dirname "$(dirname "$f")")") backs $(cat "$f")"
done
after=$(cat /proc/sys/vm/nr_overcommit_hugepages)
[[ $after == "$sysctl_before" ]] || fail "vm.nr_overcommit_hugepages is $after, was $sysctl_before"
if [[ -f $work/exits ]]; then
    fail "a run of the other loop failed: $(cat "$work/exits"); $(tail -5 "$work"/run-*.log)"
fi
echo "$me: PASS: the cleanup tests passed beside another run, and it left nothing"
