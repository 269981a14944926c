"""Lock generation with ``[patch]``, ``[replace]``, path, git and several registries — and
the unresolvable situations — against cargo 1.95 on the same data.

Each test builds a small registry (served on 127.0.0.1), a workspace and, where needed, a
local git repository; cargo and our resolver lock it (``cargo generate-lockfile``, or
``cargo update --workspace`` to update an existing lock), and the lock files must be
byte-identical — or both must fail for the same reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cargo_registry import git
from sparse_server import RegistryBuilder, serve_registry
from test_versions_support import (
    cargo_lock,
    error_kind,
    local_registry_config,
    our_lock,
    set_registry_config,
)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")]


class Setup:
    """A registry, a workspace directory and helpers to write packages."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.index = base / "index"
        self.reg = RegistryBuilder(self.index)
        self.ws = base / "ws"
        self.ws.mkdir()
        self.runs = 0
        self.lock_config_extra = ""  # more `.cargo/config.toml` text (e.g. [registries])

    def publish(self, name: str, version: str, deps=(), **kw) -> None:
        import hashlib
        cksum = hashlib.sha256(f"{name}-{version}".encode()).hexdigest()
        self.reg.add(name, version, deps=[{"name": d[0], "req": d[1], **(d[2] if len(d) > 2 else {})}
                                          for d in deps],
                     crate=False, extra={"cksum": cksum}, **kw)

    def package(self, rel: str, text: str) -> Path:
        d = self.ws / rel if rel else self.ws
        (d / "src").mkdir(parents=True, exist_ok=True)
        (d / "src" / "lib.rs").write_text("")
        (d / "Cargo.toml").write_text(text)
        return d

    def lock(self, *cargo_args: str, keep: bool = False):
        """(ours, cargo's) — fresh unless ``keep`` (then both update the existing lock)."""
        self.runs += 1
        lock = self.ws / "Cargo.lock"
        old = lock.read_text() if lock.exists() else None
        if not keep and old is not None:
            lock.unlink()
            old = None
        self.index.mkdir(exist_ok=True)
        with serve_registry(self.index) as server:
            set_registry_config(self.ws, server)
            config = self.ws / ".cargo" / "config.toml"
            config.write_text(config.read_text() + self.lock_config_extra)
            ours = our_lock(self.ws, self.base / f"cache{self.runs}")
            theirs = cargo_lock(self.ws, self.base / f"home{self.runs}", *cargo_args)
        if not theirs.ok:
            if old is not None:
                lock.write_text(old)
            (self.ws / ".cargo" / "config.toml").write_text(
                local_registry_config(self.index, self.base / f"lr{self.runs}")
                + self.lock_config_extra)
            theirs = cargo_lock(self.ws, self.base / f"home-lr{self.runs}", *cargo_args)
            assert not theirs.ok
        return ours, theirs


def same(ours, theirs) -> str:
    """Assert both agree; return the lock text (or the error)."""
    if theirs.ok:
        assert ours.ok, f"cargo locked, we failed:\n{ours.error}\n--- cargo:\n{theirs.lock}"
        assert ours.lock == theirs.lock, f"--- cargo:\n{theirs.lock}\n--- ours:\n{ours.lock}"
        return ours.lock
    assert not ours.ok, f"cargo failed, we locked:\n{theirs.error}\n--- ours:\n{ours.lock}"
    assert ours.error_kind() == theirs.error_kind(), f"--- cargo:\n{theirs.error}\n--- ours:\n{ours.error}"
    return ours.error


ROOT = '[package]\nname = "root"\nversion = "0.1.0"\nedition = "2021"\n'


@pytest.fixture
def setup(tmp_path):
    return Setup(tmp_path)


