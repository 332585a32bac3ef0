#!/usr/bin/env bash
# The JSON report of a real `ilk run` (and of `ilk merge` over two of them)
# against reports/matrix-report.schema.json; then broken copies, which the
# check must reject, so it cannot pass by accepting anything.
set -u
ilk=$1 schema=$2
python3 -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema is not installed: apt-get install python3-jsonschema"; exit 77; }
work=$(mktemp -d /dev/shm/ilk-schema.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export ILK_STATE_DIR="$work/state"
fail() { echo "FAIL: $*"; exit 1; }

targets=(--target "$work")
[ "$(id -u)" -eq 0 ] && targets+=(--target tmpfs --target hugetlbfs)
"$ilk" run "${targets[@]}" --strategy tom-2004 --strategy lifetime-flock --scenario concurrent-stale --scenario clean-restart \
  --scenario container-split --report-dir "$work/a" -q >/dev/null || fail "ilk run failed"
"$ilk" run --target "$work" --strategy hybrid --scenario clean-restart --report-dir "$work/b" -q >/dev/null || fail "second ilk run failed"
"$ilk" merge "$work/a/report.json" "$work/b/report.json" --format json --output "$work/merged.json" || fail "ilk merge failed"

python3 - "$schema" "$work/a/report.json" "$work/merged.json" <<'PY' || fail "schema check"
import copy, json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for f in sys.argv[2:]:
    doc = json.load(open(f))
    errors = list(v.iter_errors(doc))
    for e in errors[:5]: print(f"{f}: {e.json_path}: {e.message[:200]}")
    assert not errors, f"{f} does not match the schema"
    cells = [s for t in doc["targets"] for c in t["cells"] for s in c["scenarios"]]
    assert any(s["verdict"] == "UNSAFE" for s in cells), "no UNSAFE result to check the counterexample fields with"
    print(f"{f}: valid, {len(doc['targets'])} target(s), {len(cells)} scenario results")
doc = json.load(open(sys.argv[2]))
def broken(mutate, what):
    d = copy.deepcopy(doc)
    mutate(d)
    assert list(v.iter_errors(d)), f"the schema accepted a report with {what}"
unsafe = next(s for t in doc["targets"] for c in t["cells"] for s in c["scenarios"] if s["verdict"] == "UNSAFE")
def path_to_unsafe(d):
    for t in d["targets"]:
        for c in t["cells"]:
            for s in c["scenarios"]:
                if s["verdict"] == "UNSAFE": return s
broken(lambda d: d.pop("targets"), "no targets")
broken(lambda d: d.update(schema_version=2), "another schema version")
broken(lambda d: d["targets"][0]["cells"][0].update(verdict="MAYBE"), "an unknown verdict")
broken(lambda d: path_to_unsafe(d).pop("schedule"), "an UNSAFE result without its schedule")
broken(lambda d: path_to_unsafe(d).update(reason=""), "an UNSAFE result without an explanation")
# The Linux profile bounds the hand-over time: its claim is {"at_most": N}.
def bound(d):
    for t in d["targets"]:
        for c in ((t.get("probe") or {}).get("profile") or {}).get("comparisons", []):
            if isinstance(c.get("expected"), dict): return c
bounded = bound(doc)
assert bounded and bounded["fact"].endswith(".handover_ms"), "no at_most claim (locks.*.handover_ms) to check the bound's shape with"
broken(lambda d: bound(d)["expected"].update(at_most=-1), "a negative bound")
broken(lambda d: bound(d).update(expected={"at_least": 1}), "an unknown claim shape")
print("broken copies rejected: 7 of 7")
PY
# The JUnit XML of the same real run, against the JUnit schema of the writer's tests.
if command -v xmllint >/dev/null; then
  xmllint --noout --schema "$(dirname "$0")/junit.xsd" "$work/a/junit.xml" || fail "junit.xml of a real run is not valid JUnit XML"
fi
echo "PASS: reports match the schema"
