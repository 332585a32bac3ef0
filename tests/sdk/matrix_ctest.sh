#!/usr/bin/env bash
# sdk.matrix_ctest: a porter's project registers matrix cells as CTest tests
# with ilk_add_matrix_tests() from the installed package, and its ctest shows
# a SAFE cell passing, an UNSAFE one failing (with the explanation in the log)
# and an UNSUPPORTED one skipped.
#
#   matrix_ctest.sh <ilk build dir> <cmake command> <ctest command>
set -euo pipefail
me="sdk.matrix_ctest"
fail() { echo "$me: FAIL: $*" >&2; exit 1; }
[[ $# -eq 3 ]] || fail "usage: $0 <ilk build dir> <cmake command> <ctest command>"
build_dir=$(cd "$1" && pwd -P)
cmake_cmd=$2 ctest_cmd=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/ilk-matrix-ctest.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
export ILK_STATE_DIR=$work/state
unset ILK_PLUGIN_PATH ILK_PLATFORM_PATH ILK_STRATEGY_PATH
"$cmake_cmd" --install "$build_dir" --prefix "$work/prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "install failed"; }
mkdir -p "$work/project" "$work/target"
chmod 755 "$work/target"
cat >"$work/project/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(porter-dashboard NONE)
enable_testing()
find_package(ilk REQUIRED)
ilk_add_matrix_tests(PREFIX cell TARGETS "$work/target"
  STRATEGIES tom-2004 lifetime-flock SCENARIOS clean-restart concurrent-stale)
# hugetlbfs holds segments only (and without root the kit cannot mount it):
# the cell is UNSUPPORTED, so the test is skipped with the reason.
ilk_add_matrix_tests(PREFIX skip TARGETS hugetlbfs STRATEGIES lifetime-flock)
CMAKE
"$cmake_cmd" -S "$work/project" -B "$work/project/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "configure failed"; }
listed=$("$ctest_cmd" --test-dir "$work/project/build" -N | grep -c 'Test *#' || true)
[[ $listed -eq 3 ]] || fail "expected 3 registered cells, ctest lists $listed"
set +e
"$ctest_cmd" --test-dir "$work/project/build" --output-on-failure -R '^cell/' >"$work/ctest.log" 2>&1
set -e
grep -q "cell/target/lifetime-flock .*Passed" "$work/ctest.log" || { cat "$work/ctest.log"; fail "the SAFE cell did not pass"; }
grep -q "cell/target/tom-2004 .*Failed" "$work/ctest.log" || { cat "$work/ctest.log"; fail "the UNSAFE cell did not fail"; }
grep -q "UNSAFE tom-2004 under concurrent-stale" "$work/ctest.log" || { cat "$work/ctest.log"; fail "the failing cell's log lacks the finding"; }
"$ctest_cmd" --test-dir "$work/project/build" --output-on-failure -R '^skip/' >"$work/skip.log" 2>&1 || true
grep -q "skip/hugetlbfs/lifetime-flock .*Skipped" "$work/skip.log" || { cat "$work/skip.log"; fail "the UNSUPPORTED cell was not skipped"; }
echo "$me: PASS: SAFE passed, UNSAFE failed with its finding, UNSUPPORTED skipped"