def test_patch_with_a_path_package_is_used_everywhere(setup):
    setup.publish("a", "1.0.0")
    setup.publish("a", "1.1.0")
    setup.publish("b", "1.0.0", [("a", "^1.0")])
    setup.package("patched/a", '[package]\nname = "a"\nversion = "1.0.5"\nedition = "2021"\n')
    setup.package("", ROOT + '[dependencies]\na = "1"\nb = "1"\n\n[patch.crates-io]\na = { path = "patched/a" }\n')
    lock = same(*setup.lock())
    assert '[[package]]\nname = "a"\nversion = "1.0.5"\n\n' in lock
    # unchanged world: the update keeps it byte for byte
    assert same(*setup.lock("update", "--workspace", keep=True)) == lock


def test_unused_patch_is_recorded(setup):
    setup.publish("a", "1.0.0")
    setup.publish("a", "2.0.0")
    setup.package("patched/a", '[package]\nname = "a"\nversion = "2.0.0"\nedition = "2021"\n')
    setup.package("", ROOT + '[dependencies]\na = "1"\n\n[patch.crates-io]\na = { path = "patched/a" }\n')
    lock = same(*setup.lock())
    assert "[[patch.unused]]" in lock
    assert same(*setup.lock("update", "--workspace", keep=True)) == lock


def test_patch_of_an_alternative_registry_and_renamed_patches(setup):
    setup.publish("a", "1.0.0")
    setup.publish("a", "2.0.0")
    setup.package("p1", '[package]\nname = "a"\nversion = "1.0.9"\nedition = "2021"\n')
    setup.package("p2", '[package]\nname = "a"\nversion = "2.0.9"\nedition = "2021"\n')
    setup.package("", ROOT + '[dependencies]\na1 = { package = "a", version = "1" }\na2 = { package = "a", version = "2" }\n\n'
                  '[patch.crates-io]\na = { path = "p1" }\na-two = { path = "p2", package = "a" }\n')
    same(*setup.lock())


def test_replace_records_the_replacement(setup):
    setup.publish("a", "1.0.0")
    setup.publish("a", "1.0.1")
    setup.publish("b", "0.3.0", [("a", "=1.0.0")])
    setup.package("repl/a", '[package]\nname = "a"\nversion = "1.0.0"\nedition = "2021"\n')
    setup.package("", ROOT + '[dependencies]\nb = "0.3"\n\n[replace]\n"a:1.0.0" = { path = "repl/a" }\n')
    lock = same(*setup.lock())
    assert 'replace = "a 1.0.0"' in lock
    assert same(*setup.lock("update", "--workspace", keep=True)) == lock


def _git_package(repo: Path, version: str, deps: str = "") -> str:
    repo.mkdir(parents=True, exist_ok=True)
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    (repo / "src").mkdir(exist_ok=True)
    (repo / "src" / "lib.rs").write_text(f"// {version}\n")
    (repo / "Cargo.toml").write_text(
        f'[package]\nname = "g"\nversion = "{version}"\nedition = "2021"\n\n[dependencies]\n{deps}')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", version)
    return git(repo, "rev-parse", "HEAD")


def test_git_dependency_locks_the_branch_head_and_keeps_it(setup):
    setup.publish("a", "1.0.0")
    setup.publish("a", "1.2.0")
    repo = setup.base / "repo"
    first = _git_package(repo, "0.1.0", 'a = "1"\n')
    url = repo.as_uri()
    setup.package("", ROOT + f'[dependencies]\ng = {{ git = "{url}", branch = "main" }}\n'
                  f'g2 = {{ git = "{url}", package = "g" }}\n')
    lock = same(*setup.lock())
    assert f"?branch=main#{first}" in lock
    # a new commit on the branch: an existing lock keeps the locked commit
    _git_package(repo, "0.2.0", 'a = "1"\n')
    assert same(*setup.lock("update", "--workspace", keep=True)) == lock


def test_path_dependency_with_a_version_that_does_not_match(setup):
    setup.package("dep", '[package]\nname = "dep"\nversion = "0.2.0"\nedition = "2021"\n')
    setup.package("", ROOT + '[dependencies]\ndep = { path = "dep", version = "0.1" }\n')
    text = same(*setup.lock())
    assert error_kind(text) == "no-version"


