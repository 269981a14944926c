"""Package sources against cargo (slow), Nix (nix) and crates.io (network).

* Crate facts: tiny packages are turned into real ``.crate`` files by ``cargo package``;
  :func:`read_crate_file` must agree with ``cargo metadata`` run on the unpacked crate.
* Git: local ``file://`` repositories (a workspace with inheritance, hidden/nested/target
  directories, several refs); our checkout, package search and crate facts must agree with
  what cargo locks and reports in ``cargo metadata``.
* Nix: ``builtins.fetchGit`` with our :class:`GitFetchSpec` fetches the same tree.
* Network: two small real crates from static.crates.io.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import tomli

from cargo_registry import cargo, git, have_cargo, write_package
from nocargo_py.errors import NocargoError
from nocargo_py.lockfile import parse_lockfile
from nocargo_py.source import PackageId, SourceId
from nocargo_py.sources import CrateInfo, GitSources, find_package_in_checkout, read_crate_file

needs_cargo = pytest.mark.skipif(not have_cargo(), reason="cargo is not installed")

# --------------------------------------------------------------------------------------
# crate facts vs cargo metadata
# --------------------------------------------------------------------------------------

CRATES = {
    "proc-macro-custom": ("""[package]
name = "my-pm"
version = "0.3.1-beta.2"
edition = "2021"
authors = ["A <a@x>", "B"]
description = "desc"
license = "MIT"
repository = "https://example.com/r"
links = "foo"
rust-version = "1.70"
build = "build/main.rs"

[lib]
proc-macro = true
name = "my_pm_lib"
path = "src/mylib.rs"
doctest = false
""", {"build/main.rs": "fn main() {}\n", "src/mylib.rs": ""}),
    "edition-2015-autobuild": ("""[package]
name = "old-style"
version = "1.0.0"
homepage = "https://h.example"
documentation = "https://docs.example"
license-file = "LICENSE.txt"
""", {"src/lib.rs": "", "build.rs": "fn main() {}\n", "LICENSE.txt": "x", "README.md": "r"}),
    "build-false": ("""[package]
name = "nobuild"
version = "0.1.0"
edition = "2018"
build = false
readme = "docs/README"
""", {"src/lib.rs": "", "build.rs": "fn main() {}\n", "docs/README": "r"}),
    "cdylib": ("""[package]
name = "dy-lib"
version = "2.0.0"
edition = "2024"

[lib]
crate-type = ["cdylib", "rlib"]
test = false
""", {"src/lib.rs": ""}),
    "bin-only": ("""[package]
name = "tool"
version = "0.0.1"
edition = "2021"
""", {"src/main.rs": "fn main() {}\n"}),
    "lib-and-bins": ("""[package]
name = "both-kinds"
version = "0.5.0"
edition = "2021"

[[bin]]
name = "x"
path = "src/x.rs"
""", {"src/lib.rs": "", "src/main.rs": "fn main() {}\n", "src/x.rs": "fn main() {}\n"}),
}


def _package(tmp: Path, manifest: str, files: dict[str, str], home: Path) -> Path:
    tmp.mkdir(parents=True)
    (tmp / "Cargo.toml").write_text(manifest)
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    cargo(tmp, home, "package", "--no-verify", "--allow-dirty", "--offline")
    (crate,) = (tmp / "target" / "package").glob("*.crate")
    return crate


def _metadata(manifest: Path, home: Path) -> dict:
    proc = cargo(manifest.parent, home, "metadata", "--no-deps", "--offline", "--format-version", "1",
                 "--manifest-path", str(manifest))
    return json.loads(proc.stdout)


def _expected_from_metadata(meta_pkg: dict, root: Path, checksum: str) -> CrateInfo:
    """CrateInfo built from cargo's own report (the oracle)."""
    from nocargo_py.sources import LibInfo

    def rel(path: str) -> str:
        return Path(path).relative_to(root).as_posix()

    lib = None
    build = None
    for target in meta_pkg["targets"]:
        kinds = target["kind"]
        if kinds == ["custom-build"]:
            build = rel(target["src_path"])
        elif any(k in ("lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro") for k in kinds):
            lib = LibInfo(name=target["name"], crate_types=tuple(target["crate_types"]),
                          src_path=rel(target["src_path"]), edition=target["edition"],
                          proc_macro="proc-macro" in kinds, doctest=target["doctest"],
                          test=target["test"], doc=target["doc"], harness=lib_harness(target))
    return CrateInfo(
        name=meta_pkg["name"], version=meta_pkg["version"], edition=meta_pkg["edition"], lib=lib,
        build=build, links=meta_pkg["links"], rust_version=meta_pkg["rust_version"],
        authors=tuple(meta_pkg["authors"]), description=meta_pkg["description"],
        homepage=meta_pkg["homepage"], repository=meta_pkg["repository"],
        documentation=meta_pkg["documentation"], license=meta_pkg["license"],
        license_file=meta_pkg["license_file"], readme=meta_pkg["readme"], checksum=checksum,
        # `cargo metadata` does not report [lints]; read the published manifest's table directly
        lints=tomli.loads((root / "Cargo.toml").read_text()).get("lints", {}))


