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
# ccache (installed by ci/setup.sh): a rebuild, or a build in another clone of
# the same tree, reuses what was compiled before. Paths are taken relative to
# this tree so that clones in other folders hit the same entries.
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"

if [ "$verb" = run ]; then
  # The main job: every strategy x scenario on every local target the kit can
  # set up (each probed first), the matrix on the terminal and the report
  # directory ilk-report/. Kit-made filesystems go into a scratch directory.
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/ilk-main.XXXXXX")
  chmod 755 "$scratch"  # some scenarios run contenders under a dedicated uid
  trap 'rm -rf --one-file-system "$scratch"' EXIT
  TMPDIR=$scratch "$build/bin/ilk" run --report-dir ilk-report
else
  # Serial: cleanup tests compare host-wide state (segments, mounts) before and after.
  ctest --test-dir "$build" --output-on-failure --timeout 600
fi
