#!/usr/bin/env python3
"""Run every strategy x scenario on a tmpfs directory and compare each
scenario's verdict with tests/engine/expected-verdicts.md.

usage: expected_verdicts.py ILK TABLE
Exit 0 when every row matches and the table covers exactly the strategies and
scenarios the run had; 1 with the differences otherwise; 77 when not root (the
table is for root: PID reuse, other uids and namespaces are staged)."""
import json
import os
import subprocess
import sys
import tempfile


def read_table(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if not line.startswith("| ") or len(cells) != 4 or cells[0] in ("strategy", "---"):
                continue
            strategy, scenario, verdict, why = cells
            if (strategy, scenario) in rows:
                sys.exit(f"{path}:{number}: {strategy} x {scenario} is in the table twice")
            if verdict not in ("SAFE", "UNSAFE", "STUCK", "UNSUPPORTED"):
                sys.exit(f"{path}:{number}: verdict '{verdict}' (expected SAFE, UNSAFE, STUCK or UNSUPPORTED)")
            if len(why) < 10:
                sys.exit(f"{path}:{number}: {strategy} x {scenario} needs its reason")
            rows[(strategy, scenario)] = (verdict, number)
    return rows


def compare(table, expected, observed):
    """expected: key -> (verdict, line of the table); observed: (key, verdict,
    reason) of each result run. Returns the differences, both ways, and how
    many results matched."""
    def name(key):
        return " x ".join(k for k in key if k)

    seen, failures, matched = set(), [], 0
    for key, verdict, reason in observed:
        seen.add(key)
        if key not in expected:
            failures.append(f"{name(key)}: {verdict}, but the table has no row for it (add one, with its reason)")
        elif expected[key][0] != verdict:
            failures.append(f"{table}:{expected[key][1]}: {name(key)}: expected {expected[key][0]}, got {verdict}: {reason}")
        else:
            matched += 1
    for key, (want, line) in expected.items():
        if key not in seen:
            failures.append(f"{table}:{line}: {name(key)} is in the table but was not run (a strategy or scenario gone?)")
    return failures, matched


def main():
    ilk, table = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("SKIP: the expected verdicts are for root (PID reuse, other uids and namespaces are staged)")
        return 77
    expected = read_table(table)
    with tempfile.TemporaryDirectory(prefix="ilk-expected-", dir="/dev/shm") as d:
        os.chmod(d, 0o755)  # some scenarios run contenders under a dedicated uid
        run = subprocess.run([ilk, "run", "--target", d, "--report-dir", os.path.join(d, "report"), "-q", "--no-probe",
                              "--format", "json", "--output", os.path.join(d, "out.json")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if run.returncode not in (0,):
            print(run.stdout)
            print(f"FAIL: ilk run exited {run.returncode}")
            return 1
        with open(os.path.join(d, "report", "report.json"), encoding="utf-8") as f:
            report = json.load(f)
    observed = [((cell["strategy"], s["scenario"]), s["verdict"], s.get("reason", ""))
                for cell in report["targets"][0]["cells"] for s in cell["scenarios"]]
    failures, matched = compare(table, expected, observed)
    for f in failures:
        print("FAIL:", f)
    print(f"expected verdicts: {matched} of {len(expected)} rows as in the table, {len(failures)} difference(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
