# Sourced by every tests/vm script (bash):
#   . "$(dirname "$0")/common.sh"
#   vm_test_init NAME WHY_ROOT "${1:-}"
# sets build (absolute), repo and ilk; skip (exit 77) and fail (exit 1) print
# "SKIP|FAIL: NAME: ..."; without root or QEMU the test is skipped, saying why.
skip() { echo "SKIP: $test_name: $*"; exit 77; }
fail() { echo "FAIL: $test_name: $*"; exit 1; }

vm_test_init() {
  test_name=$1
  local why_root=$2
  build=${3:-}
  [ -n "$build" ] || { echo "usage: $0 ILK_BUILD_DIR (the directory with bin/ilk)" >&2; exit 2; }
  build=$(cd "$build" && pwd)
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  ilk=$build/bin/ilk
  [ "$(id -u)" -eq 0 ] || skip "needs root ($why_root)"
  command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
  command -v python3 >/dev/null || fail "python3 is missing (ci/setup.sh installs it)"
}