def lib_harness(target: dict) -> bool:
    return True  # `cargo metadata` does not report `harness`; every case here keeps the default


@pytest.mark.slow
@needs_cargo
@pytest.mark.parametrize("case", sorted(CRATES))
def test_crate_info_matches_cargo_metadata(tmp_path: Path, case: str) -> None:
    manifest, files = CRATES[case]
    home = tmp_path / "home"
    crate = _package(tmp_path / "src", manifest, files, home)
    declared = tomli.loads(manifest)["package"]
    name, version = declared["name"], declared["version"]
    checksum = hashlib.sha256(crate.read_bytes()).hexdigest()
    pid = PackageId(name, version, SourceId.crates_io())
    info = read_crate_file(crate, pid, checksum)
    unpacked = tmp_path / "unpacked"
    with tarfile.open(crate) as tar:
        tar.extractall(unpacked, filter="data")
    root = unpacked / f"{name}-{version}"
    meta = _metadata(root / "Cargo.toml", home)
    (meta_pkg,) = meta["packages"]
    assert info == _expected_from_metadata(meta_pkg, root, checksum)
    assert CrateInfo.from_json(info.to_json()) == info


# --------------------------------------------------------------------------------------
# git sources vs cargo
# --------------------------------------------------------------------------------------


def _workspace_repo(path: Path) -> dict[str, str]:
    """A git repository holding a workspace with inheritance and decoy packages."""
    path.mkdir(parents=True)
    (path / "Cargo.toml").write_text("""[workspace]
members = ["crates/*"]
resolver = "2"

[workspace.package]
version = "0.4.0"
edition = "2021"
authors = ["Team <t@example.invalid>"]
license = "Apache-2.0"
""")
    write_package(path / "crates" / "alpha", "alpha", "0.0.0")
    (path / "crates" / "alpha" / "Cargo.toml").write_text("""[package]
name = "alpha"
version.workspace = true
edition.workspace = true
authors.workspace = true
license.workspace = true
build = "gen.rs"

[lib]
name = "alpha_core"
""")
    (path / "crates" / "alpha" / "gen.rs").write_text("fn main() {}\n")
    write_package(path / "crates" / "beta", "beta", "1.2.3", extra='\n[dependencies]\nalpha = { path = "../alpha" }\n')
    # decoys cargo never looks at: a hidden dir, `target` next to a manifest (packages inside
    # submodules are covered by test_submodules_are_checked_out_and_flagged)
    write_package(path / ".hidden" / "gamma", "gamma", "0.1.0")
    write_package(path / "target" / "delta", "delta", "0.1.0")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A", "-f", ".")
    git(path, "commit", "-qm", "one")
    git(path, "tag", "v0.4.0")
    first = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "-b", "feat/x")
    (path / "crates" / "alpha" / "src" / "lib.rs").write_text("// feat\n")
    git(path, "commit", "-qam", "feat")
    feat = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "main")
    (path / "crates" / "beta" / "src" / "lib.rs").write_text("// main 2\n")
    git(path, "commit", "-qam", "main 2")
    # a commit on no branch at all (only reachable through a ref outside heads/tags)
    git(path, "checkout", "-q", "--detach")
    (path / "crates" / "alpha" / "src" / "lib.rs").write_text("// detached\n")
    git(path, "commit", "-qam", "detached")
    detached = git(path, "rev-parse", "HEAD")
    git(path, "update-ref", "refs/pull/7/head", detached)
    git(path, "checkout", "-q", "main")
    return {"first": first, "feat": feat, "detached": detached, "main": git(path, "rev-parse", "HEAD")}


