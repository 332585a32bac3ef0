#!/usr/bin/env bash
# vm.nfs-expected-verdicts: the strategies below x NFS scenario x variant on the
# lab's nfs4.2 mount, compared with tests/vm/expected-nfs-verdicts.md (each
# row with its reason). The table must cover exactly what ran; the lab's
# guests must be gone afterwards.
#
#   tests/vm/nfs_expected_verdicts.sh ILK_BUILD_DIR
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (not root, or no QEMU).
set -euo pipefail

. "$(dirname "$0")/common.sh"
vm_test_init vm.nfs-expected-verdicts "the guest image cache, QEMU guests" "${1:-}"

work=$(mktemp -d /dev/shm/ilk-nfs-expected.XXXXXX)
trap 'rm -rf "$work"' EXIT
image=$("$repo/ci/guest/image.sh" 6.1 --ilk "$build" 2>"$work/image.err") || { cat "$work/image.err"; fail "ci/guest/image.sh 6.1 --ilk $build failed"; }

# The strategies of the table: the kit's own protocols and the three made for
# this question (the servers' rows use the same templates as lifetime-*).
strategies=()
for s in legacy-pid tom-2004 tom-2004+startup-lock hugepage-tom lifetime-flock lifetime-fcntl lifetime-ofd lifetime-lockf \
         pg-current hybrid pg-current+recheck lifetime-flock-dir link-lockfile; do strategies+=(--strategy "$s"); done
t0=$EPOCHREALTIME
TMPDIR=$work "$ilk" run --guest "$image" --nfs nfs4.2 "${strategies[@]}" -q --format json --report-dir "$work/report" --output "$work/report.json" \
  2>"$work/run.err" || { cat "$work/run.err"; fail "ilk run --guest IMAGE --nfs nfs4.2 exited non-zero"; }
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
[ -z "$(pgrep -f "qemu-system-x86_64 -name nfs-.*$work" || true)" ] || fail "a QEMU of the lab is still running"

table=$repo/tests/vm/expected-nfs-verdicts.md
result=$(python3 - "$work/report.json" "$table" "$repo/tests/engine" <<'PY'
import json, sys
report, table = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
from expected_verdicts import compare  # the same comparison as the tmpfs table's
expected = {}
for number, line in enumerate(open(table, encoding="utf-8"), 1):
    cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
    if not line.startswith("| ") or len(cells) != 5 or cells[0] in ("strategies", "---"):
        continue
    strategies, scenarios, variants, verdict, why = cells
    if verdict not in ("SAFE", "UNSAFE", "STUCK", "UNSUPPORTED"):
        sys.exit(f"FAIL: {table}:{number}: verdict '{verdict}'")
    if len(why) < 10:
        sys.exit(f"FAIL: {table}:{number}: the row needs its reason")
    for st in strategies.split(", "):
        for sc in scenarios.split(", "):
            for v in variants.split(", "):
                key = (st, sc, "" if v == "-" else v)
                if key in expected:
                    sys.exit(f"FAIL: {table}:{number}: {key} is in the table twice (also line {expected[key][1]})")
                expected[key] = (verdict, number)
r = json.load(open(report))
(t,) = r["targets"]
if t.get("unsupported"):
    sys.exit(f"FAIL: nfs4.2 not run: {t['unsupported']}")
observed = [((cell["strategy"], s["scenario"], v["variant"]), v["verdict"], s.get("reason", ""))
            for cell in t["cells"] for s in cell["scenarios"]
            for v in (s.get("variants") or [{"variant": "", "verdict": s["verdict"]}])]
failures, matched = compare(table, expected, observed)
for f in failures:
    print("FAIL:", f)
print(f"{matched} of {len(expected)} rows as in the table, {len(failures)} difference(s)")
sys.exit(1 if failures else 0)
PY
) || fail "$result"
echo "PASS: vm.nfs-expected-verdicts: $result, lab and run in $secs s"
