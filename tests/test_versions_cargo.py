"""The version resolver against cargo: ``cargo generate-lockfile`` on synthetic registries.

Each example is a small world (see ``test_versions_support.py``) served by a loopback
sparse registry; cargo 1.95 and our resolver lock the same workspace from the same
server, and the lock files must be byte-identical — or both must fail, for the same kind
of reason (conflict, missing crate or version, links clash, missing feature).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import is_ci_profile, run_cli
from test_versions_support import (
    DepSpec,
    MemberSpec,
    VersionSpec,
    _dedupe,
    World,
    cargo_lock,
    local_registry_config,
    our_lock,
    served_world,
    worlds,
)

pytestmark = pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")


def compare_generate(world: World, keep: Path | None = None) -> tuple:
    """Lock ``world`` with both tools; ``keep``: also copy the world there (debugging)."""
    with tempfile.TemporaryDirectory(prefix="nocargo-vr-") as tmp:
        base = Path(tmp)
        with served_world(world, base) as ws:
            ours = our_lock(ws, base / "cache")
            theirs = cargo_lock(ws, base / "home")
        if not theirs.ok:
            # which conflict is reported: ask cargo again with complete index data
            (ws / ".cargo" / "config.toml").write_text(
                local_registry_config(base / "index", base))
            complete = cargo_lock(ws, base / "home-lr")
            assert not complete.ok, "cargo: sparse and local registries disagree"
            theirs = complete
        if keep is not None:
            shutil.copytree(base / "index", keep / "index", dirs_exist_ok=True)
            shutil.copytree(base / "ws", keep / "ws", dirs_exist_ok=True)
    return ours, theirs


def assert_same(world: World, ours, theirs) -> None:
    ctx = world.describe()
    if theirs.ok:
        assert ours.ok, f"cargo resolved but we failed:\n{ours.error}\n{ctx}"
        assert ours.lock == theirs.lock, f"lock files differ\n{ctx}\n--- cargo:\n{theirs.lock}\n--- ours:\n{ours.lock}"
    else:
        assert not ours.ok, f"cargo failed but we resolved:\n{theirs.error}\n{ctx}\n--- ours:\n{ours.lock}"
        assert ours.error_kind() == theirs.error_kind(), (
            f"different failures\n--- cargo:\n{theirs.error}\n--- ours:\n{ours.error}\n{ctx}")


@pytest.mark.slow
@settings(max_examples=200 if is_ci_profile() else 25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds(max_members=2))
def test_generate_lockfile_matches_cargo(world: World) -> None:
    ours, theirs = compare_generate(world)
    assert_same(world, ours, theirs)


def larger_world(seed: int, ncrates: int = 20, nversions: int = 10) -> World:
    """A bigger random registry (seeded): many versions per crate, exact pins, ranges and a
    few ``links``, so that deep backtracking happens."""
    rng = random.Random(seed)
    names = [f"k{i:02d}" for i in range(ncrates)]
    published: dict[str, list[str]] = {}
    for name in names:
        versions: set[str] = set()
        while len(versions) < nversions:
            versions.add(f"{rng.choice([0, 1, 1, 2])}.{rng.randint(0, 4)}.{rng.randint(0, 3)}")
        published[name] = sorted(versions)
    crates = []
    for i, name in enumerate(names):
        later = names[i + 1:]
        specs = []
        for version in published[name]:
            deps = []
            for _ in range(rng.randint(0, 3) if later else 0):
                target = rng.choice(later)
                op = rng.choice(["", "", "^", "~", "=", ">="])
                deps.append(DepSpec(target, op + rng.choice(published[target])))
            specs.append(VersionSpec(version, _dedupe(deps),
                                     links="L" if rng.random() < 0.05 else None))
        crates.append((name, tuple(specs)))
    root = tuple(DepSpec(t, rng.choice(["", "^", "~"]) + rng.choice(published[t]))
                 for t in rng.sample(names, 8))
    return World(tuple(crates), (MemberSpec("m0", deps=root),), "2")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(30 if is_ci_profile() else 6))
def test_larger_random_registries_match_cargo(seed: int) -> None:
    world = larger_world(seed)
    ours, theirs = compare_generate(world)
    assert_same(world, ours, theirs)


@pytest.mark.slow
def test_relock_to_the_first_matching_version_fails_like_cargo(tmp_path: Path) -> None:
    """Two versions of `c` locked (a normal dep `*` with feature `std`, a dev-dep `0.*`):
    resolving again with the lock, cargo locks `*` to the first locked match, c 0.2.3, which
    has no `std` — it fails, and so must we (found by test_versions_properties)."""
    y = dict(yanked=True, links="native")
    world = World(crates=(
        ("c", (VersionSpec("0.1.0", **y),
               VersionSpec("1.0.1", features=(("std", ()),), links="native"),
               VersionSpec("0.2.3", deps=(DepSpec("d", "*", optional=True),)))),
        ("d", (VersionSpec("0.2.3", **y),)),
    ), members=(MemberSpec("m0", deps=(DepSpec("c", "*", features=("std",), rename="c_alt"),
                                       DepSpec("c", "0.*", kind="dev", rename="c_alt"))),),
        resolver="2")
    with served_world(world, tmp_path) as ws:
        first = cargo_lock(ws, tmp_path / "home")
        assert first.ok, first.error
        (ws / "Cargo.lock").write_text(first.lock)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO")}
        env["CARGO_HOME"] = str(tmp_path / "home")
        theirs = subprocess.run(["cargo", "metadata", "--format-version", "1"], cwd=ws, env=env,
                                capture_output=True, text=True, timeout=300)
        ours = run_cli("lock", cwd=ws, env={"NOCARGO_PY_CACHE_DIR": str(tmp_path / "cache")})
    assert theirs.returncode == 101 and ours.returncode == 101, (theirs.stderr, ours.stderr)
    for text in (theirs.stderr, ours.stderr):
        assert "versions that meet the requirements `*` (locked to 0.2.3) are: 0.2.3" in text
        assert "depends on `c` with feature `std` but `c` does not have that feature." in text
    assert (ws / "Cargo.lock").read_text() == first.lock  # nothing written
