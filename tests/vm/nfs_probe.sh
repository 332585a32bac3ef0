#!/usr/bin/env bash
# vm.nfs-probe: `ilk probe --guest IMAGE --nfs nfs4.2 --nfs nfs3-nolock` boots
# an NFS lab (a kernel-nfsd server guest and two client guests on their own
# point-to-point links), mounts both network mounts on both clients, probes
# each from client A and across the two clients (clients.*, last of all client
# A's whole guest killed while it holds its locks), compares with the
# platform profile's NFS claims, and ends the guests. The kit must tell the two
# apart: on nfs4.2 every lock keeps the other client out, on nfs3-nolock none
# does (nfs(5)). Also: bad --nfs input, and a kit SIGKILLed while its lab boots
# leaves nothing after `ilk clean`.
#
#   tests/vm/nfs_probe.sh ILK_BUILD_DIR
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, or no QEMU).
set -euo pipefail

. "$(dirname "$0")/common.sh"
vm_test_init vm.nfs-probe "the guest image cache, QEMU guests" "${1:-}"

work=$(mktemp -d /dev/shm/ilk-nfs-probe.XXXXXX)
trap 'rm -rf "$work"' EXIT

# This run's QEMUs: their run directories are in its TMPDIR.
qemus() { pgrep -f "qemu-system-x86_64 -name nfs-.*$work" || true; }

image=$("$repo/ci/guest/image.sh" 6.1 --ilk "$build" 2>"$work/image.err") || { cat "$work/image.err"; fail "ci/guest/image.sh 6.1 --ilk $build failed"; }

# 1. Bad input: named, exit 2, nothing booted.
rc=0; "$ilk" probe --nfs nfs5 --guest "$image" 2>"$work/bad.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "no network mount of that name.*known: nfs3, nfs4.0" "$work/bad.err" || { cat "$work/bad.err"; fail "--nfs nfs5: exit $rc"; }
rc=0; "$ilk" probe --nfs nfs4.2 2>"$work/bad.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--nfs needs --guest IMAGE" "$work/bad.err" || { cat "$work/bad.err"; fail "--nfs without --guest: exit $rc"; }

# 2. The lab, both mounts.
t0=$EPOCHREALTIME
TMPDIR=$work "$ilk" probe --guest "$image" --nfs nfs4.2 --nfs nfs3-nolock --format json --output "$work/probe.json" 2>"$work/probe.err" \
  || { cat "$work/probe.err"; fail "ilk probe --nfs exited non-zero"; }
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
summary=$(python3 - "$work/probe.json" <<'PY'
import json, sys
reports = {r["target"]["name"]: r for r in json.load(open(sys.argv[1]))}
def fail(m): print("FAIL: " + m); sys.exit(1)
if sorted(reports) != ["nfs3-nolock", "nfs4.2"]: fail(f"reports for {sorted(reports)}")
out = []
for name, want in (("nfs4.2", True), ("nfs3-nolock", False)):
    r = reports[name]
    t = r["target"]
    if "unsupported" in t: fail(f"{name} not probed: {t['unsupported']}")
    m = t["mount"]
    applied = m["applied"].split(",")
    for opt in m["asked"].split(","):
        if opt.startswith(("vers=", "nolock")) and opt not in applied: fail(f"{name}: asked {opt}, applied {m['applied']}")
    if name == "nfs3-nolock" and "local_lock=all" not in applied: fail(f"nolock without local_lock=all applied: {m['applied']}")
    clients = [c["name"] for c in t["clients"]]
    if clients != ["nfs-client-a", "nfs-client-b"] or t["server"]["implementation"] != "kernel-nfsd": fail(f"{name}: lab {t}")
    locks = [p["name"] for p in r["primitives"] if p["kind"] == "lock" and p["supported"]]
    if len(locks) < 3: fail(f"{name}: only {locks} supported on client A")
    for p in locks:
        f = r["facts"].get(f"clients.locks.{p}.excludes_other_client")
        if not f or not f.get("measured"): fail(f"{name}: clients.locks.{p}.excludes_other_client not measured: {f}")
        if f["value"] != want: fail(f"{name}: clients.locks.{p}.excludes_other_client is {f['value']}, nfs(5) says {want}")
        who = " ".join(s.get("who", "") for s in f["evidence"]["steps"])
        if "nfs-client-a" not in who or "nfs-client-b" not in who: fail(f"{name}: not an act of both clients: {who}")
        f = r["facts"].get(f"clients.locks.{p}.released_on_client_crash")
        if want and (not f or f.get("value") is not True or "released_after_ms" not in f["evidence"]):
            fail(f"{name}: clients.locks.{p}.released_on_client_crash (client A's guest killed; NFSv4 lease): {f}")
        if not want and (not f or f.get("measured")):
            fail(f"{name}: clients.locks.{p}.released_on_client_crash measured where B was never kept out: {f}")
        f = r["facts"].get(f"locks.{p}.excludes_other_process")
        if not f or f.get("value") is not True: fail(f"{name}: locks.{p}.excludes_other_process on one client: {f}")
    # The profile's NFS claims were compared on this target, and hold.
    claims = [c for c in r["profile"]["comparisons"] if c.get("claimed_for")]
    if not any(name in c["claimed_for"] for c in claims): fail(f"{name}: no claim written for it was compared")
    bad = [c for c in claims if c["outcome"] not in ("match",)]
    if bad: fail(f"{name}: NFS claims not matched: {[(c['fact'], c['outcome'], c.get('observed'), c.get('reason')) for c in bad]}")
    out.append(f"{name}: {len(locks)} locks {'exclude' if want else 'do not exclude'} across clients, {len(claims)} NFS claims match")
print("; ".join(out))
PY
) || fail "$summary"
[ -z "$(qemus)" ] || fail "a QEMU of the lab is still running: $(qemus)"

# 3. The kit SIGKILLed while its lab boots: the guests die with it; `ilk clean`
# removes the rest (the journal names the QEMU processes).
TMPDIR=$work "$ilk" probe --guest "$image" --nfs nfs4.2 --format json --output "$work/killed.json" 2>"$work/killed.err" &
probe=$!
for _ in $(seq 300); do [ "$(qemus | wc -l)" -ge 3 ] && break; sleep 0.1; done
[ "$(qemus | wc -l)" -ge 3 ] || { kill -9 "$probe"; fail "the lab's three QEMUs did not appear"; }
sleep 3
kill -9 "$probe"
wait "$probe" 2>/dev/null || true
for _ in $(seq 50); do [ -z "$(qemus)" ] && break; sleep 0.1; done
[ -z "$(qemus)" ] || fail "guests outlived the SIGKILLed kit: $(qemus)"
TMPDIR=$work "$ilk" clean >"$work/clean.out" 2>&1 || { cat "$work/clean.out"; fail "ilk clean failed"; }
left=$(find "$work" -mindepth 1 -maxdepth 1 ! -name '*.json' ! -name '*.err' ! -name '*.out' | head -n 5)
[ -z "$left" ] || fail "left behind in TMPDIR: $left"
echo "PASS: vm.nfs-probe: lab and probes in $secs s; $summary; a SIGKILLed kit left nothing"
