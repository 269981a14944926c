"""Properties of every lock the version resolver writes (fast tier; no cargo needed).

For hypothesis-made registries and workspaces (``test_versions_support.worlds``), resolved
from a vendored index directory:

* the lock satisfies every rule cargo enforces: each locked registry package exists and is
  not yanked (nothing was locked before); at most one version per name, semver class and
  source; no two packages with the same ``links``; every non-optional dependency of every
  locked package has an edge to a package whose version matches the requirement, and every
  edge is such a match;
* locking again with the result as the old lock keeps those rules, and changes nothing
  when every crate has one version in the lock (with several versions of one crate cargo
  itself may move a requirement to the lowest matching locked version on the second run —
  checked against cargo in ``test_lock_update_cargo.py``);
* failures are :class:`NocargoError` s (never another exception), with an explanation.

The agreement with cargo itself is tested in ``test_versions_cargo.py`` (slow tier).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocargo_py.errors import NocargoError
from nocargo_py.index.directory import DirectoryIndex
from nocargo_py.index.registries import Registries
from nocargo_py.lockfile import parse_lockfile
from nocargo_py.resolve.lockgen import lock_workspace, registry_loader
from nocargo_py.semver_req import Version, VersionReq
from nocargo_py.shell import Shell
from nocargo_py.source import SourceId
from nocargo_py.summary import DepKind
from nocargo_py.workspace import load_workspace
from test_versions_support import World, worlds, write_registry, write_workspace


def _lock(ws_root: Path, index: Path):
    shell = Shell(verbosity=-1)
    ws = load_workspace(ws_root / "Cargo.toml", ws_root, shell)
    registries = Registries(index_dir=index, offline=True, shell=shell)
    return ws, lock_workspace(ws, registry_loader(registries))


def check_lock(world: World, ws, text: str, index: Path) -> None:
    lock = parse_lockfile(text).with_path_sources(p.package_id for p in ws.packages)
    idx = DirectoryIndex(index, SourceId.crates_io())
    classes: dict[tuple, str] = {}
    links: dict[str, str] = {}
    members = {p.package_id: p for p in ws.packages}
    for pkg in lock.packages:
        version = Version.parse(pkg.version)
        key = (pkg.name, version.compat_key, pkg.source.to_lock_string() if not pkg.is_path else "path")
        assert key not in classes, f"two versions of one semver class: {pkg.name} {classes[key]} {pkg.version}"
        classes[key] = pkg.version
        if pkg.is_path:
            local = next(p for pid, p in members.items() if pid.name == pkg.name)
            summary, allow_dev = local.summary, local in ws.members
        else:
            iv = idx.version(pkg.name, pkg.version)
            assert iv is not None, f"{pkg.name} {pkg.version} is not in the index"
            assert not iv.yanked, f"yanked {pkg.name} {pkg.version} chosen for a fresh lock"
            assert pkg.checksum == iv.cksum
            summary, allow_dev = idx.summary(pkg.name, pkg.version), False
        if summary.links:
            assert summary.links not in links, f"links {summary.links} twice"
            links[summary.links] = pkg.name
        edges = {(d.name, d.version) for d in pkg.dependencies}
        for dep in summary.dependencies:
            if dep.optional or (dep.kind is DepKind.DEV and not allow_dev):
                continue
            req = VersionReq.parse(dep.req)
            assert any(n == dep.name and req.matches(v) for n, v in edges), (
                f"{pkg.name} {pkg.version}: no edge satisfies {dep.name} {dep.req}")
        for name, version in edges:
            assert any(d.name == name and VersionReq.parse(d.req).matches(version)
                       for d in summary.dependencies if allow_dev or d.kind is not DepKind.DEV), (
                f"{pkg.name} {pkg.version}: edge to {name} {version} matches no declaration")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=st.one_of(worlds(max_members=2), worlds(max_members=3, friendly=True)))
def test_locks_satisfy_cargos_rules_and_are_stable(world: World) -> None:
    with tempfile.TemporaryDirectory(prefix="nocargo-vp-") as tmp:
        base = Path(tmp)
        write_registry(world, base / "index")
        write_workspace(world, base / "ws")
        try:
            ws, outcome = _lock(base / "ws", base / "index")
        except NocargoError as err:
            text = err.render()
            assert text.strip() and "Traceback" not in text
            return
        assert outcome.changed and outcome.created
        check_lock(world, ws, outcome.text, base / "index")
        (base / "ws" / "Cargo.lock").write_text(outcome.text)
        names = [p.name for p in outcome.lockfile.packages]
        unique = len(names) == len(set(names))
        try:
            _, again = _lock(base / "ws", base / "index")
        except NocargoError as err:
            # With several versions of a crate, cargo locks a requirement to the *first*
            # matching locked version, which may lack a feature the dependency asks for:
            # cargo then fails the same way (test_versions_cargo's
            # test_relock_to_the_first_matching_version_fails_like_cargo)
            assert not unique, err.render()
            assert "Traceback" not in err.render()
            return
        check_lock(world, ws, again.text, base / "index")
        if unique:
            # With one version per name every dependency is locked exactly, so the second
            # run must keep the file. (With several versions of a crate, cargo locks a
            # requirement to the *first* matching locked version and may move it — as here.)
            assert not again.changed
            assert again.text == outcome.text
