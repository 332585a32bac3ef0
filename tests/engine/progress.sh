#!/usr/bin/env bash
# Progress while `ilk run` works: a bar with the cell in flight and an ETA on
# a terminal (a pseudo-terminal from script(1)), one plain line per finished
# cell when stderr is not a terminal, and nothing with --quiet.
set -u
ilk=$1
work=$(mktemp -d /dev/shm/ilk-progress.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export ILK_STATE_DIR="$work/state"
fail() { echo "FAIL: $*"; exit 1; }
args=(run --target "$work" --strategy lifetime-flock --strategy tom-2004 --scenario clean-restart --scenario concurrent-stale
      --report-dir "$work/report" --format json --output "$work/out.json")

"$ilk" "${args[@]}" 2>"$work/plain.err" || fail "ilk run failed"
grep -Eq '^\[  [12]/2\] .*lifetime-flock +SAFE' "$work/plain.err" || { cat "$work/plain.err"; fail "no plain line for the SAFE cell"; }
grep -Eq '^\[  [12]/2\] .*tom-2004 +UNSAFE +concurrent-stale' "$work/plain.err" || { cat "$work/plain.err"; fail "no plain line for the UNSAFE cell"; }
grep -q $'\r' "$work/plain.err" && fail "a bar was drawn on a non-terminal"

"$ilk" "${args[@]}" -q 2>"$work/quiet.err" || fail "ilk run -q failed"
[ -s "$work/quiet.err" ] && { cat "$work/quiet.err"; fail "--quiet still printed progress"; }

if command -v script >/dev/null; then
  cmd=$(printf '%q ' "$ilk" "${args[@]}")
  script -qec "$cmd" "$work/tty.log" >/dev/null 2>&1 || fail "ilk run on a terminal failed"
  grep -aq 'ETA' "$work/tty.log" || { cat -v "$work/tty.log" | head -20; fail "no bar with an ETA on a terminal"; }
  grep -aEq '\[#*\.*\] +[0-9]+/2 ETA [^ ]+ [^:]+: (lifetime-flock|tom-2004|probe)' "$work/tty.log" \
    || { cat -v "$work/tty.log" | head -20; fail "the bar does not name the cell in flight"; }
fi
echo "PASS: progress shown as asked"