@pytest.fixture(scope="module")
def git_scenario(tmp_path_factory):
    root = tmp_path_factory.mktemp("gitsrc")
    repo = root / "repo"
    revs = _workspace_repo(repo)
    home = root / "home"
    ws = write_package(root / "ws", "app", "0.1.0", extra=f"""
[dependencies]
alpha = {{ git = "file://{repo}", tag = "v0.4.0" }}
alpha_b = {{ package = "alpha", git = "file://{repo}", branch = "feat/x" }}
beta = {{ git = "file://{repo}" }}
alpha_r = {{ package = "alpha", git = "file://{repo}", rev = "refs/pull/7/head" }}
alpha_h = {{ package = "alpha", git = "file://{repo}", rev = "{revs['first'][:10]}" }}
""")
    cargo(ws, home, "generate-lockfile")
    meta = json.loads(cargo(ws, home, "metadata", "--format-version", "1").stdout)
    lock = parse_lockfile((ws / "Cargo.lock").read_text())
    return {"root": root, "repo": repo, "revs": revs, "home": home, "meta": meta, "lock": lock}


def _cargo_checkout_subdir(manifest_path: str) -> str:
    parts = Path(manifest_path).parts
    i = parts.index("checkouts")
    return Path(*parts[i + 3:-1]).as_posix() if len(parts) > i + 4 else ""


@pytest.mark.slow
@needs_cargo
def test_git_packages_match_cargo(git_scenario, tmp_path: Path) -> None:
    lock, meta = git_scenario["lock"], git_scenario["meta"]
    gits = [p for p in lock.packages if p.source.is_git()]
    assert len(gits) == 6  # alpha by tag, branch, 2 revs + beta (default) + alpha via beta's path dep
    sources = GitSources(tmp_path / "cache")
    meta_by_id = {}
    for mp in meta["packages"]:
        if mp["source"] and mp["source"].startswith("git+"):
            meta_by_id[(mp["name"], mp["version"], mp["source"])] = mp
    for pkg in gits:
        key = (pkg.name, pkg.version, pkg.source.to_metadata_string())
        mp = meta_by_id[key]
        spec = sources.fetch_spec(pkg.id)
        assert spec.rev == pkg.source.precise
        assert spec.subdir == _cargo_checkout_subdir(mp["manifest_path"])
        co, manifest = sources.locate(pkg.id)
        assert manifest == co.path / spec.subdir / "Cargo.toml"
        info = sources.crate_info(pkg.id)
        root = Path(mp["manifest_path"]).parent
        assert info == _expected_from_metadata(mp, root, None)
        # the checked-out tree is the commit's tree (cargo's checkout has the same files)
        ours = sorted(p.relative_to(co.path).as_posix() for p in co.path.rglob("*")
                      if p.is_file() and ".git" not in p.relative_to(co.path).parts
                      and p.name != ".nocargo-ok")
        theirs_root = Path(mp["manifest_path"]).parents[len(Path(spec.subdir).parts)] if spec.subdir \
            else Path(mp["manifest_path"]).parent
        theirs = sorted(p.relative_to(theirs_root).as_posix() for p in theirs_root.rglob("*")
                        if p.is_file() and ".git" not in p.relative_to(theirs_root).parts
                        and p.name not in (".cargo-ok",))
        assert ours == theirs
    revs = git_scenario["revs"]
    refs = {p.source.reference.value: (_fetch(sources, p), p.source.precise) for p in gits}
    assert refs["v0.4.0"] == (("refs/tags/v0.4.0", False), revs["first"])
    assert refs["feat/x"] == (("refs/heads/feat/x", False), revs["feat"])
    assert refs[""] == ((None, False), revs["main"])
    assert refs["refs/pull/7/head"] == (("refs/pull/7/head", False), revs["detached"])
    assert refs[revs["first"][:10]] == ((None, True), revs["first"])


