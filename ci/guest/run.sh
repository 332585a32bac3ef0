#!/usr/bin/env bash
# Boot an image from ci/guest/image.sh, run one shell command in it and exit
# with that command's exit code.
#
#   ci/guest/run.sh --image DIR [--share DIR] [--timeout SECONDS] [--mem MB]
#                   [--name NAME] -- 'shell command'
#
# The command is written to SHARE/cmd; the guest mounts SHARE at /shared (9p)
# and leaves its stdout/stderr in SHARE/out and SHARE/err (printed here too),
# its exit code in SHARE/rc and the serial console in SHARE/console.log.
# Without --share a private temporary share is used and removed.
#
# Exit code: the guest command's (0-254); 124 when the guest timed out
# (default 120 s); 125 when the guest or QEMU failed before reporting one.
# Accelerator: KVM if /dev/kvm boots this image within a few seconds, else TCG.
# ILK_GUEST_ACCEL=tcg|kvm skips that probe.
set -euo pipefail

prog=run.sh
die() { echo "$prog: $*" >&2; exit 125; }

image="" share="" timeout=120 mem=256 name=guest
while [ $# -gt 0 ]; do
  case "$1" in
    --image|--share|--timeout|--mem|--name)
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --image) image=$2 ;; --share) share=$2 ;; --timeout) timeout=$2 ;;
        --mem) mem=$2 ;; --name) name=$2 ;;
      esac
      shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) die "unknown argument '$1' (the guest command goes after --)" ;;
  esac
done
[ $# -eq 1 ] || die "give the guest command as one argument after --, e.g. -- 'uname -r'"
cmd=$1
[ -n "$image" ] || die "--image DIR is required (print one with ci/guest/image.sh 6.1)"
[ -f "$image/vmlinuz" ] && [ -f "$image/initrd.img" ] || die "$image has no vmlinuz/initrd.img; build it with ci/guest/image.sh"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout wants whole seconds (got '$timeout')"
[[ $mem =~ ^[1-9][0-9]*$ ]] || die "--mem wants megabytes (got '$mem')"
[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "--name wants letters, digits, . _ - (got '$name'): QEMU splits -name at commas"
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not found; apt-get install qemu-system-x86"
command -v timeout >/dev/null || die "'timeout' not found; apt-get install coreutils"

# --- cleanup: whatever this script made, and any QEMU it started ------------
run_tmp=$(mktemp -d)        # private scratch (QEMU logs of the KVM probe)
own_share=""
qemu_pid=""                 # the `timeout` wrapping QEMU: TERM reaches QEMU through it
cleanup() {
  if [ -n "$qemu_pid" ]; then
    kill -TERM "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf "$run_tmp"
  [ -z "$own_share" ] || rm -rf "$own_share"
}
trap cleanup EXIT
trap 'echo "$prog: interrupted, stopping guest $name" >&2; exit 130' INT
trap 'exit 143' TERM HUP

if [ -z "$share" ]; then
  share=$(mktemp -d) own_share=$share
fi
mkdir -p "$share"
share=$(realpath "$share")
# QEMU splits -virtfs options at commas.
case "$share" in *,*) die "share path '$share' contains a comma, which QEMU's -virtfs cannot take; use another directory" ;; esac
rm -f "$share"/{cmd,out,err,rc,console.log,qemu.log}   # these are replaced: no stale results
printf '%s\n' "$cmd" >"$share/cmd"

# shellcheck disable=SC2054  # the commas are QEMU option syntax
base_args=(-m "${mem}M" -smp 1 -nographic -no-reboot -monitor none -nic none
           -kernel "$image/vmlinuz" -initrd "$image/initrd.img"
           -device isa-debug-exit,iobase=0xf4,iosize=0x04)
append='console=ttyS0 quiet panic=-1'

# boot SECONDS LOG ARGS...: QEMU under a hard timeout, in the background so a
# signal to this script is handled at once. Sets qrc.
boot() {
  local secs=$1 log=$2; shift 2
  timeout -k 5 "$secs" "$qemu" -name "$name" "$@" </dev/null >"$log" 2>&1 &
  qemu_pid=$!
  qrc=0
  wait "$qemu_pid" || qrc=$?
  qemu_pid=""
}

# --- accelerator -------------------------------------------------------------
# This machine's /dev/kvm may be a nested device on which stock kernels abort
# ("failed to set MSR 0x10a") or hang after "Probing EDD": boot the image with
# ilk.probe=1 (its init exits at once) and use KVM only if that reports rc 0.
probe_secs=${ILK_GUEST_KVM_PROBE_TIMEOUT:-6}
accel=${ILK_GUEST_ACCEL:-auto}
case "$accel" in
  auto)
    accel=tcg
    if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
      boot "$probe_secs" "$run_tmp/probe.log" -accel kvm -cpu host "${base_args[@]}" \
        -serial "file:$run_tmp/probe.console" -append "$append ilk.probe=1"
      if [ "$qrc" -eq 3 ]; then
        accel=kvm
      else
        why=$(grep -m1 -i -e error -e fail "$run_tmp/probe.log" || true)
        [ "$qrc" -ne 124 ] || why="no answer within $probe_secs s"
        echo "$prog: /dev/kvm did not boot the image (${why:-QEMU exit $qrc}); using TCG" >&2
      fi
    fi ;;
  tcg|kvm) ;;
  *) die "ILK_GUEST_ACCEL must be auto, tcg or kvm (got '$accel')" ;;
