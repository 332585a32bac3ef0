#!/usr/bin/env bash
# Two `ilk run`s started at the same moment on one machine, sharing its state
# directory (as two operators' runs as root share /run/ilk), the host-wide
# overcommit sysctl, its hugepage pool, its SysV key space and its loop
# devices: both finish, each with the verdicts the same run gets alone, and
# together they leave nothing - no journal, scratch directory, mount, loop
# device, SysV segment, process of the kit's, and the sysctl as before.
# Usage: two_runs.sh ILK. Root only (the kit-made targets mount): exit 77 otherwise.
# KEEP=1 keeps the runs' directory (reports, verdicts) to look at.
set -u
ilk=$1
[ "$(id -u)" = 0 ] || { echo "two-runs: skipped: needs root (the ext4 target and hugepage segments mount)"; exit 77; }
d=$(mktemp -d /dev/shm/ilk-two-runs-XXXXXX)
chmod 755 "$d"
trap 'ILK_STATE_DIR=$d/state "$ilk" clean > /dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -m 700 "$d/state"
mkdir -m 755 "$d/alone" "$d/one" "$d/two"
overcommit=/proc/sys/vm/nr_overcommit_hugepages
before_overcommit=$(cat $overcommit)
before_segments=$(awk 'NR > 1 {print $2}' /proc/sysvipc/shm | sort)
args=(run --target tmpfs --target ext4 --strategy tom-2004 --strategy hugepage-tom --strategy lifetime-flock
      --scenario crash-orphans --scenario concurrent-stale --scenario key-collision --jobs 1 -q --format json)
run() {  # NAME: a run whose TMPDIR and report are NAME's
    ILK_STATE_DIR=$d/state TMPDIR=$d/$1 "$ilk" "${args[@]}" --report-dir "$d/$1/report" > "$d/$1/out" 2> "$d/$1/err"
    echo $? > "$d/$1/rc"
}
run alone
start=$(date +%s%N)
run one & run two &
wait
echo "together: $(( ($(date +%s%N) - start) / 1000000 )) ms for both"
verdicts() {  # target/strategy/scenario verdict, one a line, from a report
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for t in r["targets"]:
    for c in t.get("cells", []):
        for s in c["scenarios"]:
            print(t["name"], c["strategy"], s["scenario"], s["verdict"])
    if t.get("unsupported"): print(t["name"], "-", "-", "not set up:", t["unsupported"])' "$1"
}
for r in alone one two; do
    [ -f "$d/$r/report/report.json" ] || { cat "$d/$r/err"; fail "run $r wrote no report (exit $(cat "$d/$r/rc"))"; }
    verdicts "$d/$r/report/report.json" > "$d/$r/verdicts"
done
[ -s "$d/alone/verdicts" ] || fail "the run alone judged nothing"
for r in one two; do
    diff "$d/alone/verdicts" "$d/$r/verdicts" > "$d/$r/diff" || { cat "$d/$r/diff"; fail "run $r, beside the other, differs from the run alone"; }
done
echo "both runs: the verdicts of the run alone ($(wc -l < "$d/alone/verdicts") cells x scenarios)"
left=""
j=$(find "$d/state" -name 'run-*.journal' | wc -l); [ "$j" = 0 ] || left+=" $j journal(s);"
s=$(find "$d/alone" "$d/one" "$d/two" -mindepth 1 -maxdepth 1 -name 'ilk-*' | wc -l); [ "$s" = 0 ] || left+=" $s scratch dir(s);"
m=$(awk -v p="$d/" 'index($2, p) == 1' /proc/self/mounts | wc -l); [ "$m" = 0 ] || left+=" $m mount(s);"
l=$(losetup -a -O BACK-FILE -n 2>/dev/null | grep -c "^$d/"); [ "$l" = 0 ] || left+=" $l loop device(s);"
new=$(comm -13 <(echo "$before_segments") <(awk 'NR > 1 {print $2}' /proc/sysvipc/shm | sort) | wc -l); [ "$new" = 0 ] || left+=" $new SysV segment(s);"
[ "$(cat $overcommit)" = "$before_overcommit" ] || left+=" vm.nr_overcommit_hugepages $(cat $overcommit), was $before_overcommit;"
p=$(for x in /proc/[0-9]*; do [ "$(readlink "$x/exe" 2>/dev/null)" = "$(readlink -f "$ilk")" ] && echo "${x#/proc/}"; done | wc -l)
[ "$p" = 0 ] || left+=" $p process(es) of the kit;"
[ -z "$left" ] || fail "left behind:$left"
echo "PASS: two runs at once, the verdicts of one alone, nothing left"
