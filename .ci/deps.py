#!/usr/bin/env python3
"""Dependency check, in the spirit of `cargo deny check licenses sources` plus a
yanked-version check (RustSec's advisory database lives on GitHub, which CI
cannot reach; see DEPENDENCIES.md for the review that stands in for it).

For every package in Cargo.lock (`--all-features`, so that the optional
k8s-openapi of the `conformance` feature is checked too):
  - its source is crates.io (no git or path dependencies sneak in);
  - its licence expression is satisfied by the allow-list below;
  - its locked version is not yanked on crates.io (read from the sparse index).
Exit 1 with one line per finding, 0 when clean. Only the standard library.
"""

import json
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ALLOWED = {
    "MIT",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "Unicode-3.0",
    "Unlicense",
    "CC0-1.0",
    "BSL-1.0",
}
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def tokens(expr):
    # Old-style "MIT/Apache-2.0" means OR.
    expr = expr.replace("/", " OR ")
    return re.findall(r"\(|\)|[A-Za-z0-9.+-]+(?: WITH [A-Za-z0-9.+-]+)?", expr)


def satisfied(expr):
    """Evaluate an SPDX expression: OR needs one allowed side, AND needs both."""
    toks = tokens(expr)
    pos = 0

    def primary():
        nonlocal pos
        tok = toks[pos]
        pos += 1
        if tok == "(":
            value = disjunction()
            pos += 1  # ")"
            return value
        return tok in ALLOWED

    def conjunction():
        nonlocal pos
        value = primary()
        while pos < len(toks) and toks[pos] == "AND":
            pos += 1
            value = primary() and value
        return value

    def disjunction():
        nonlocal pos
        value = conjunction()
        while pos < len(toks) and toks[pos] == "OR":
            pos += 1
            value = conjunction() or value
        return value

    return disjunction()


def index_path(name):
    name = name.lower()
    if len(name) <= 2:
        return f"{len(name)}/{name}"
    if len(name) == 3:
        return f"3/{name[0]}/{name}"
    return f"{name[:2]}/{name[2:4]}/{name}"


def yanked(package):
    url = "https://index.crates.io/" + index_path(package["name"])
    with urllib.request.urlopen(url, timeout=30) as response:
        for line in response.read().decode().splitlines():
            entry = json.loads(line)
            if entry["vers"] == package["version"]:
                return entry.get("yanked", False)
    return None  # version not in the index


def selftest():
    """The check itself can fail: known expressions evaluate as SPDX says."""
    cases = {
        "MIT": True,
        "GPL-3.0-only": False,
        "MIT OR GPL-3.0-only": True,
        "(MIT OR Apache-2.0) AND GPL-3.0-only": False,
        "(MIT OR Apache-2.0) AND Unicode-3.0": True,
        "MIT/Apache-2.0": True,
        "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT": True,
        "LGPL-2.1-or-later": False,
    }
    for expr, expected in cases.items():
        assert satisfied(expr) == expected, expr
    assert index_path("ab") == "2/ab" and index_path("Serde") == "se/rd/serde"
    assert index_path("syn") == "3/s/syn"


def main():
    selftest()
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    members = set(metadata["workspace_members"])
    packages = [p for p in metadata["packages"] if p["id"] not in members]
    problems = []
    for p in packages:
        who = f"{p['name']} {p['version']}"
        if p["source"] != CRATES_IO:
            problems.append(f"{who}: source {p['source']} is not crates.io")
        if not p["license"]:
            problems.append(f"{who}: no licence declared")
        elif not satisfied(p["license"]):
            problems.append(f"{who}: licence `{p['license']}` is not allowed")
    with ThreadPoolExecutor(max_workers=16) as pool:
        for p, state in zip(packages, pool.map(yanked, packages)):
            if state is None:
                problems.append(f"{p['name']} {p['version']}: not in the crates.io index")
            elif state:
                problems.append(f"{p['name']} {p['version']}: yanked on crates.io")
    for line in problems:
        print(f"deps: {line}", file=sys.stderr)
    print(f"deps: {len(packages)} packages checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
