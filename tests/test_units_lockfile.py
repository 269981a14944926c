"""The Cargo.lock route on small workspaces with crates.io dependencies, against cargo.

``[patch.crates-io]`` with a local path (the patched package is loaded although it is not
a member), renamed registry dependencies, a registry dependency that is also a
build-dependency with other features, and an optional registry dependency behind a weak
feature. cargo 1.95 and ``nocargo-py plan --unit-graph`` must print equivalent unit graphs.
Needs crates.io (index data and ``.crate`` files).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from test_unit_graph_vs_cargo import equivalent, first_difference
from test_units import plan

pytestmark = [pytest.mark.slow, pytest.mark.network]

CASES = {
    "patch": {
        "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n'
                      '[dependencies]\ncfg-if = "1"\n'
                      '[patch.crates-io]\ncfg-if = { path = "cfg-if" }\n',
        "src/lib.rs": "",
        "cfg-if/Cargo.toml": '[package]\nname = "cfg-if"\nversion = "1.0.99"\nedition = "2018"\n'
                             '[features]\nextra = []\n',
        "cfg-if/src/lib.rs": "",
    },
    "registry": {
        "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n'
                      '[dependencies]\nci = { package = "cfg-if", version = "1" }\n'
                      'itoa = { version = "1", optional = true }\n'
                      'memchr = { version = "2", default-features = false }\n'
                      '[build-dependencies]\nmemchr = { version = "2", features = ["std"] }\n'
                      '[features]\ndefault = ["fast"]\nfast = ["itoa?/no-panic"]\nnum = ["dep:itoa"]\n',
        "src/main.rs": "",
        "build.rs": "",
    },
}


def _cargo(root: Path, args: list[str]) -> dict:
    env = {**os.environ, "RUSTC_BOOTSTRAP": "1", "CARGO_TERM_COLOR": "never"}
    proc = subprocess.run(["cargo", "build", "--unit-graph", "-Z", "unstable-options", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.replace(str(root), "$ROOT"))


@pytest.mark.parametrize("args", [[], ["--features", "num"], ["--release", "--target",
                                                                "aarch64-apple-darwin"]])
@pytest.mark.parametrize("case", sorted(CASES))
def test_lockfile_route_matches_cargo(case, args, tmp_path):
    root = tmp_path.resolve() / case
    for rel, text in CASES[case].items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if case == "patch" and args[:1] == ["--features"]:
        args = ["--features", "cfg-if/extra"]
    theirs = _cargo(root, args)  # writes Cargo.lock, as nocargo-py would
    home = os.environ.get("CARGO_HOME") or str(Path.home() / ".cargo")
    ours = plan(root, "build", args)
    assert "error" not in ours, ours.get("error")
    assert equivalent(ours, theirs), first_difference(ours, theirs)
    assert any(home in u["target"]["src_path"] for u in ours["units"]) == (case == "registry")
