#!/usr/bin/env bash
# vm.guest-probe: `ilk probe --guest IMAGE` boots a guest with `ilk agent` on a
# virtio-serial port, shares the target with it over 9p and measures the facts
# across the two hosts (hosts.*), then ends the guest. Also: a guest that dies
# while booting (its initramfs cut short) costs only those facts, named, and
# nothing of either guest is left (no QEMU, no socket, no run directory).
#
#   tests/vm/guest_probe.sh ILK_BUILD_DIR
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, or no QEMU).
set -euo pipefail

. "$(dirname "$0")/common.sh"
vm_test_init vm.guest-probe "QEMU's 9p share of a kit directory, the image cache" "${1:-}"

work=$(mktemp -d /dev/shm/ilk-guest-probe.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir "$work/target" "$work/broken"

qemus() { pgrep -f "qemu-system-x86_64 -name guest .*$work" || true; }

image=$("$repo/ci/guest/image.sh" 6.1 --ilk "$build" 2>"$work/image.err") || { cat "$work/image.err"; fail "ci/guest/image.sh 6.1 --ilk $build failed"; }
kernel=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kernel_release"])' "$image/manifest.json")

# 1. A guest that comes up: every lock primitive's cross-host facts measured, by both hosts' acts.
t0=$EPOCHREALTIME
TMPDIR=$work "$ilk" probe --target "$work/target" --guest "$image" --format json --output "$work/probe.json" 2>"$work/probe.err" \
  || { cat "$work/probe.err"; fail "ilk probe --guest exited non-zero"; }
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
summary=$(python3 - "$work/probe.json" "$kernel" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
g = r["target"].get("guest", {})
def fail(m): print("FAIL: " + m); sys.exit(1)
if g.get("kernel") != sys.argv[2]: fail(f"the guest's agent said kernel {g.get('kernel')!r}, the image is {sys.argv[2]!r}: {g}")
if g.get("accel") not in ("kvm", "tcg"): fail(f"no accelerator named: {g}")
locks = [p["name"] for p in r["primitives"] if p["kind"] == "lock" and p["supported"]]
if not locks: fail("no lock primitive was supported on the target")
out = []
for p in locks:
    f = r["facts"].get(f"hosts.locks.{p}.excludes_other_host")
    if not f or not f.get("measured"): fail(f"hosts.locks.{p}.excludes_other_host not measured: {f}")
    who = {s.get("who", "") for s in f["evidence"].get("steps", [])}
    if not any(w.startswith("A") for w in who) or not any("guest" in w for w in who):
        fail(f"hosts.locks.{p}.excludes_other_host has no act of both hosts: {who}")
    out.append(f"{p}={'yes' if f['value'] else 'no'}")
k = r["facts"].get("hosts.process.kill0_sees_other_host", {})
if not k.get("measured"): fail(f"hosts.process.kill0_sees_other_host not measured: {k}")
print(f"accel {g['accel']}, excludes the other host over 9p: " + ", ".join(out))
PY
) || fail "$summary"
[ -z "$(qemus)" ] || fail "a QEMU of the guest is still running: $(qemus)"

# 2. A guest that dies while booting: its initramfs cut short, the kernel panics.
cp "$image/vmlinuz" "$image/manifest.json" "$work/broken/"
head -c 100000 "$image/initrd.img" >"$work/broken/initrd.img"
rc=0
TMPDIR=$work "$ilk" probe --target "$work/target" --guest "$work/broken" --format json --output "$work/broken.json" \
  2>"$work/broken.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$work/broken.err"; fail "a dead guest made ilk probe exit $rc (its local facts stand; the cross-host ones are unmeasured)"; }
grep -q "guest guest .*did not start its agent" "$work/broken.err" || { cat "$work/broken.err"; fail "the dead guest is not named in the error"; }
python3 - "$work/broken.json" <<'PY' || fail "the dead guest's facts are not unmeasured with the reason"
import json, sys
r = json.load(open(sys.argv[1]))
f = r["facts"]["hosts.locks.flock.excludes_other_host"]
assert not f["measured"] and "did not come up" in f["reason"], f
assert "error" in r["target"]["guest"], r["target"]["guest"]
assert len([k for k in r["facts"] if not k.startswith("hosts.")]) > 10, "the local facts are gone"
PY
[ -z "$(qemus)" ] || fail "the dead guest's QEMU is still running: $(qemus)"

# 3. The kit SIGKILLed while its guest runs: the guest dies with it, and
# `ilk clean` removes the rest of the run (its journal names the QEMU process).
TMPDIR=$work "$ilk" probe --target "$work/target" --guest "$image" --format json --output "$work/killed.json" 2>"$work/killed.err" &
probe=$!
for _ in $(seq 300); do [ -n "$(qemus)" ] && break; sleep 0.1; done
[ -n "$(qemus)" ] || { kill -9 "$probe"; fail "no QEMU appeared for the probe to be killed"; }
sleep 2
kill -9 "$probe"
wait "$probe" 2>/dev/null || true  # (bash reports the kill)
for _ in $(seq 50); do [ -z "$(qemus)" ] && break; sleep 0.1; done
[ -z "$(qemus)" ] || fail "the guest outlived the SIGKILLed kit: $(qemus)"
TMPDIR=$work "$ilk" clean >"$work/clean.out" 2>&1 || { cat "$work/clean.out"; fail "ilk clean failed"; }
rm -f "$work/killed.json"

# Nothing of the runs left: their journal scratch (run directory, socket) is gone.
left=$(find "$work" -mindepth 1 -maxdepth 1 ! -name target ! -name broken ! -name '*.json' ! -name '*.err' ! -name '*.out' | head -n 5)
[ -z "$left" ] || fail "left behind in TMPDIR: $left"
[ -z "$(ls -A "$work/target")" ] || fail "left behind in the target: $(ls -A "$work/target")"
echo "PASS: vm.guest-probe: kernel $kernel, probe with the guest in $secs s, $summary; a guest that died was named, one whose kit was SIGKILLed died with it, and nothing was left"
