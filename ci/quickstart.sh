#!/usr/bin/env bash
# The README's Quick start. On a fresh Debian 12 machine (as root):
#   ci/quickstart.sh run    install what is missing, build, run the main job
#   ci/quickstart.sh test   install what is missing, build, run the whole test suite
# Options after the verb: --sanitize (ASan+UBSan build in build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."

verb=${1:-}
shift || true
build=build
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
for arg in "$@"; do
  case "$arg" in
    --sanitize)
      build=build-asan; cmake_args+=(-DILK_SANITIZE=ON)
      # The kit contains crashes of plugins on purpose: let a SIGSEGV stay a
      # signal (ASan's handler would turn it into exit code 1); UB is fatal.
      export ASAN_OPTIONS=handle_segv=0:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
      ;;
    *) echo "quickstart: unknown option '$arg' (known: --sanitize)" >&2; exit 2 ;;
  esac
done

case "$verb" in
  run|test) ;;
  *) echo "usage: ci/quickstart.sh run|test [--sanitize]" >&2; exit 2 ;;
esac

bash ci/setup.sh
if [ "$verb" = test ]; then cmake_args+=(-DILK_WERROR=ON); fi
cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"

if [ "$verb" = run ]; then
  # The main job on a scratch directory of its own: measure every primitive,
  # then put every strategy through every scenario (the local matrix).
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/ilk-main.XXXXXX")
  chmod 755 "$scratch"  # some scenarios run contenders under a dedicated uid
  trap 'rm -rf "$scratch"' EXIT
  "$build/bin/ilk" probe --target "$scratch"
  "$build/bin/ilk" run --target "$scratch"
else
  # Serial: cleanup tests compare host-wide state (segments, mounts) before and after.
  ctest --test-dir "$build" --output-on-failure --timeout 600
fi