def _fetch(sources: GitSources, pkg) -> tuple:
    spec = sources.fetch_spec(pkg.id)
    return spec.ref, spec.all_refs


@pytest.mark.slow
@needs_cargo
def test_decoy_packages_are_not_found_like_cargo(git_scenario, tmp_path: Path) -> None:
    repo, home = git_scenario["repo"], git_scenario["home"]
    checkout = GitSources(tmp_path / "cache").checkout(
        git_scenario["lock"].find("beta").source).path
    for name in ("gamma", "delta"):
        with pytest.raises(NocargoError, match=f"could not find `{name}`"):
            find_package_in_checkout(checkout, name)
        ws = write_package(tmp_path / f"ws-{name}", "app", "0.1.0",
                           extra=f'\n[dependencies]\n{name} = {{ git = "file://{repo}" }}\n')
        proc = cargo(ws, home, "generate-lockfile", check=False)
        assert proc.returncode != 0 and f"no matching package named `{name}` found" in proc.stderr
    with pytest.raises(NocargoError, match=r"could not find `alpha` v9\.9\.9 .*") as info:
        find_package_in_checkout(checkout, "alpha", "9.9.9")
    assert "found `alpha` with version(s) 0.4.0" in info.value.notes[0]


@pytest.mark.slow
def test_offline_checkout_uses_the_cache_only(git_scenario, tmp_path: Path) -> None:
    lock = git_scenario["lock"]
    pkg = lock.find("beta")
    GitSources(tmp_path / "cache").checkout(pkg.source)
    again = GitSources(tmp_path / "cache", offline=True).checkout(pkg.source)
    assert (again.path / ".nocargo-ok").read_text().strip() == pkg.source.precise
    missing = pkg.source.with_precise("0" * 40)
    with pytest.raises(NocargoError, match="in offline mode"):
        GitSources(tmp_path / "cache", offline=True).checkout(missing)
    with pytest.raises(NocargoError, match=r"failed to fetch commit 0{40}"):
        GitSources(tmp_path / "cache").checkout(missing)
    with pytest.raises(NocargoError, match="not locked to a full commit"):
        GitSources(tmp_path / "cache").checkout(pkg.source.with_precise(None))


@pytest.mark.slow
def test_submodules_are_checked_out_and_flagged(tmp_path: Path) -> None:
    sub = write_package(tmp_path / "sub", "subpkg", "0.1.0")
    git(sub, "init", "-q", "-b", "main")
    git(sub, "add", ".")
    git(sub, "commit", "-qm", "sub")
    top = write_package(tmp_path / "top", "top", "0.1.0")
    git(top, "init", "-q", "-b", "main")
    git(top, "-c", "protocol.file.allow=always", "submodule", "add", "-q", f"file://{sub}", "deps/sub")
    git(top, "add", ".")
    git(top, "commit", "-qm", "top")
    commit = git(top, "rev-parse", "HEAD")
    source = SourceId.for_git(f"file://{top}", SourceId.parse(f"git+file://{top}").reference, commit)
    sources = GitSources(tmp_path / "cache")
    co = sources.checkout(source)
    assert (co.path / "deps" / "sub" / "Cargo.toml").is_file()
    spec = sources.fetch_spec(PackageId("top", "0.1.0", source))
    assert spec.submodules and spec.subdir == ""
    # a package inside a submodule is not discovered (cargo: not across submodules)
    with pytest.raises(NocargoError):
        find_package_in_checkout(co.path, "subpkg")


# --------------------------------------------------------------------------------------
# Nix: builtins.fetchGit with our spec
# --------------------------------------------------------------------------------------


def _nix_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


