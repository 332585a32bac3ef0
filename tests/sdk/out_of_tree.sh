#!/usr/bin/env bash
# sdk.out_of_tree: the installed SDK alone builds a plugin, and the installed
# ilk loads and probes it.
#
#   out_of_tree.sh <ilk build dir> <ilk source dir> <cmake command>
#
# Installs the (already built) project into a fresh prefix, builds
# plugins/skeleton against that prefix only, proves the compile read the
# prefix's headers (not the source tree's), then runs the installed ilk:
# list plugins (skeleton loads; without --plugin-dir, its own plugins load) and
# probe --primitive skeleton (the lock excludes another process), and its
# target kind: listed, and as root a whole cell on the ramfs it mounts, the
# mount gone afterwards. Every step that fails stops the test with a non-zero
# exit and the reason.
set -euo pipefail

me="sdk.out_of_tree"
fail() {
    echo "$me: FAIL: $*" >&2
    exit 1
}
step() { echo "$me: $*"; }

[[ $# -eq 3 ]] || fail "usage: $0 <ilk build dir> <ilk source dir> <cmake command>"
build_dir=$(cd "$1" && pwd -P) || fail "build dir $1 does not exist"
source_dir=$(cd "$2" && pwd -P) || fail "source dir $2 does not exist"
cmake_cmd=$3
[[ -x $build_dir/bin/ilk ]] || fail "$build_dir/bin/ilk is missing: build the project before running this test"
[[ -f $source_dir/plugins/skeleton/CMakeLists.txt ]] || fail "$source_dir/plugins/skeleton/CMakeLists.txt is missing"
command -v python3 >/dev/null || fail "python3 is needed to read the probe's JSON report"

work=$(mktemp -d "${TMPDIR:-/tmp}/ilk-sdk.XXXXXX") || fail "cannot create a temporary directory"
work=$(cd "$work" && pwd -P)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP  # through the EXIT trap, so the temp dirs go
prefix=$work/prefix
skel=$work/skeleton-build
target=$work/target
mkdir -p "$target" "$work/state"

# The installed ilk must see only what this test gives it.
unset ILK_PLUGIN_PATH ILK_PLATFORM_PATH
export ILK_STATE_DIR=$work/state

# --- 1. install ------------------------------------------------------------
step "installing $build_dir into $prefix"
"$cmake_cmd" --install "$build_dir" --prefix "$prefix" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "cmake --install $build_dir --prefix $prefix failed"; }
ilk=$prefix/bin/ilk
[[ -x $ilk ]] || fail "the install has no bin/ilk"
[[ -f $prefix/include/ilk/plugin.h ]] || fail "the install has no include/ilk/plugin.h"
config=$(find "$prefix" -path '*/cmake/ilk/ilkConfig.cmake' -print -quit)
[[ -n $config ]] || fail "the install has no <libdir>/cmake/ilk/ilkConfig.cmake"

# --- 2. configure and build the skeleton against the prefix only ------------
# No package registries (they could point back at a build tree); the cache is
# checked below for which ilkConfig.cmake was used.
step "building plugins/skeleton against $prefix"
if ! "$cmake_cmd" -S "$source_dir/plugins/skeleton" -B "$skel" \
    -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$work/configure.log" 2>&1; then
    cat "$work/configure.log" >&2
    fail "configuring plugins/skeleton with CMAKE_PREFIX_PATH=$prefix failed"
fi
ilk_dir=$(sed -n 's/^ilk_DIR:PATH=//p' "$skel/CMakeCache.txt")
[[ $(cd "$ilk_dir" 2>/dev/null && pwd -P) == "$prefix"/* ]] ||
    fail "find_package(ilk) used '$ilk_dir', not the install in $prefix"
"$cmake_cmd" --build "$skel" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; fail "building plugins/skeleton against $prefix failed"; }
so=$skel/plugins/ilk-skeleton.so
[[ -f $so ]] || fail "the skeleton build made no $so"

# Which plugin.h did the compiler read? Re-run the recorded compile of
# skeleton.cpp with -M (list every header opened), so a stray -I to the source
# tree or a copy in a system directory cannot pass unnoticed.
python3 - "$skel/compile_commands.json" "$prefix" "$source_dir" <<'EOF' || fail "the skeleton's compile did not read the SDK headers from $prefix/include (see above)"
import json, os, shlex, subprocess, sys
db_file, prefix, source = sys.argv[1:]
entries = [e for e in json.load(open(db_file)) if e["file"].endswith("skeleton.cpp")]
if len(entries) != 1:
    sys.exit(f"expected one compile of skeleton.cpp in {db_file}, found {len(entries)}")
e = entries[0]
args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
if not any(a.endswith(prefix + "/include") for a in args):
    sys.exit(f"no -I/-isystem {prefix}/include in the compile: {shlex.join(args)}")
if any(source + "/harness" in a for a in args):
    sys.exit(f"the compile names the source tree {source}/harness: {shlex.join(args)}")
# Drop output and dependency-file options, then ask for the header list.
out, skip = [], 0
for a in args:
    if skip:
        skip -= 1
    elif a in ("-o", "-MT", "-MF", "-MQ"):
        skip = 1
    elif a not in ("-c", "-MD", "-MMD"):
        out.append(a)
run = subprocess.run(out + ["-M"], cwd=e["directory"], capture_output=True, text=True)
if run.returncode != 0:
    sys.exit(f"re-running the compile with -M failed:\n{run.stderr}")
headers = [os.path.realpath(h) for h in run.stdout.replace("\\\n", " ").split() if h.endswith(".h")]
sdk = [h for h in headers if h.endswith("/ilk/plugin.h") or h.endswith("/ilk/lock_support.h")]
if len(sdk) != 2 or not all(h.startswith(prefix + "/include/ilk/") for h in sdk):
    sys.exit(f"SDK headers read: {sdk or 'none'}; expected {prefix}/include/ilk/plugin.h and lock_support.h")
stray = [h for h in headers if h.startswith(source + "/")]
if stray:
    sys.exit(f"the compile read headers from the source tree: {stray}")
print(f"sdk.out_of_tree: compile read {', '.join(sdk)}")
EOF

# --- 3. the installed ilk loads the skeleton ---------------------------------
step "ilk --plugin-dir $skel/plugins list plugins"
rc=0
"$ilk" --plugin-dir "$skel/plugins" list plugins >"$work/list.txt" 2>&1 || rc=$?
cat "$work/list.txt"
[[ $rc -eq 0 ]] || fail "installed ilk list plugins exited $rc (a plugin did not load, see NOT LOADED above)"
grep -Fxq "skeleton 1.0 ($so)" "$work/list.txt" || fail "plugin 'skeleton' from $so is not listed as loaded"
grep -Eq '^  skeleton +lock ' "$work/list.txt" || fail "primitive 'skeleton' (lock) is not listed"

# --- 4. ...and finds its own plugins without --plugin-dir --------------------
step "ilk list plugins (installed plugins, no --plugin-dir)"
rc=0
"$ilk" list plugins >"$work/list-own.txt" 2>&1 || rc=$?
cat "$work/list-own.txt"
[[ $rc -eq 0 ]] || fail "installed ilk list plugins (no --plugin-dir) exited $rc: an installed plugin did not load"
grep -Eq "^posix-fcntl [^ ]+ \\($prefix/lib[^/]*/ilk/plugins/ilk-posix-fcntl\\.so\\)\$" "$work/list-own.txt" ||
    fail "the installed ilk did not load posix-fcntl from $prefix/<libdir>/ilk/plugins"
grep -Eq '^  fcntl +lock ' "$work/list-own.txt" || fail "primitive 'fcntl' is not listed by the installed ilk"
! grep -q '^skeleton ' "$work/list-own.txt" || fail "skeleton was installed with ilk: it must stay out of the main build"

# --- 5. ...and measures real facts with it ----------------------------------
step "ilk --plugin-dir $skel/plugins probe --primitive skeleton --target $target"
rc=0
"$ilk" --plugin-dir "$skel/plugins" probe --primitive skeleton --format json --target "$target" \
    --output "$work/probe.json" >"$work/probe.log" 2>&1 || rc=$?
cat "$work/probe.log"
[[ $rc -eq 0 ]] || fail "installed ilk probe --primitive skeleton exited $rc"
python3 - "$work/probe.json" <<'EOF' || fail "the probe report does not show a working skeleton lock (see above)"
import json, sys
report = json.load(open(sys.argv[1]))
facts = report["facts"]
problems = []
for fid in ("locks.skeleton.supported", "locks.skeleton.excludes_other_process"):
    f = facts.get(fid)
    if f is None:
        problems.append(f"{fid}: missing from the report")
    elif f.get("measured") is not True or f.get("value") is not True:
        problems.append(f"{fid}: expected measured and true, got {json.dumps(f)[:600]}")
names = [p["name"] for p in report["primitives"]]
if names != ["skeleton"]:
    problems.append(f"primitives probed: {names}, expected only skeleton")
if report.get("plugin_load_failures"):
    problems.append(f"plugin load failures: {report['plugin_load_failures']}")
for p in problems:
    print(f"sdk.out_of_tree: {p}", file=sys.stderr)
if problems:
    sys.exit(1)
measured = sorted(k for k, v in facts.items() if k.startswith("locks.skeleton.") and v.get("measured"))
print(f"sdk.out_of_tree: {len(measured)} skeleton facts measured: " +
      ", ".join(f"{k.removeprefix('locks.skeleton.')}={facts[k]['value']}" for k in measured))
EOF

# --- 6. ...and provides a target kind through the SDK ------------------------
step "ilk --plugin-dir $skel/plugins list targets"
rc=0
"$ilk" --plugin-dir "$skel/plugins" list targets >"$work/targets.txt" 2>&1 || rc=$?
cat "$work/targets.txt"
[[ $rc -eq 0 ]] || fail "installed ilk list targets exited $rc"
grep -Eq '^skeleton-ramfs +template: ramfs mounted by the skeleton plugin' "$work/targets.txt" ||
    fail "target kind 'skeleton-ramfs' is not listed"
grep -Eq '^tmpfs ' "$work/targets.txt" || fail "the kit's own target kinds are not listed beside the plugin's"
if [[ $(id -u) -ne 0 ]]; then
    step "not root: skeleton-ramfs is mounted by the plugin, which needs root; its run is skipped"
else
    own_plugins=$(dirname "$(find "$prefix" -name 'ilk-bsd-flock.so' -print -quit)")
    [[ -d $own_plugins ]] || fail "the install has no ilk-bsd-flock.so"
    step "ilk run --target skeleton-ramfs --strategy lifetime-flock --scenario clean-restart"
    rc=0
    TMPDIR=$work "$ilk" --plugin-dir "$skel/plugins" --plugin-dir "$own_plugins" run --target skeleton-ramfs \
        --strategy lifetime-flock --scenario clean-restart --format json --output "$work/run.json" \
        --report-dir "$work/report" -q >"$work/run.log" 2>&1 || rc=$?
    cat "$work/run.log"
    [[ $rc -eq 0 ]] || fail "installed ilk run --target skeleton-ramfs exited $rc"
    python3 - "$work/run.json" <<'EOF' || fail "the run on skeleton-ramfs did not give a SAFE cell on a ramfs (see above)"
import json, sys
t = json.load(open(sys.argv[1]))["targets"][0]
problems = []
if t.get("unsupported"):
    problems.append(f"unsupported: {t['unsupported']}")
if t.get("info", {}).get("fstype") != "ramfs":
    problems.append(f"fstype {t.get('info', {}).get('fstype')!r}, expected 'ramfs'")
if t.get("info", {}).get("plugin") != "skeleton":
    problems.append(f"info.plugin {t.get('info', {}).get('plugin')!r}, expected 'skeleton'")
verdicts = [c["verdict"] for c in t.get("cells", [])]
if verdicts != ["SAFE"]:
    problems.append(f"cells {verdicts}, expected ['SAFE']")
for p in problems:
    print(f"sdk.out_of_tree: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
    ! grep -q "ilk-skeleton-ramfs" /proc/self/mounts || fail "the skeleton's ramfs is still mounted after the run"
fi

step "PASS"