def test_conflicting_exact_requirements(setup):
    setup.publish("a", "1.0.0")
    setup.publish("a", "1.1.0")
    setup.publish("b", "1.0.0", [("a", "=1.1.0")])
    setup.package("", ROOT + '[dependencies]\na = "=1.0.0"\nb = "1"\n')
    text = same(*setup.lock())
    assert "failed to select a version for `a`" in text and "b v1.0.0" in text


def test_missing_crate(setup):
    setup.publish("a", "1.0.0", [("nope", "1")])
    setup.package("", ROOT + '[dependencies]\na = "1"\n')
    text = same(*setup.lock())
    assert "no matching package named `nope` found" in text and "required by package `a v1.0.0`" in text


def test_links_clash(setup):
    setup.publish("x-sys", "1.0.0", links="x")
    setup.publish("y-sys", "1.0.0", links="x")
    setup.package("", ROOT + '[dependencies]\nx-sys = "1"\ny-sys = "1"\n')
    text = same(*setup.lock())
    assert 'links to the native library `x`' in text


def test_links_clash_is_avoided_by_backtracking(setup):
    setup.publish("x-sys", "1.0.0", links="x")
    setup.publish("y-sys", "1.0.0")
    setup.publish("y-sys", "1.1.0", links="x")
    setup.package("", ROOT + '[dependencies]\nx-sys = "1"\ny-sys = "1"\n')
    lock = same(*setup.lock())
    assert 'name = "y-sys"\nversion = "1.0.0"' in lock


def test_yanked_versions_only_when_locked(setup):
    setup.publish("a", "1.0.0")
    setup.publish("a", "1.1.0")
    setup.package("", ROOT + '[dependencies]\na = "1"\n')
    lock = same(*setup.lock())
    assert 'version = "1.1.0"' in lock
    # 1.1.0 gets yanked: the existing lock keeps it, a fresh lock avoids it
    path = setup.index / "1" / "a"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"yanked":false', '"yanked":true')
    path.write_text("\n".join(lines) + "\n")
    assert same(*setup.lock("update", "--workspace", keep=True)) == lock
    fresh = same(*setup.lock())
    assert 'version = "1.0.0"' in fresh


def test_rust_version_preference_of_resolver_3(setup):
    setup.publish("a", "1.4.0", rust_version="1.56")
    setup.publish("a", "1.5.0", rust_version="1.70")
    setup.package("", '[package]\nname = "root"\nversion = "0.1.0"\nedition = "2021"\n'
                  'rust-version = "1.60"\nresolver = "3"\n\n[dependencies]\na = "1"\n')
    lock = same(*setup.lock())
    assert 'version = "1.4.0"' in lock and "version = 3\n" in lock  # rust-version 1.60: v3


@pytest.mark.parametrize("rust_version,expected", [("1.50", 2), ("1.60", 3), ("1.40", 1)])
def test_lockfile_version_follows_the_lowest_rust_version(setup, rust_version, expected):
    setup.publish("a", "1.0.0")
    setup.package("", ROOT.replace("2021", "2018") + f'rust-version = "{rust_version}"\n\n[dependencies]\na = "1"\n')
    lock = same(*setup.lock())
    marker = f"version = {expected}\n" if expected >= 3 else "[[package]]"
    assert marker in lock
    if expected < 3:
        assert "version = 3" not in lock and "version = 4" not in lock


def test_existing_older_format_is_kept_until_something_changes(setup):
    setup.publish("a", "1.0.0")
    setup.publish("b", "1.0.0")
    setup.package("", ROOT + '[dependencies]\na = "1"\n')
    lock = same(*setup.lock())
    old = lock.replace("version = 4\n", "version = 3\n")
    (setup.ws / "Cargo.lock").write_text(old)
    assert same(*setup.lock("update", "--workspace", keep=True)) == old
    (setup.ws / "Cargo.lock").write_text(old)
    setup.package("", ROOT + '[dependencies]\na = "1"\nb = "1"\n')
    assert "version = 4" in same(*setup.lock("update", "--workspace", keep=True))