@pytest.mark.nix
@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix is not installed")
def test_fetchgit_spec_fetches_the_locked_tree(git_scenario, tmp_path: Path) -> None:
    sources = GitSources(tmp_path / "cache")
    for pkg in git_scenario["lock"].packages:
        if not pkg.source.is_git():
            continue
        spec = sources.fetch_spec(pkg.id)
        args = []
        for key, value in spec.fetchgit_args().items():
            args.append(f"{key} = {'true' if value is True else _nix_string(value)};")
        expr = f"(builtins.fetchGit {{ {' '.join(args)} }}).outPath"
        proc = subprocess.run(
            ["nix-instantiate", "--eval", "--json", "--read-write-mode", "--option", "sandbox", "false",
             "--option", "substituters", "", "--option", "build-users-group", "", "-E", expr],
            capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "HOME": str(tmp_path)})
        assert proc.returncode == 0, proc.stderr
        store_path = Path(json.loads(proc.stdout))
        co, manifest = sources.locate(pkg.id)
        pkg_dir = store_path / spec.subdir
        assert (pkg_dir / "Cargo.toml").read_text() == manifest.read_text()
        for rel in ("src/lib.rs",):
            assert (pkg_dir / rel).read_text() == (manifest.parent / rel).read_text()


# --------------------------------------------------------------------------------------
# crates.io
# --------------------------------------------------------------------------------------


@pytest.mark.network
@needs_cargo
def test_download_two_real_crates_from_crates_io(tmp_path: Path) -> None:
    from nocargo_py.index import Registries
    from nocargo_py.lockfile import lockfile_from_graph
    from nocargo_py.sources import CrateDownloader, download_crates
    from nocargo_py.index.registries import find_version

    regs = Registries(cache_root=tmp_path / "cache")
    crates_io = SourceId.crates_io()
    wanted = [("cfg-if", "1.0.0"), ("itoa", "1.0.11")]
    graph, checksums = {}, {}
    for name, version in wanted:
        iv = find_version(regs.get(crates_io), name, version)
        assert iv is not None and iv.cksum
        pid = PackageId(name, version, crates_io)
        graph[pid] = []
        checksums[pid] = iv.cksum
    lock = lockfile_from_graph(graph, checksums=checksums)
    # the download URL follows the registry's config.json (static.crates.io on crates.io
    # itself; a mirror may say otherwise), never a hard-coded host
    import requests

    dl_template = requests.get("https://index.crates.io/config.json", timeout=30).json()["dl"]
    assert regs.get(crates_io).dl_url("cfg-if", "1.0.0").startswith(dl_template.split("{")[0])
    files = download_crates(lock, regs, downloader=CrateDownloader(tmp_path / "cache"))
    home = tmp_path / "home"
    for pid, path in files.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == checksums[pid]
        info = read_crate_file(path, pid, checksums[pid])
        unpacked = tmp_path / "unpacked"
        with tarfile.open(path) as tar:
            tar.extractall(unpacked, filter="data")
        root = unpacked / f"{pid.name}-{pid.version}"
        (meta_pkg,) = _metadata(root / "Cargo.toml", home)["packages"]
        assert info == _expected_from_metadata(meta_pkg, root, checksums[pid])


@pytest.mark.slow
@needs_cargo
def test_vendored_git_info_allows_planning_without_checkouts(git_scenario, tmp_path: Path) -> None:
    from nocargo_py.index import Registries
    from nocargo_py.sources import load_git_info, vendor_crate_info

    lock = git_scenario["lock"]
    out = tmp_path / "registry-cache"
    regs = Registries(cache_root=tmp_path / "cache", offline=True)
    sources = GitSources(tmp_path / "cache")
    infos = vendor_crate_info(lock, out, registries=regs, git=sources)
    gits = [p for p in lock.packages if p.source.is_git()]
    assert [i.name for i in infos] == [p.name for p in gits]
    for pkg in gits:
        info, spec = load_git_info(out, pkg.id)
        assert info == sources.crate_info(pkg.id)
        assert spec == sources.fetch_spec(pkg.id)
    # a second run reads the side table only: an offline GitSources with an empty cache works
    again = vendor_crate_info(lock, out, registries=regs,
                              git=GitSources(tmp_path / "empty", offline=True))
    assert again == infos
