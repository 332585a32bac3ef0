#!/usr/bin/env python3
"""The partial-order reduction is sound: on every strategy x scenario of one
tmpfs directory, the reduced exhaustive search reaches the same verdicts as
the search of every interleaving (--no-reduce), within the same bounds.

usage: reduction_sound.py ILK [CAP]
Both searches run with --pct-runs 0 and --max-schedules CAP (default 300), so
that only the exhaustive walk decides. Where a search hit its cap it proves
nothing about what lies beyond: a cell is compared where both finished their
bound, or where one found a verdict that the other, finished, must then have
found too. Exit 0 when nothing differs, 1 with the differences, 77 when not
root (PID reuse, other uids and namespaces are staged as in the verdict table)."""
import json
import os
import subprocess
import sys
import tempfile
import time

SEVERITY = {"SAFE": 0, "UNSUPPORTED": 1, "ERROR": 2, "STUCK": 3, "UNSAFE": 4}


def run(ilk, d, cap, extra):
    os.makedirs(d)
    os.chmod(d, 0o755)  # some scenarios run contenders under a dedicated uid
    out = os.path.join(d, "out.json")
    t0 = time.monotonic()
    p = subprocess.run([ilk, "run", "--target", d, "--report-dir", os.path.join(d, "report"), "-q", "--no-probe",
                        "--pct-runs", "0", "--max-schedules", str(cap), "--jobs", "1", "--format", "json", "--output", out]
                       + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: ilk run {' '.join(extra)} exited {p.returncode}\n{p.stdout}")
    with open(out, encoding="utf-8") as f:
        report = json.load(f)
    cells = {}
    for cell in report["targets"][0]["cells"]:
        for s in cell["scenarios"]:
            cells[(cell["strategy"], s["scenario"])] = s
    return cells, time.monotonic() - t0


def main():
    ilk = sys.argv[1]
    cap = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    if os.geteuid() != 0:
        print("SKIP: the comparison covers the root-only scenarios too (PID reuse, other uids, namespaces)")
        return 77
    # One strategy per shape of steps: every template, the recheck of a running
    # server, the retried lock; the real servers' rows repeat lifetime-lock's
    # steps with other file names.
    chosen = []
    for s in ("legacy-pid", "tom-2004", "tom-2004+startup-lock", "hugepage-tom", "lifetime-flock", "lifetime-fcntl",
              "lifetime-ofd", "lifetime-lockf", "pg-current", "hybrid", "pg-current+recheck", "lifetime-flock-dir",
              "link-lockfile", "etcd-bbolt"):
        chosen += ["--strategy", s]
    with tempfile.TemporaryDirectory(prefix="ilk-reduction-", dir="/dev/shm") as d:
        reduced, tr = run(ilk, os.path.join(d, "reduced"), cap, chosen)
        full, tf = run(ilk, os.path.join(d, "full"), cap, chosen + ["--no-reduce"])
    failures, compared, runs_r, runs_f = [], 0, 0, 0
    for key in sorted(full):
        r, f = reduced.get(key), full[key]
        if r is None:
            failures.append(f"{key[0]} x {key[1]}: missing from the reduced run")
            continue
        vr, vf = r["verdict"], f["verdict"]
        if r["complete"] and f["complete"]:
            compared += 1
            runs_r += r["schedules"]
            runs_f += f["schedules"]
            if vr != vf:
                failures.append(f"{key[0]} x {key[1]}: reduced {vr}, every interleaving {vf} (both finished their bound)")
        elif r["complete"] and SEVERITY[vf] > SEVERITY[vr] and vf in ("UNSAFE", "STUCK"):
            compared += 1
            failures.append(f"{key[0]} x {key[1]}: reduced finished its bound with {vr}, every interleaving found {vf}")
        elif f["complete"] and SEVERITY[vr] > SEVERITY[vf] and vr in ("UNSAFE", "STUCK"):
            compared += 1
            failures.append(f"{key[0]} x {key[1]}: every interleaving finished its bound with {vf}, reduced found {vr}")
    print(f"reduced: {tr:.0f} s, every interleaving: {tf:.0f} s; {compared} of {len(full)} results comparable "
          f"(both finished their bound, cap {cap}); schedules where both finished: {runs_r} reduced, {runs_f} in all")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("PASS: the reduced search reached the same verdicts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
