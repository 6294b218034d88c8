#!/usr/bin/env python3
"""Rewrites the table of bundled dependencies in docs/LICENSES.md.

Reads `mvn dependency:list -DincludeScope=runtime` (the default build's runtime dependencies) and
each dependency's POM in the local Maven repository for the licences it declares, following
<parent> POMs when it declares none. Run from the repository root after changing dependencies:

    python3 scripts/licenses-table.py

LicensesIT fails while a bundled jar has no row of its artifact and version.
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

DOC = "docs/LICENSES.md"
HEADER = "| dependency | version | licence (as its POM names it) |\n|---|---|---|\n"
NONE = "see the files in the jar"


def repository():
    out = subprocess.run(["mvn", "-B", "-q", "-o", "help:evaluate", "-Dexpression=settings.localRepository",
                          "-DforceStdout"], capture_output=True, text=True)
    path = out.stdout.strip()
    return path if out.returncode == 0 and os.path.isdir(path) else os.path.expanduser("~/.m2/repository")


def dependencies():
    with tempfile.NamedTemporaryFile(suffix=".txt") as f:
        subprocess.run(["mvn", "-B", "-q", "-o", "dependency:list", "-DincludeScope=runtime",
                        "-DoutputFile=" + f.name], check=True)
        lines = open(f.name, encoding="utf-8").read().splitlines()
    deps = set()
    for line in lines:
        parts = line.strip().split(" ")[0].split(":")
        if len(parts) >= 5:   # group:artifact:type[:classifier]:version:scope
            deps.add((parts[0], parts[1], parts[-2]))
    return sorted(deps, key=lambda d: (d[0] + ":" + d[1]).lower())


def strip(tag):
    return tag.split("}")[-1]


def child(node, name):
    for c in node:
        if strip(c.tag) == name:
            return c
    return None


def licences(repo, group, artifact, version, depth=0):
    pom = os.path.join(repo, *group.split("."), artifact, version, f"{artifact}-{version}.pom")
    if depth > 10 or not os.path.isfile(pom):
        return []
    root = ET.parse(pom).getroot()
    found = child(root, "licenses")
    if found is not None:
        names = [(child(l, "name").text or "").strip() for l in found if child(l, "name") is not None]
        names = [n for n in names if n]
        if names:
            return names
    parent = child(root, "parent")
    if parent is None:
        return []
    return licences(repo, child(parent, "groupId").text.strip(), child(parent, "artifactId").text.strip(),
                    child(parent, "version").text.strip(), depth + 1)


def main():
    repo = repository()
    rows = []
    for group, artifact, version in dependencies():
        names = licences(repo, group, artifact, version)
        text = " / ".join(dict.fromkeys(" ".join(n.split()) for n in names)) or NONE
        rows.append(f"| {group}:{artifact} | {version} | {text.replace('|', '/')} |\n")
    doc = open(DOC, encoding="utf-8").read()
    start = doc.index(HEADER)
    end = start + len(HEADER)
    while end < len(doc) and doc.startswith("| ", end):
        end = doc.index("\n", end) + 1
    open(DOC, "w", encoding="utf-8").write(doc[:start] + HEADER + "".join(rows) + doc[end:])
    print(f"{DOC}: {len(rows)} dependencies", file=sys.stderr)


if __name__ == "__main__":
    main()
