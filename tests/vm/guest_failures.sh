#!/usr/bin/env bash
# vm.guest-failures: the guest tooling (ci/guest/image.sh, ci/guest/run.sh) on
# what goes wrong, each case ending with no QEMU left behind:
#   hang     a guest command that never ends: run.sh stops it at --timeout, exits
#            124 and names the guest
#   panic    a guest whose kernel panics: run.sh exits 125 with a message, long
#            before its timeout (panic=-1 and -no-reboot end QEMU at once)
#   no-kernel  no kernel package matches (ILK_GUEST_KERNEL_RE): image.sh fails,
#            naming the package it looked for and the fix
#   bad-deb  a truncated .deb in a private copy of the cache (ILK_GUEST_CACHE):
#            image.sh sees apt's SHA256 differ and downloads it again (or, with
#            no network, fails saying so)
#
#   tests/vm/guest_failures.sh ILK_BUILD_DIR
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, or no QEMU).
set -euo pipefail

. "$(dirname "$0")/common.sh"
vm_test_init vm.guest-failures "the image cache is /var/cache/ilk-guest and dpkg -x keeps owners" "${1:-}"

series=6.1

work=$(mktemp -d)
private_cache=""
trap 'rm -rf "$work"; [ -z "$private_cache" ] || rm -rf "$private_cache"' EXIT

failures=()
report=()
fail_case() { echo "FAIL: vm.guest-failures: $1: $2"; failures+=("$1"); }
pass_case() { echo "ok: $1: $2"; report+=("$1 $3"); }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# QEMU processes of a guest name (their -name comes first on the command line).
qemus_of() { pgrep -f "qemu-system-x86_64 -name $1( |$)" || true; }
no_qemu_left() {  # CASE NAME
  local left
  left=$(qemus_of "$2")
  if [ -n "$left" ]; then
    fail_case "$1" "QEMU still running after run.sh returned: pids $(echo $left)"
    kill -KILL $left 2>/dev/null || true   # ours (named for this test): do not leave them
    return 1
  fi
}

image=$("$repo/ci/guest/image.sh" "$series" --ilk "$build" 2>"$work/image.err") || {
  cat "$work/image.err" >&2
  echo "FAIL: vm.guest-failures: ci/guest/image.sh $series --ilk $build failed (see above)"
  exit 1
}

# --- hang: 'sleep 1000' with a 20 s limit ---------------------------------------
name=vmfail-hang-$$
t=$EPOCHREALTIME
rc=0
"$repo/ci/guest/run.sh" --image "$image" --name "$name" --timeout 20 -- 'sleep 1000' >"$work/hang.out" 2>"$work/hang.err" || rc=$?
secs=$(since "$t")
if [ "$rc" -ne 124 ]; then
  fail_case hang "run.sh exited $rc after $secs s, expected 124; its stderr:"; sed 's/^/  /' "$work/hang.err"
elif ! grep -q "guest $name timed out after 20 s" "$work/hang.err"; then
  fail_case hang "run.sh exited 124 but its message does not name guest $name:"; sed 's/^/  /' "$work/hang.err"
elif no_qemu_left hang "$name"; then
  pass_case hang "exit 124 after $secs s: $(grep -m1 'timed out' "$work/hang.err")" "${secs}s"
fi

# --- panic: sysrq 'c' crashes the kernel ---------------------------------------
name=vmfail-panic-$$
t=$EPOCHREALTIME
rc=0
"$repo/ci/guest/run.sh" --image "$image" --name "$name" --timeout 120 -- 'echo c >/proc/sysrq-trigger; sleep 1000' \
  >"$work/panic.out" 2>"$work/panic.err" || rc=$?
secs=$(since "$t")
if [ "$rc" -ne 125 ]; then
  fail_case panic "run.sh exited $rc after $secs s, expected 125; its stderr:"; sed 's/^/  /' "$work/panic.err"
elif ! grep -q "guest $name" "$work/panic.err"; then
  fail_case panic "run.sh exited 125 without a message naming guest $name:"; sed 's/^/  /' "$work/panic.err"
elif ! grep -qi "kernel panic\|sysrq" "$work/panic.err"; then
  fail_case panic "run.sh exited 125 but its console tail does not show the panic:"; sed 's/^/  /' "$work/panic.err"
elif [ "${secs%.*}" -ge 60 ]; then
  fail_case panic "run.sh took $secs s: the panic was not noticed (hang until the timeout?)"
elif no_qemu_left panic "$name"; then
  pass_case panic "exit 125 after $secs s: $(grep -m1 "guest $name" "$work/panic.err")" "${secs}s"
fi

