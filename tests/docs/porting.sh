#!/usr/bin/env bash
# docs.porting: every command of docs/porting.md, run in order, as a porter
# would: each ```sh block of the guide, one after another in one shell (with
# set -e: a command that fails fails the test, and names the block's line).
#
#   porting.sh <ilk source dir> <ilk build dir> [--list]
#
# The guide's two directories ($fs, $port) are put in a scratch directory of
# this test; the guide builds in build/, so this test runs only for that build
# (it rebuilds nothing there: the build is current). --list prints the script
# it would run. Root (kit-made targets, a target kind's mount); skipped
# without it. A block of another shell language (```bash, ```console, ```shell)
# is refused: the guide's commands are all in ```sh blocks, so all are run.
set -euo pipefail
me="docs.porting"
fail() { echo "$me: FAIL: $*" >&2; exit 1; }
skip() { echo "$me: SKIP: $*"; exit 77; }

[[ $# -ge 2 ]] || fail "usage: $0 <ilk source dir> <ilk build dir> [--list]"
source=$(cd "$1" && pwd -P) build=$(cd "$2" && pwd -P)
guide=$source/docs/porting.md
[[ -f $guide ]] || fail "$guide is missing"

# The guide as one script: each block preceded by the line it starts at.
script=$(awk -v guide="$guide" '
    /^```/ && in_block { in_block = 0; print ""; next }
    /^```sh[ \t]*$/ { in_block = 1; blocks++; print "block_line=" NR; next }
    /^```(bash|console|shell|shell-session|zsh)/ { printf "%s:%d: a ```%s block: write commands in ```sh blocks (they are run by docs.porting)\n", guide, NR, substr($0, 4) > "/dev/stderr"; bad = 1 }
    in_block { print }
    END { if (bad) exit 2; if (blocks == 0) { print guide ": no ```sh block" > "/dev/stderr"; exit 2 } }
' "$guide") || fail "the guide's blocks could not be read (see above)"
blocks=$(grep -c '^block_line=' <<<"$script")
if [[ ${3:-} == --list ]]; then
    printf '%s\n' "$script"
    exit 0
fi

[[ $(id -u) -eq 0 ]] || skip "the guide runs as root (kit-made targets, a plugin's mount)"
[[ $build == "$source/build" ]] || skip "the guide builds in $source/build; this build is $build"

work=$(mktemp -d "${TMPDIR:-/tmp}/ilk-porting.XXXXXX")
chmod 755 "$work"
trap 'rm -rf --one-file-system "$work"' EXIT
trap 'exit 130' INT TERM HUP

echo "$me: running the $blocks blocks of $guide"
rc=0
(
    cd "$source"
    export ILK_PORT_FS=$work/fs ILK_PORT_DIR=$work/port TMPDIR=$work
    unset ILK_PLUGIN_PATH ILK_PLATFORM_PATH ILK_STRATEGY_PATH ILK_SERVER_PATH
    bash -euo pipefail -c "trap 'echo \"$me: FAIL: the block at docs/porting.md:\$block_line failed (exit \$?)\" >&2' ERR
set -x
$script"
) >"$work/transcript.txt" 2>&1 || rc=$?
cat "$work/transcript.txt"
[[ $rc -eq 0 ]] || fail "a command of the guide failed (exit $rc): see the block named above"

# What the guide says the reader will see, seen.
t=$work/transcript.txt
grep -q "profile myos: 5 as documented, 1 deviations" "$t" || fail "the guide's profile did not give '5 as documented, 1 deviations'"
! grep -q "ilk run .*profile myos" "$t" || fail "a run of the guide took the myos profile: ILK_PLATFORM_PATH leaked past its probe"
grep -q "^probe: exit 1$" "$t" || fail "the probe with the wrong claim did not exit 1 under --fail-on-deviation"
grep -Eq '^skeleton 1\.0 \(' "$t" || fail "the out-of-tree plugin was not listed as loaded"
grep -q "replays reached UNSAFE" "$t" || fail "the counterexample replay did not reach UNSAFE"
[[ -f $work/port/matrix.html && -f $work/port/matrix.json ]] || fail "ilk merge wrote no matrix.html and matrix.json"
# The VM matrix smoke the guide ran is the suite's one (vm.matrix-smoke's checks).
bash "$source/tests/vm/matrix_smoke.sh" "$build" --check "$work/port/vm" || fail "the guide's VM matrix smoke did not pass its checks (above)"
echo "$me: PASS: $blocks blocks of the guide ran"
