#!/usr/bin/env bash
# vm.boot-smoke: build the 6.1 guest image with this build's ilk, boot it, run
# `ilk probe` inside and check the result on the host. Proves the VM tooling
# (ci/guest/image.sh, ci/guest/run.sh) and that ilk runs in a guest as it does
# on the host (same paths, plugins found beside the binary).
#
#   tests/vm/boot_smoke.sh ILK_BUILD_DIR
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, or no QEMU).
set -euo pipefail

. "$(dirname "$0")/common.sh"
vm_test_init vm.boot-smoke "the image cache is /var/cache/ilk-guest and dpkg -x keeps owners" "${1:-}"

series=6.1

share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT

# now: seconds since the epoch with decimals, for durations.
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

t=$(now)
image=$("$repo/ci/guest/image.sh" "$series" --ilk "$build" 2>"$share/image.err") || {
  cat "$share/image.err" >&2
  fail "ci/guest/image.sh $series --ilk $build failed (see above)"
}
cat "$share/image.err" >&2
image_s=$(since "$t")
cache_state=built
grep -q 'cache hit' "$share/image.err" && cache_state="cache hit"

# The guest writes probe.json into the share (/shared); /tmp/t is on the
# guest's tmpfs.
guest_cmd='mkdir -p /tmp/t; uname -r; ilk --version; ilk probe --target /tmp/t --format json --output /shared/probe.json'
t=$(now)
rc=0
"$repo/ci/guest/run.sh" --image "$image" --share "$share" --name boot-smoke --timeout 300 -- "$guest_cmd" \
  >"$share/run.out" 2>"$share/run.err" || rc=$?
boot_s=$(since "$t")
cat "$share/run.out"
cat "$share/run.err" >&2
accel=$(sed -n 's/^accel: //p' "$share/run.err" | tail -n 1)
if [ "$rc" -ne 0 ]; then
  echo "--- guest console (last 30 lines):"
  tail -n 30 "$share/console.log" 2>/dev/null | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//' || true
  fail "guest command exited $rc after $boot_s s (accel ${accel:-?}); its stdout/stderr are above"
fi

# Host-side checks: the kernel that ran is the one the manifest names, ilk's
# version is this build's, and probe.json is a probe report with facts measured
# on that kernel with every plugin loaded.
python3 - "$image/manifest.json" "$share/out" "$share/probe.json" <<'PY' || exit 1
import json, sys
manifest_path, out_path, probe_path = sys.argv[1:]
def fail(msg):
    print(f"FAIL: vm.boot-smoke: {msg}")
    sys.exit(1)
manifest = json.load(open(manifest_path))
lines = open(out_path).read().splitlines()
if len(lines) < 2:
    fail(f"guest printed {len(lines)} line(s), expected uname -r and ilk --version: {lines}")
release = manifest["kernel_release"]
if lines[0] != release:
    fail(f"guest kernel {lines[0]!r} is not the manifest's {release!r}")
want_version = manifest.get("ilk", {}).get("version")
if lines[1] != want_version:
    fail(f"ilk --version in the guest says {lines[1]!r}, the host build {want_version!r}")
try:
    probe = json.load(open(probe_path))
except (OSError, ValueError) as e:
    fail(f"probe.json from the guest does not parse: {e}")
facts = probe.get("facts")
if not isinstance(facts, dict) or not facts:
    fail(f"probe.json has no facts (keys: {sorted(probe)})")
if probe.get("host", {}).get("kernel") != release:
    fail(f"probe.json was made on kernel {probe.get('host', {}).get('kernel')!r}, not the guest's {release!r}")
if probe.get("plugin_load_failures"):
    fail(f"plugins failed to load in the guest: {probe['plugin_load_failures']}")
measured = sum(1 for f in facts.values() if isinstance(f, dict) and f.get("measured"))
outcomes = {}
for c in (probe.get("profile") or {}).get("comparisons", []):
    outcomes[c.get("outcome")] = outcomes.get(c.get("outcome"), 0) + 1
summary = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "no profile"
print(f"checks: kernel {release}, ilk {lines[1]}, {len(facts)} facts ({measured} measured), "
      f"{len(probe.get('primitives', []))} primitives, profile: {summary}")
PY

init_at=$(sed -n 's/.*ilk-guest: init at \([0-9.]*\) s.*/\1/p' "$share/console.log" | head -n 1)
echo "PASS: vm.boot-smoke: $series guest booted and ran ilk probe; boot-to-exit ${boot_s} s (guest init at ${init_at:-?} s of uptime), accel ${accel:-?}; image ${image_s} s ($cache_state), $(du -h "$image/initrd.img" | cut -f1) initrd"