def test_workspace_with_members_and_path_dependencies(setup):
    setup.publish("a", "0.1.0")
    setup.publish("a", "0.2.0")
    setup.publish("a", "1.0.0")
    setup.package("", '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n')
    setup.package("crates/one", '[package]\nname = "one"\nversion = "0.1.0"\nedition = "2021"\n\n'
                  '[dependencies]\na = "0.1"\ntwo = { path = "../two" }\n')
    setup.package("crates/two", '[package]\nname = "two"\nversion = "0.3.0"\nedition = "2021"\n\n'
                  '[dependencies]\na = "1"\n\n[dev-dependencies]\na = "0.2"\n')
    lock = same(*setup.lock())
    assert lock.count('name = "a"') == 3


def test_alternative_sparse_registry(setup):
    setup.publish("a", "1.0.0")
    alt = RegistryBuilder(setup.base / "alt")
    alt.add("x", "0.3.0", deps=[{"name": "a", "req": "1", "registry": "https://github.com/rust-lang/crates.io-index"}],
            crate=False, extra={"cksum": "ab" * 32})
    alt.add("x", "0.3.1", crate=False, extra={"cksum": "cd" * 32}, yanked=True)
    with serve_registry(setup.base / "alt") as alt_server:
        setup.package("", ROOT + '[dependencies]\nx = { version = "0.3", registry = "alt" }\na = "1"\n')
        extra = f'\n[registries.alt]\nindex = "{alt_server.index_url}"\n'
        setup.lock_config_extra = extra
        ours, theirs = setup.lock()
    lock = same(ours, theirs)
    assert f'source = "{alt_server.index_url}"' in lock and 'version = "0.3.0"' in lock


def test_patch_whose_version_changed_is_unlocked(setup):
    setup.publish("a", "1.0.0")
    setup.publish("b", "1.0.0", [("a", "1")])
    setup.package("patched/a", '[package]\nname = "a"\nversion = "1.0.5"\nedition = "2021"\n')
    setup.package("", ROOT + '[dependencies]\nb = "1"\n\n[patch.crates-io]\na = { path = "patched/a" }\n')
    same(*setup.lock())
    setup.package("patched/a", '[package]\nname = "a"\nversion = "1.0.6"\nedition = "2021"\n')
    lock = same(*setup.lock("update", "--workspace", keep=True))
    assert 'name = "a"\nversion = "1.0.6"' in lock


def test_path_dependency_version_bump_and_removed_dependency(setup):
    setup.publish("a", "1.0.0")
    setup.publish("a", "1.1.0")
    setup.publish("c", "0.5.0")
    setup.package("local", '[package]\nname = "local"\nversion = "0.1.0"\nedition = "2021"\n\n'
                  '[dependencies]\na = "1"\nc = "0.5"\n')
    setup.package("", ROOT + '[dependencies]\nlocal = { path = "local" }\n')
    same(*setup.lock())
    setup.publish("a", "1.2.0")
    setup.package("local", '[package]\nname = "local"\nversion = "0.2.0"\nedition = "2021"\n\n'
                  '[dependencies]\na = "1"\n')
    lock = same(*setup.lock("update", "--workspace", keep=True))
    assert 'name = "local"\nversion = "0.2.0"' in lock and 'name = "c"' not in lock


@pytest.mark.parametrize("setting", ["fallback", "allow"])
def test_incompatible_rust_versions_config(setup, setting):
    setup.publish("a", "1.4.0", rust_version="1.56")
    setup.publish("a", "1.5.0", rust_version="1.70")
    resolver = "2" if setting == "fallback" else "3"
    setup.package("", '[package]\nname = "root"\nversion = "0.1.0"\nedition = "2021"\n'
                  f'rust-version = "1.60"\nresolver = "{resolver}"\n\n[dependencies]\na = "1"\n')
    setup.lock_config_extra = f'\n[resolver]\nincompatible-rust-versions = "{setting}"\n'
    lock = same(*setup.lock())
    expected = "1.4.0" if setting == "fallback" else "1.5.0"
    assert f'version = "{expected}"' in lock