# --- no-kernel: no package matches ----------------------------------------------
t=$EPOCHREALTIME
rc=0
ILK_GUEST_KERNEL_RE='^linux-image-6\.1\.0-999-amd64$' "$repo/ci/guest/image.sh" "$series" >"$work/nokernel.out" 2>"$work/nokernel.err" || rc=$?
secs=$(since "$t")
if [ "$rc" -eq 0 ]; then
  fail_case no-kernel "image.sh succeeded with a kernel pattern no package matches (printed $(cat "$work/nokernel.out"))"
elif ! grep -qF 'linux-image-6\.1\.0-999-amd64' "$work/nokernel.err" || ! grep -q "apt-get update" "$work/nokernel.err"; then
  fail_case no-kernel "image.sh exited $rc without naming the package and the fix (apt-get update):"; sed 's/^/  /' "$work/nokernel.err"
else
  pass_case no-kernel "exit $rc after $secs s: $(tail -n 1 "$work/nokernel.err")" "${secs}s"
fi

# --- bad-deb: a truncated .deb in a private copy of the cache ----------------------
# The cached kernel package is linked (read only here, and image.sh replaces
# rather than rewrites a file), the busybox one copied and cut to half.
real_cache=${ILK_GUEST_CACHE:-/var/cache/ilk-guest}
private_cache=$(mktemp -d /var/cache/ilk-guest-test.XXXXXX)   # root-owned 0700, as image.sh wants
mkdir -p "$private_cache/debs"
bb=""
for f in "$real_cache"/debs/*.deb; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in
    busybox-static_*) cp "$f" "$private_cache/debs/"; bb=$private_cache/debs/$(basename "$f") ;;
    linux-image-6.1.*) ln "$f" "$private_cache/debs/" 2>/dev/null || cp "$f" "$private_cache/debs/" ;;
  esac
done
if [ -z "$bb" ]; then
  fail_case bad-deb "no busybox-static .deb in $real_cache/debs to truncate (the image above should have put one there)"
else
  size=$(stat -c %s "$bb")
  truncate -s $((size / 2)) "$bb"
  t=$EPOCHREALTIME
  rc=0
  ILK_GUEST_CACHE=$private_cache "$repo/ci/guest/image.sh" "$series" >"$work/baddeb.out" 2>"$work/baddeb.err" || rc=$?
  secs=$(since "$t")
  want=$(apt-cache show "$(dpkg-deb -f "$real_cache/debs/$(basename "$bb")" Package)=$(dpkg-deb -f "$real_cache/debs/$(basename "$bb")" Version)" \
         | awk '/^SHA256:/ { print $2; exit }')
  if ! grep -q "does not match apt's SHA256" "$work/baddeb.err"; then
    fail_case bad-deb "image.sh (exit $rc) did not report the truncated $(basename "$bb"):"; sed 's/^/  /' "$work/baddeb.err"
  elif [ "$rc" -eq 0 ]; then
    shopt -s nullglob
    now=("$private_cache"/debs/busybox-static_*.deb)
    shopt -u nullglob
    if [ ${#now[@]} -ne 1 ] || [ "$(sha256sum <"${now[0]}" | cut -d' ' -f1)" != "$want" ]; then
      fail_case bad-deb "image.sh succeeded but the cache does not hold one good busybox-static .deb: ${now[*]:-none}"
    elif [ ! -f "$(tail -n 1 "$work/baddeb.out")/initrd.img" ]; then
      fail_case bad-deb "image.sh succeeded without an image: $(cat "$work/baddeb.out")"
    else
      pass_case bad-deb "repaired in $secs s (downloaded again, SHA256 matches apt's; image built): $(grep -m1 "does not match" "$work/baddeb.err")" "${secs}s"
    fi
  elif grep -q "apt-get download .* failed" "$work/baddeb.err"; then
    pass_case bad-deb "detected; the new download failed (no network?) with a clear error after $secs s: $(tail -n 1 "$work/baddeb.err")" "${secs}s"
  else
    fail_case bad-deb "image.sh exited $rc after noticing the bad .deb, without a clear reason:"; sed 's/^/  /' "$work/baddeb.err"
  fi
fi
left=$(pgrep -f "qemu-system-x86_64 -name vmfail-[a-z]+-$$"'( |$)' || true)
[ -z "$left" ] || fail_case end "QEMU of this test still running: pids $(echo $left)"

if [ ${#failures[@]} -gt 0 ]; then
  echo "FAIL: vm.guest-failures: ${failures[*]}"
  exit 1
fi
echo "PASS: vm.guest-failures: ${report[*]} (accel $(sed -n 's/^accel: //p' "$work/hang.err" | tail -n 1))"
