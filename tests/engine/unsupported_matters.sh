#!/usr/bin/env bash
# Without root the scenarios that stage PID reuse cannot run. A strategy that
# never reads a PID is still SAFE over the rest (pid-reuse UNSUPPORTED with
# matters: false, the reason saying why); one that reads PIDs is UNSUPPORTED.
# Runs ilk as a dedicated non-root uid; needs root to switch to it.
set -u
ilk=$1
uid=2147483601
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run ilk as the non-root uid $uid"; exit 77; }
setpriv --reuid=$uid --regid=$uid --clear-groups test -x "$ilk" ||
  { echo "SKIP: $ilk is not executable by uid $uid (a build directory others cannot enter)"; exit 77; }
work=$(mktemp -d /dev/shm/ilk-matters.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/target"
chown $uid:$uid "$work" "$work/target"
fail() { echo "FAIL: $*"; exit 1; }

setpriv --reuid=$uid --regid=$uid --clear-groups env HOME="$work" TMPDIR="$work" ILK_STATE_DIR="$work/state" \
  "$ilk" run --strategy lifetime-flock --strategy legacy-pid --scenario clean-restart --scenario pid-reuse \
  --target "$work/target" --report-dir "$work/report" --no-probe -q --format json --output "$work/out.json" || fail "ilk run exited $?"
python3 - "$work/report/report.json" <<'PY' || exit 1
import json, sys
cells = {c["strategy"]: c for c in json.load(open(sys.argv[1]))["targets"][0]["cells"]}
def scenario(cell, name):
    return next(s for s in cell["scenarios"] if s["scenario"] == name)
flock, legacy = cells["lifetime-flock"], cells["legacy-pid"]
reuse = scenario(flock, "pid-reuse")
assert reuse["verdict"] == "UNSUPPORTED" and reuse["matters"] is False, reuse
assert "lifetime-lock never reads a PID" in reuse["reason"], reuse["reason"]
assert flock["verdict"] == "SAFE", flock
assert scenario(legacy, "pid-reuse")["matters"] is True
assert legacy["verdict"] == "UNSUPPORTED" and legacy["deciding_scenario"] == "pid-reuse", legacy
print("PASS: lifetime-flock SAFE (pid-reuse does not matter), legacy-pid UNSUPPORTED (it does)")
PY
