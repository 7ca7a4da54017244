#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""crate-src.py NAME MAJOR: the lib.rs of the locked version of crate NAME (major MAJOR)
in cargo's registry, for Kbuild (which compiles bitflags and static_assertions itself).
Runs `cargo metadata` (which fetches the sources if needed)."""
import json, subprocess, sys

name, major = sys.argv[1], sys.argv[2]
meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1"], check=True,
    capture_output=True, text=True).stdout)
for p in meta["packages"]:
    if p["name"] == name and p["version"].split(".")[0] == major:
        for t in p["targets"]:
            if "lib" in t["kind"]:
                print(t["src_path"])
                sys.exit(0)
sys.exit(f"crate-src.py: no {name} {major}.x in Cargo.lock")
