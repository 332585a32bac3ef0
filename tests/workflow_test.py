#!/usr/bin/python3
"""WorkflowFile: .github/workflows/vm-matrix.yml is never run here, so this
keeps it from rotting: it must be valid YAML of a workflow, its kernel matrix
must be the kernels ci/vm-matrix knows, and every ci/ script and option it
calls must exist."""
import re
import sys
from pathlib import Path

import yaml

repo = Path(sys.argv[1])
wf = yaml.safe_load((repo / ".github/workflows/vm-matrix.yml").read_text())
problems = []
jobs = wf.get("jobs", {})
if set(jobs) != {"kernel", "merge"}:
    problems.append(f"jobs {sorted(jobs)}, expected kernel and merge")
kernels = jobs.get("kernel", {}).get("strategy", {}).get("matrix", {}).get("kernel", [])
vm_matrix = (repo / "ci/vm-matrix").read_text()
known = re.search(r"known: ([0-9., ]+)\)", vm_matrix)
if not known or sorted(kernels) != sorted(k.strip() for k in known.group(1).split(",")):
    problems.append(f"matrix kernels {kernels}, ci/vm-matrix knows {known.group(1) if known else '?'}")
runs = "\n".join(step.get("run", "") for job in jobs.values() for step in job.get("steps", []))
for script in sorted(set(re.findall(r"\bci/[A-Za-z0-9_./-]+", runs))):
    if not (repo / script).is_file():
        problems.append(f"calls {script}, which does not exist")
# Options on a line that calls ci/vm-matrix: each one its argument parser knows (case labels).
for line in (l for l in runs.splitlines() if "ci/vm-matrix" in l):
    for option in re.findall(r"(?<!\S)(--[a-z-]+)", line):
        if not re.search(rf"(^|[|\s]){re.escape(option)}[|)]", vm_matrix, re.M):
            problems.append(f"ci/vm-matrix has no option {option}")
for p in problems:
    print(f"FAIL: WorkflowFile: {p}")
if not problems:
    print(f"PASS: WorkflowFile: jobs kernel ({', '.join(kernels)}) and merge; every ci/ script it calls exists")
sys.exit(1 if problems else 0)