esac
if [ "$accel" = kvm ]; then
  accel_args=(-accel kvm -cpu host)
else
  # shellcheck disable=SC2054
  accel_args=(-accel tcg,thread=multi -cpu max)
fi
echo "accel: $accel" >&2

# --- the run -----------------------------------------------------------------
start=$EPOCHREALTIME
boot "$timeout" "$share/qemu.log" "${accel_args[@]}" "${base_args[@]}" \
  -serial "file:$share/console.log" -append "$append" \
  -virtfs "local,path=$share,mount_tag=shared,security_model=none"
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

show_console() {  # the tail of the serial log, without SeaBIOS's terminal escapes
  local where="$share/console.log"
  [ -z "$own_share" ] || where="the console (temporary share, removed on exit)"
  echo "--- last lines of $where:" >&2
  tail -n 20 "$share/console.log" 2>/dev/null | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//' >&2 || true
}
# The guest's own output, as if the command had run here.
[ ! -f "$share/out" ] || cat "$share/out"
[ ! -f "$share/err" ] || cat "$share/err" >&2

if [ "$qrc" -eq 124 ] || { [ "$qrc" -eq 137 ] && [ "${elapsed%.*}" -ge "$timeout" ]; }; then
  echo "$prog: guest $name timed out after $timeout s" >&2
  show_console
  exit 124
fi
# isa-debug-exit: QEMU exits with ((rc+1)<<1)|1, so any odd code >= 3.
if [ $((qrc & 1)) -eq 1 ] && [ "$qrc" -ge 3 ]; then
  rc=$(( (qrc >> 1) - 1 ))
  # The port carries 7 bits: the guest caps at 126 and writes the exact code to rc.
  if [ "$rc" -eq 126 ] && [[ $(cat "$share/rc" 2>/dev/null) =~ ^[0-9]+$ ]]; then rc=$(<"$share/rc"); fi
  echo "$prog: guest $name exited $rc after $elapsed s (accel $accel)" >&2
  exit "$rc"
fi
if [ "$qrc" -eq 0 ]; then
  echo "$prog: guest $name stopped without reporting an exit code after $elapsed s (init died or the kernel panicked)" >&2
else
  echo "$prog: QEMU failed for guest $name (exit $qrc) after $elapsed s:" >&2
  sed 's/^/  /' "$share/qemu.log" >&2 || true
fi
show_console
exit 125
