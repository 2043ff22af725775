#!/usr/bin/env python3
"""Fails when docs/ARCHITECTURE.md's target table and Package.swift's target graph disagree.

Reads `swift package dump-package` (the manifest as SwiftPM resolves it) and the table's first two columns
(target, depends on); test targets are left out of the table on purpose.
"""
import json
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                     capture_output=True, text=True).stdout)
package = {}
for target in manifest["targets"]:
    if target["type"] == "test":
        continue
    deps = set()
    for dependency in target["dependencies"]:
        (_, value), = dependency.items()
        deps.add(value[0])
    package[target["name"]] = deps

documented = {}
for line in (root / "docs" / "ARCHITECTURE.md").read_text().splitlines():
    match = re.match(r"^\| `([A-Za-z]+)` \| ([^|]*) \|", line)
    if match:
        deps = {d.strip() for d in match.group(2).split(",") if d.strip() not in ("", "—")}
        documented[match.group(1)] = deps

problems = []
for name in sorted(set(package) | set(documented)):
    if name not in documented:
        problems.append(f"{name}: in Package.swift, missing from docs/ARCHITECTURE.md")
    elif name not in package:
        problems.append(f"{name}: in docs/ARCHITECTURE.md, not a target of Package.swift")
    elif package[name] != documented[name]:
        problems.append(f"{name}: Package.swift depends on {sorted(package[name])}, the doc says {sorted(documented[name])}")
if problems:
    print("docs/ARCHITECTURE.md does not match Package.swift:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"docs/ARCHITECTURE.md matches Package.swift ({len(package)} targets)")
