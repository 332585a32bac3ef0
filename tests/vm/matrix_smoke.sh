#!/usr/bin/env bash
# vm.matrix-smoke: ci/vm-matrix --smoke (the host's ilk run and the same run in
# a 6.1 guest, merged) and a check of the merged matrix: the host's results and
# the guest's are separate columns, each under its own kernel, every target
# once; the guest also ran ilk probe; the NFS lab probed its two mounts; and
# the strategies on trial on nfs4.2 across two client guests are a column of
# their own.
#
#   tests/vm/matrix_smoke.sh ILK_BUILD_DIR [--check OUT]
#
# --check OUT: check what `ci/vm-matrix --smoke --out OUT` made, without
# running it again: docs.porting runs that command as the porter's guide says,
# then this (the smoke's one run in the suite).
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, or no QEMU).
set -euo pipefail

. "$(dirname "$0")/common.sh"
vm_test_init vm.matrix-smoke "kit-made targets mount; the image cache is /var/cache/ilk-guest" "${1:-}"

rc=0
if [ "${2:-}" = --check ] && [ -n "${3:-}" ]; then
  out=$3
  total="(run before)"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  t=$EPOCHREALTIME
  "$repo/ci/vm-matrix" --smoke --build "$build" --out "$out" || rc=$?
  total=$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
fi
times=$(awk -F'\t' 'NR > 1 { printf "%s%s %s s %s", sep, $1, $2, $3; sep = ", " }' "$out/stages.tsv" 2>/dev/null || true)

left=$(pgrep -f 'qemu-system-x86_64 -name ilk-6\.1( |$)' || true)
[ -z "$left" ] || { echo "FAIL: vm.matrix-smoke: QEMU still running after ci/vm-matrix returned: pids $(echo $left)"; exit 1; }
[ "$rc" -eq 0 ] || { echo "FAIL: vm.matrix-smoke: ci/vm-matrix --smoke exited $rc in $total s (stages: ${times:-none recorded})"; exit 1; }

python3 - "$out" "$(uname -r)" "$total" "$times" <<'PY'
import json, os, sys
out, host_kernel, total, times = sys.argv[1:]
def fail(msg):
    print(f"FAIL: vm.matrix-smoke: {msg} (stages: {times})")
    sys.exit(1)
try:
    merged = json.load(open(os.path.join(out, "merged.json")))
    manifest_kernel = json.load(open(os.path.join(out, "guest-6.1", "report", "report.json")))["host"]["kernel"]
except (OSError, ValueError, KeyError) as e:
    fail(f"cannot read the outputs: {e}")
if not manifest_kernel.startswith("6.1."):
    fail(f"the guest's report was made on kernel {manifest_kernel!r}, not a 6.1 one")
columns = {}
for t in merged.get("targets", []):
    columns.setdefault((t["platform"], t["name"]), []).append(t)
targets = ["tmpfs", "ext4"]
seen = []
for kernel, who in ((host_kernel, "host"), (manifest_kernel, "guest")):
    for name in targets:
        got = columns.get((f"linux {kernel}", name), [])
        if len(got) != 1:
            fail(f"column linux {kernel} / {name} ({who}) holds {len(got)} results, expected 1")
        r = got[0]
        if who == "guest" and r.get("host") != "ilk-6.1":
            fail(f"the guest's column {name} is from host {r.get('host')!r}, not ilk-6.1")
        if who == "host" and r.get("host") == "ilk-6.1":
            fail(f"the host's column {name} is from the guest")
        if r.get("unsupported"):
            fail(f"{who} could not set up {name}: {r['unsupported']}")
        verdicts = {c["strategy"]: c["verdict"] for c in r.get("cells", [])}
        if set(verdicts) != {"tom-2004", "lifetime-flock"}:
            fail(f"column linux {kernel} / {name} has cells for {sorted(verdicts)}")
        seen.append(f"linux {kernel} / {name} @{r.get('host')}: " + " ".join(f"{s}={v}" for s, v in sorted(verdicts.items())))
# The strategies on trial on nfs4.2 across the two client guests (nfs-cross-client):
# lifetime-flock's lock is held by the server for both clients; tom-2004's PID and
# segment checks ask client B about what lives on client A.
got = columns.get((f"linux {manifest_kernel}", "nfs4.2"), [])
if len(got) != 1 or got[0].get("kind") != "network" or got[0].get("host") != "nfs-client-a":
    fail(f"no network column linux {manifest_kernel} / nfs4.2 from nfs-client-a: {[(t.get('kind'), t.get('host')) for t in got]}")
verdicts = {c["strategy"]: c["verdict"] for c in got[0].get("cells", [])}
if verdicts != {"tom-2004": "UNSAFE", "lifetime-flock": "SAFE"}:
    fail(f"nfs4.2 under nfs-cross-client: {verdicts}, expected tom-2004 UNSAFE (host-local checks), lifetime-flock SAFE (the server's lock)")
seen.append(f"linux {manifest_kernel} / nfs4.2 @nfs-client-a: " + " ".join(f"{s}={v}" for s, v in sorted(verdicts.items())))
if len(columns) != 5:
    fail(f"merged.json has {len(columns)} columns, expected 5: {sorted(columns)}")
probe = os.path.join(out, "guest-6.1", "probe.json")
try:
    facts = json.load(open(probe)).get("facts") or {}
except (OSError, ValueError) as e:
    fail(f"the guest's ilk probe left no readable probe.json: {e}")
if not facts:
    fail("the guest's probe.json has no facts")
# The NFS lab stage: nfs4.2 and nfs3-nolock, both probed across the two clients.
try:
    nfs = {r["target"]["name"]: r for r in json.load(open(os.path.join(out, "nfs-6.1", "probe.json")))}
    summary = open(os.path.join(out, "nfs-6.1", "probe.txt")).read()
except (OSError, ValueError, KeyError, TypeError) as e:
    fail(f"the NFS lab stage left no readable nfs-6.1/probe.json and probe.txt: {e}")
if sorted(nfs) != ["nfs3-nolock", "nfs4.2"]:
    fail(f"the NFS lab probed {sorted(nfs)}, expected nfs3-nolock and nfs4.2")
for name, r in nfs.items():
    if "unsupported" in r["target"] or not any(k.startswith("clients.locks.") for k in r["facts"]):
        fail(f"{name}: no facts across clients: {r['target'].get('unsupported')}")
    if f"{name}: applied" not in summary:
        fail(f"nfs-6.1/probe.txt does not summarise {name}")
print("columns: " + "; ".join(seen))
print(f"PASS: vm.matrix-smoke: 5 columns (host kernel {host_kernel}, guest kernel {manifest_kernel}), guest probe {len(facts)} facts, "
      f"NFS lab with nfs4.2 and nfs3-nolock; total {total} s; stages: {times}")
PY
