#!/usr/bin/env bash
# package.deb: the Debian package of this build, built, checked and installed
# the way a porter installs it, then removed.
#
#   deb.sh <ilk build dir> <ilk source dir>
#
#  1. cpack builds ilk_<version>_amd64.deb (into a scratch directory);
#  2. lintian reports no error;
#  3. it holds the binary, plugins, SDK headers and CMake files, strategy and
#     server files, profiles, manual page, completion, copyright, changelog
#     and the porter's guide;
#  4. `apt-get install ./ilk_*.deb` installs it (its Depends already here);
#  5. the installed ilk names this build's version and commit, loads its own
#     plugins, finds its strategies and servers, and runs a cell; man finds
#     its page; bash loads its completion; its postinst made ilk-server;
#  6. plugins/skeleton builds against the installed package alone, and the
#     installed ilk loads and probes it;
#  7. `dpkg --purge ilk` leaves none of its files.
# Root only (it installs a package); skipped (77) without root or when an ilk
# package this test did not install is present: never touch what it did not make.
set -euo pipefail
me="package.deb"
fail() { echo "$me: FAIL: $*" >&2; exit 1; }
skip() { echo "$me: SKIP: $*"; exit 77; }
step() { echo "$me: $*"; }

[[ $# -eq 2 ]] || fail "usage: $0 <ilk build dir> <ilk source dir>"
build=$(cd "$1" && pwd -P) source=$(cd "$2" && pwd -P)
[[ $(id -u) -eq 0 ]] || skip "installing a package needs root"
for tool in cpack dpkg-deb lintian apt-get man; do
    command -v "$tool" >/dev/null || fail "$tool is missing: run ci/setup.sh"
done
if dpkg-query -W -f='${Status}' ilk 2>/dev/null | grep -q installed; then
    skip "an ilk package is installed already ($(dpkg-query -W -f='${Version}' ilk)); this test installs and purges its own only"
fi
made_user=0
getent passwd ilk-server >/dev/null || made_user=1

work=$(mktemp -d "${TMPDIR:-/tmp}/ilk-deb.XXXXXX")
installed=0
cleanup() {
    if [[ $installed -eq 1 ]]; then
        DEBIAN_FRONTEND=noninteractive dpkg --purge ilk >/dev/null 2>&1 || echo "$me: dpkg --purge ilk failed" >&2
        # Only a user this test's install made (Debian's packages keep theirs).
        [[ $made_user -eq 1 ]] && userdel ilk-server 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- 1. build ----------------------------------------------------------------
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[[ -n $version ]] || fail "no CMAKE_PROJECT_VERSION in $build/CMakeCache.txt"
step "cpack (ilk $version) into $work"
cpack --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$work/ilk_${version}_amd64.deb
[[ -f $deb ]] || fail "cpack made no $deb: $(ls "$work")"
step "$(basename "$deb"): $(stat -c %s "$deb") bytes"

# --- 2. lintian ----------------------------------------------------------------
rc=0
lintian --fail-on error "$deb" >"$work/lintian.txt" 2>&1 || rc=$?
sed 's/^/  lintian: /' "$work/lintian.txt"
[[ $rc -eq 0 ]] || fail "lintian reports errors (exit $rc)"
! grep -q '^E: ' "$work/lintian.txt" || fail "lintian reports errors"

# --- 3. contents --------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$work/contents.txt"
for f in /usr/bin/ilk /usr/lib/ilk/plugins/ilk-posix-fcntl.so /usr/lib/ilk/plugins/ilk-hugetlbfs.so \
    /usr/include/ilk/plugin.h /usr/lib/cmake/ilk/ilkConfig.cmake /usr/lib/cmake/ilk/IlkPlugin.cmake \
    /usr/share/ilk/strategies/default.toml /usr/share/ilk/servers/postgresql-15.toml /usr/share/ilk/platforms/linux.toml \
    /usr/share/man/man1/ilk.1.gz /usr/share/bash-completion/completions/ilk \
    /usr/share/doc/ilk/copyright /usr/share/doc/ilk/changelog.gz /usr/share/doc/ilk/porting.md; do
    grep -Fxq "$f" "$work/contents.txt" || fail "the package has no $f"
done
grep -q '^/usr/lib/ilk/plugins/ilk-skeleton' "$work/contents.txt" && fail "the skeleton plugin is packaged: it must stay out of tree"
depends=$(dpkg-deb -f "$deb" Depends) recommends=$(dpkg-deb -f "$deb" Recommends)
step "Depends: $depends"
step "Recommends: $recommends"
for d in libstdc++6 adduser; do [[ $depends == *"$d"* ]] || fail "Depends lacks $d"; done
for r in xfsprogs bindfs qemu-system-x86 postgresql-15; do [[ $recommends == *"$r"* ]] || fail "Recommends lacks $r"; done

# --- 4. install ----------------------------------------------------------------
step "apt-get install $deb"
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt-get install $deb failed"; }

# --- 5. the installed ilk --------------------------------------------------------
want=$("$build/bin/ilk" --version) got=$(/usr/bin/ilk --version)
[[ $got == "$want" ]] || fail "installed ilk --version says '$got', this build '$want'"
[[ $got =~ ^$version\ \(commit\ [0-9a-f]{7,}(-dirty)?\)$ || $got == "$version (commit unknown)" ]] ||
    fail "ilk --version says '$got': expected '$version (commit HASH)'"
step "ilk --version: $got"
unset ILK_PLUGIN_PATH ILK_PLATFORM_PATH ILK_STRATEGY_PATH ILK_SERVER_PATH
export ILK_STATE_DIR=$work/state
mkdir -m 700 "$work/state"
/usr/bin/ilk list plugins >"$work/plugins.txt" 2>&1 || { cat "$work/plugins.txt" >&2; fail "installed ilk list plugins failed"; }
grep -Eq '^posix-fcntl [^ ]+ \(/usr/lib/ilk/plugins/ilk-posix-fcntl\.so\)$' "$work/plugins.txt" ||
    fail "the installed ilk did not load /usr/lib/ilk/plugins/ilk-posix-fcntl.so: $(cat "$work/plugins.txt")"
strategies=$(cd / && /usr/bin/ilk list strategies --names)
for s in lifetime-flock pg-current postgresql-15; do
    grep -Fxq "$s" <<<"$strategies" || fail "the installed ilk does not know strategy $s"
done
mkdir -m 755 "$work/target"
step "/usr/bin/ilk run --target $work/target --strategy lifetime-flock --scenario clean-restart"
(cd / && /usr/bin/ilk run --target "$work/target" --strategy lifetime-flock --scenario clean-restart \
    --format json --output "$work/run.json" --report-dir "$work/report" -q) >"$work/run.log" 2>&1 ||
    { cat "$work/run.log" >&2; fail "the installed ilk's run failed"; }
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["targets"][0]["cells"]; sys.exit(0 if [x["verdict"] for x in c]==["SAFE"] else "cells: %s" % c)' \
    "$work/run.json" || fail "the installed ilk's cell is not SAFE"
[[ $(man -w ilk) == /usr/share/man/man1/ilk.1.gz ]] || fail "man -w ilk says '$(man -w ilk 2>&1)'"
man ilk 2>/dev/null | grep -q 'EXIT STATUS' || fail "man ilk does not show the page"
bash -c 'source /usr/share/bash-completion/completions/ilk && complete -p ilk' | grep -q -- '-F _ilk ilk' ||
    fail "the installed completion does not register _ilk for ilk"
getent passwd ilk-server >/dev/null || fail "the postinst did not make the user ilk-server"

# --- 6. the skeleton plugin against the installed package -------------------------
step "plugins/skeleton against /usr"
cmake -S "$source/plugins/skeleton" -B "$work/skeleton" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/skeleton.log" 2>&1 &&
    cmake --build "$work/skeleton" >>"$work/skeleton.log" 2>&1 || { cat "$work/skeleton.log" >&2; fail "the skeleton did not build against the package"; }
ilk_dir=$(sed -n 's/^ilk_DIR:PATH=//p' "$work/skeleton/CMakeCache.txt")
[[ $ilk_dir == /usr/lib/cmake/ilk ]] || fail "find_package(ilk) used '$ilk_dir', not the package's /usr/lib/cmake/ilk"
mkdir -m 755 "$work/probe"
/usr/bin/ilk --plugin-dir "$work/skeleton/plugins" probe --primitive skeleton --target "$work/probe" --format json \
    --output "$work/probe.json" >"$work/probe.log" 2>&1 || { cat "$work/probe.log" >&2; fail "the installed ilk could not probe the skeleton"; }
python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["facts"]["locks.skeleton.excludes_other_process"]; sys.exit(0 if f.get("measured") and f.get("value") is True else "fact: %s" % f)' \
    "$work/probe.json" || fail "the skeleton's lock was not measured excluding another process"

# --- 7. purge --------------------------------------------------------------------
step "dpkg --purge ilk"
DEBIAN_FRONTEND=noninteractive dpkg --purge ilk >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "dpkg --purge ilk failed"; }
installed=0
[[ $made_user -eq 1 ]] && userdel ilk-server
left=()
while read -r f; do
    [[ $f == */ ]] && continue
    [[ -e $f ]] && left+=("$f")
done <"$work/contents.txt"
[[ ${#left[@]} -eq 0 ]] || fail "after purge these remain: ${left[*]}"
for d in /usr/lib/ilk /usr/share/ilk /usr/include/ilk /usr/lib/cmake/ilk /usr/share/doc/ilk; do
    [[ ! -e $d ]] || fail "after purge $d remains"
done
step "PASS: $(basename "$deb") lintian-clean, installed, used and purged"
