"""Updating an existing ``Cargo.lock`` after manifests or the registry changed, vs cargo.

Cargo keeps every locked version that still fits and changes only what must change
(``register_previous_locks``: a member dependency that no longer matches anything in the
lock unlocks its source, but locked versions stay preferred). The oracle is
``cargo update --workspace``, which re-resolves with the old lock exactly as a build does
(nothing is marked for update) and writes the result.

Each example: a world that cargo can lock (``cargo generate-lockfile`` makes the old
lock), then a change — new versions published, a requirement edited, a dependency added or
removed — and both tools update the old lock from the same server.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import is_ci_profile
from sparse_server import serve_registry
from test_versions_support import (
    VERSIONS,
    VersionSpec,
    World,
    cargo_lock,
    dep_specs,
    local_registry_config,
    our_lock,
    reqs_for,
    served_world,
    set_registry_config,
    worlds,
    write_registry,
    write_workspace,
)
from test_versions_cargo import assert_same

pytestmark = pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")


@st.composite
def changes(draw, world: World):
    """A changed world: more versions published and/or one member's dependencies edited."""
    crates = dict(world.crates)
    names = [n for n, _ in world.crates]
    published = {n: [v.version for v in vs] for n, vs in world.crates}
    kind = draw(st.sampled_from(("publish+edit", "publish+edit", "publish+edit", "edit-req",
                                 "edit-req", "add-dep", "add-dep", "publish+add-dep",
                                 "remove-dep", "publish", "nothing")))
    if "publish" in kind:
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(names))
            fresh = [v for v in VERSIONS if v.split("+")[0] not in
                     {p.split("+")[0] for p in published[name]}]
            if not fresh:
                continue
            version = draw(st.sampled_from(fresh))
            later = names[names.index(name) + 1:]
            deps = tuple(draw(st.lists(dep_specs(later, allow_dev=False, versions=published),
                                       max_size=1))) if later else ()
            crates[name] = crates[name] + (VersionSpec(version, deps),)
            published[name].append(version)
    members = list(world.members)
    if "edit" in kind or "dep" in kind:
        i = draw(st.integers(0, len(members) - 1))
        m = members[i]
        deps = list(m.deps)
        if kind == "remove-dep" and len(deps) > 1:
            deps.pop(draw(st.integers(0, len(deps) - 1)))
        elif kind.endswith("add-dep"):
            new = draw(dep_specs(names, allow_dev=True, allow_rename=True, versions=published))
            if all((d.rename or d.name, d.kind, d.target) != (new.rename or new.name, new.kind, new.target)
                   for d in deps):
                deps.append(new)
        else:
            j = draw(st.integers(0, len(deps) - 1))
            deps[j] = dataclasses.replace(deps[j], req=draw(reqs_for(published[deps[j].name])))
        # features may name a removed optional dependency: keep only valid ones
        optional = {d.rename or d.name for d in deps if d.optional}
        feats = tuple((k, v) for k, v in m.features
                      if all(x.split("/")[0].removeprefix("dep:").rstrip("?") in optional
                             or "/" not in x and not x.startswith("dep:") for x in v))
        members[i] = dataclasses.replace(m, deps=tuple(deps), features=feats)
    return World(tuple(crates.items()), tuple(members), world.resolver)


def compare_update(before: World, after: World) -> tuple:
    with tempfile.TemporaryDirectory(prefix="nocargo-vu-") as tmp:
        base = Path(tmp)
        with served_world(before, base) as ws:
            first = cargo_lock(ws, base / "home0")
            if not first.ok:
                return None, None, None
            shutil.rmtree(base / "index")
            write_registry(after, base / "index")
            write_workspace(after, ws)
            old = first.lock
            ours = our_lock(ws, base / "cache")
            theirs = cargo_lock(ws, base / "home1", "update", "--workspace")
            if not theirs.ok:
                (ws / "Cargo.lock").write_text(old)
                (ws / ".cargo" / "config.toml").write_text(
                    local_registry_config(base / "index", base))
                theirs = cargo_lock(ws, base / "home-lr", "update", "--workspace")
                assert not theirs.ok, "cargo: sparse and local registries disagree"
    return old, ours, theirs


@pytest.mark.slow
@settings(max_examples=150 if is_ci_profile() else 20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much])
@given(data=st.data(), before=worlds(max_members=2, friendly=True))
def test_update_matches_cargo(data, before: World) -> None:
    after = data.draw(changes(before))
    old, ours, theirs = compare_update(before, after)
    assume(old is not None)  # cargo could not lock the first world
    assert_same(after, ours, theirs)
    names = [line for line in old.splitlines() if line.startswith("name = ")]
    if before == after and len(names) == len(set(names)):
        # an up-to-date lock file must not change (with several versions of one crate
        # cargo may move a requirement to the first matching locked version)
        assert ours.lock == old


@pytest.mark.slow
def test_the_implicit_update_of_a_build_is_the_same(tmp_path) -> None:
    """The oracle ``cargo update --workspace`` re-resolves exactly as cargo's implicit lock
    update before a build does: check once with ``cargo metadata`` (which needs the
    ``.crate`` files, served by the same loopback server)."""
    from sparse_server import RegistryBuilder

    reg = RegistryBuilder(tmp_path / "index")
    for version in ("1.0.0", "1.1.0"):
        reg.add("a", version)
    reg.add("b", "0.1.0", deps=[{"name": "a", "req": "1"}])
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "lib.rs").write_text("")
    manifest = '[package]\nname = "root"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'
    (ws / "Cargo.toml").write_text(manifest + 'a = "=1.0.0"\n')
    with serve_registry(tmp_path / "index") as server:
        set_registry_config(ws, server)
        assert cargo_lock(ws, tmp_path / "home").ok
        old = (ws / "Cargo.lock").read_text()
        reg.add("a", "1.2.0")
        reg.add("b", "0.1.1", deps=[{"name": "a", "req": "1.1"}])
        (ws / "Cargo.toml").write_text(manifest + 'a = "1"\nb = "0.1"\n')
        ours = our_lock(ws, tmp_path / "cache")
        implicit = cargo_lock(ws, tmp_path / "home", "metadata", "--format-version", "1")
        (ws / "Cargo.lock").write_text(old)
        explicit = cargo_lock(ws, tmp_path / "home2", "update", "--workspace")
    assert implicit.ok and explicit.ok, implicit.error + explicit.error
    assert implicit.lock == explicit.lock != old
    assert ours.ok and ours.lock == implicit.lock
