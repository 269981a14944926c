"""Package sources (fast tier): .crate downloads from a loopback HTTP registry, the crate
cache's integrity rules, crate-info JSON and side table, .crate extraction safety.

Cargo-backed comparisons (crate facts vs ``cargo metadata``, git checkouts vs cargo) are in
``test_sources_cargo.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path
from typing import Iterable, Sequence

import pytest
from hypothesis import given, strategies as st

from nocargo_py.errors import NocargoError
from nocargo_py.index import Registries
from nocargo_py.index.http import HttpClient
from nocargo_py.lockfile import LOCK_PATH_SOURCE, lockfile_from_graph
from nocargo_py.source import PackageId, SourceId
from nocargo_py.sources import (
    CrateDownloader,
    CrateInfo,
    LibInfo,
    crate_requests,
    download_crates,
    load_crate_info,
    read_crate_file,
    vendor_crate_info,
)
from nocargo_py.package_files import DiskFiles
from nocargo_py.sources.crate_info import extract_crate, read_crate_shape, store_crate_info
from sparse_server import RegistryBuilder, serve_registry

REPO = Path(__file__).resolve().parent.parent
CRATES_IO = SourceId.crates_io()


def _client() -> HttpClient:
    return HttpClient(backoff=0.01, timeout=5.0, retries=2)


def _registry(tmp_path: Path, n: int = 3) -> RegistryBuilder:
    b = RegistryBuilder(tmp_path / "reg")
    for i in range(n):
        b.add(f"crate{i}", "1.0.0")
    b.add("linked", "0.2.0", links="zz")  # has a build script
    return b


def _lock(builder: RegistryBuilder, *, tamper: str | None = None):
    graph, checksums = {}, {}
    app = PackageId("app", "0.1.0", LOCK_PATH_SOURCE)
    for name, entries in builder.entries.items():
        for obj in entries:
            pid = PackageId(obj["name"], obj["vers"], CRATES_IO)
            graph[pid] = []
            checksums[pid] = ("f" * 64) if name == tamper else obj["cksum"]
    graph[app] = list(graph)
    return lockfile_from_graph(graph, checksums=checksums)


def _regs(server, tmp_path: Path, **kw) -> Registries:
    return Registries(cache_root=tmp_path / "cache", crates_io_url=server.url, client=_client(), **kw)


def _cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "crates").rglob("*") if p.is_file() and ".locks" not in p.parts)


# --------------------------------------------------------------------------------------
# downloads
# --------------------------------------------------------------------------------------


def test_downloads_are_verified_cached_and_reused(tmp_path: Path) -> None:
    builder = _registry(tmp_path)
    lock = _lock(builder)
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path)
        dl = CrateDownloader(tmp_path / "cache", client=_client(), max_workers=3)
        files = download_crates(lock, regs, downloader=dl)
        assert len(files) == 4
        for pid, path in files.items():
            assert path.read_bytes() == (builder.crates_dir / f"{pid.name}-{pid.version}.crate").read_bytes()
            assert path.name == f"{pid.name}-{pid.version}.crate"
        downloads = [r for r in server.log if r.path.startswith("dl/")]
        assert sorted(r.path for r in downloads) == sorted(
            f"dl/{p.name}/{p.version}/download" for p in files)
        assert all(r.headers.get("accept-encoding") == "identity" for r in downloads)
        server.clear_log()
        again = download_crates(lock, regs, downloader=dl)
        assert again == files
        assert not [r for r in server.log if r.path.startswith("dl/")]  # all from the cache
        assert not list((tmp_path / "cache" / "crates").rglob("*.part"))


def test_checksum_mismatch_names_the_crate_and_stores_nothing(tmp_path: Path) -> None:
    builder = _registry(tmp_path, 1)
    lock = _lock(builder, tamper="crate0")
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path)
        dl = CrateDownloader(tmp_path / "cache", client=_client())
        with pytest.raises(NocargoError) as info:
            download_crates(lock, regs, downloader=dl, packages=[PackageId("crate0", "1.0.0", CRATES_IO)])
        assert info.value.message.startswith("failed to verify the checksum of `crate0 v1.0.0`")
        assert "expected (Cargo.lock): " + "f" * 64 in info.value.notes[0]
        assert _cache_files(tmp_path / "cache") == []


def test_corrupted_cache_file_is_replaced(tmp_path: Path) -> None:
    builder = _registry(tmp_path, 1)
    lock = _lock(builder)
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path)
        dl = CrateDownloader(tmp_path / "cache", client=_client())
        (req,) = crate_requests(lock, regs, packages=[PackageId("crate0", "1.0.0", CRATES_IO)])
        path = dl.fetch(req)
        path.write_bytes(b"garbage")
        server.clear_log()
        assert dl.fetch(req) == path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == req.checksum
        assert server.statuses("dl/crate0/1.0.0/download") == [200]


def test_truncated_transfer_is_retried_then_fails_without_leftovers(tmp_path: Path) -> None:
    builder = _registry(tmp_path, 1)
    lock = _lock(builder)
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path)
        dl = CrateDownloader(tmp_path / "cache", client=_client())
        (req,) = crate_requests(lock, regs, packages=[PackageId("crate0", "1.0.0", CRATES_IO)])
        path_ = "dl/crate0/1.0.0/download"
        server.inject(path_, "truncate")
        assert dl.fetch(req).is_file()  # one cut transfer, then success
        assert server.statuses(path_) == [200, 200]
        dl.path(req).unlink()
        server.inject(path_, "truncate", "truncate", "truncate")
        with pytest.raises(NocargoError) as info:
            dl.fetch(req)
        assert info.value.message.startswith("failed to download `crate0 v1.0.0` from ")
        assert "broke off" in info.value.message
        assert _cache_files(tmp_path / "cache") == []


def test_each_file_is_handed_over_as_soon_as_it_is_there(tmp_path: Path) -> None:
    """``on_file``: every file once, in the calling thread, cached ones while the downloads
    run, the downloaded ones before ``fetch_all`` returns; the result in request order."""
    import threading

    builder = _registry(tmp_path, 6)
    lock = _lock(builder)
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path)
        dl = CrateDownloader(tmp_path / "cache", client=_client(), max_workers=3)
        requests_ = crate_requests(lock, regs)
        half = requests_[::2]
        dl.fetch_all(half)  # these are cached now
        seen: list[tuple[PackageId, Path, bool]] = []
        server.clear_log()
        files = dl.fetch_all(requests_, on_file=lambda pid, path: seen.append(
            (pid, path, threading.current_thread() is threading.main_thread())))
        assert list(files) == [r.package_id for r in requests_]
        assert sorted(seen, key=str) == sorted(((pid, path, True) for pid, path in files.items()),
                                               key=str)
        cached = {r.package_id for r in half}
        assert {pid for pid, _, _ in seen[:len(half)]} == cached  # handed over first
        assert len([r for r in server.log if r.path.startswith("dl/")]) == len(requests_) - len(half)
        # nothing to download: each cached file still goes through on_file
        again: list[PackageId] = []
        dl.fetch_all(requests_, on_file=lambda pid, path: again.append(pid))
        assert sorted(again, key=str) == sorted(files, key=str)


def test_http_errors_name_the_crate(tmp_path: Path) -> None:
    builder = _registry(tmp_path, 1)
    lock = _lock(builder)
    (builder.crates_dir / "crate0-1.0.0.crate").unlink()
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path)
        dl = CrateDownloader(tmp_path / "cache", client=_client())
        with pytest.raises(NocargoError, match=r"failed to download `crate0 v1.0.0` from .*: HTTP status 404"):
            download_crates(lock, regs, downloader=dl, packages=[PackageId("crate0", "1.0.0", CRATES_IO)])


def test_offline_lists_every_missing_crate(tmp_path: Path) -> None:
    builder = _registry(tmp_path, 2)
    lock = _lock(builder)
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path)
        requests_ = crate_requests(lock, regs)
        online = CrateDownloader(tmp_path / "cache", client=_client())
        online.fetch(requests_[0])
        offline = CrateDownloader(tmp_path / "cache", offline=True)
        with pytest.raises(NocargoError) as info:
            offline.fetch_all(requests_)
        assert info.value.message == (
            "cannot download 2 crate(s) in offline mode: `crate1 v1.0.0`, `linked v0.2.0`")
        assert offline.fetch(requests_[0]) == online.path(requests_[0])


def test_missing_checksum_in_lock_is_an_error(tmp_path: Path) -> None:
    builder = _registry(tmp_path, 1)
    lock = _lock(builder)
    pid = PackageId("crate0", "1.0.0", CRATES_IO)
    no_ck = lockfile_from_graph({pid: []}, checksums={pid: None})
    with serve_registry(tmp_path / "reg") as server:
        with pytest.raises(NocargoError, match="`crate0 v1.0.0` has no checksum in Cargo.lock"):
            crate_requests(no_ck, _regs(server, tmp_path))
    assert lock.get(pid).checksum


_KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from nocargo_py.index.http import HttpClient
    from nocargo_py.source import PackageId, SourceId
    from nocargo_py.sources import CrateDownloader, CrateRequest
    dl = CrateDownloader(Path(sys.argv[1]), client=HttpClient(backoff=0.01, retries=0))
    req = CrateRequest(PackageId("big", "1.0.0", SourceId.crates_io()), sys.argv[2], sys.argv[3])
    print("start", flush=True)
    dl.fetch(req)
    print("done", flush=True)
""")


def test_killed_download_leaves_no_half_written_crate(tmp_path: Path) -> None:
    reg = tmp_path / "reg"
    (reg / "crates").mkdir(parents=True)
    payload = random.Random(7).randbytes(2_000_000)  # incompressible: half arrives at once
    (reg / "crates" / "big-1.0.0.crate").write_bytes(payload)
    checksum = hashlib.sha256(payload).hexdigest()
    script = tmp_path / "dl.py"
    script.write_text(_KILL_SCRIPT.format(repo=str(REPO)))
    cache = tmp_path / "cache"
    with serve_registry(reg) as server:
        server.slow_delay = 30
        url = f"{server.url}dl/big/1.0.0/download"
        server.inject("dl/big/1.0.0/download", "slow")
        proc = subprocess.Popen([sys.executable, str(script), str(cache), checksum, url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        parts: list[Path] = []
        while time.time() < deadline and not parts:
            parts = [p for p in cache.rglob("*.part") if p.stat().st_size > 0]
            time.sleep(0.02)
        assert parts, "the download never started writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        crate_files = [p for p in cache.rglob("*.crate")]
        assert crate_files == []  # only a .part in .tmp, never a half file in place
        # the next run cleans up and completes
        proc = subprocess.run([sys.executable, str(script), str(cache), checksum, url],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        (done,) = [p for p in cache.rglob("*.crate")]
        assert done.read_bytes() == payload
        assert not list(cache.rglob("*.part"))


def test_concurrent_downloads_use_a_bounded_pool(tmp_path: Path) -> None:
    builder = RegistryBuilder(tmp_path / "reg")
    for i in range(12):
        builder.add(f"many{i:02}", "0.1.0")
    lock = _lock(builder)
    with serve_registry(tmp_path / "reg") as server:
        server.slow_delay = 0.5
        for i in range(12):
            server.inject(f"dl/many{i:02}/0.1.0/download", "slow")
        regs = _regs(server, tmp_path)
        dl = CrateDownloader(tmp_path / "cache", client=_client(), max_workers=4)
        start = time.monotonic()
        files = download_crates(lock, regs, downloader=dl)
        elapsed = time.monotonic() - start
        assert len(files) == 12
        # 12 transfers of >= 0.5 s each with 4 workers: at least 3 rounds (bounded), and far
        # less than the 6 s of one at a time (concurrent)
        assert 1.45 < elapsed < 5.0


# --------------------------------------------------------------------------------------
# crate info: JSON, side table, extraction
# --------------------------------------------------------------------------------------

opt_text = st.one_of(st.none(), st.text(max_size=10))
libs = st.builds(LibInfo, name=st.text(min_size=1, max_size=8),
                 crate_types=st.lists(st.sampled_from(["lib", "rlib", "cdylib", "proc-macro"]), max_size=3).map(tuple),
                 src_path=st.text(min_size=1, max_size=10), edition=st.sampled_from(["2015", "2018", "2021", "2024"]),
                 proc_macro=st.booleans(), doctest=st.booleans(), test=st.booleans(), doc=st.booleans(),
                 harness=st.booleans())
infos = st.builds(CrateInfo, name=st.text(min_size=1, max_size=8), version=st.sampled_from(["0.1.0", "1.2.3-rc.1+b"]),
                  edition=st.sampled_from(["2015", "2021"]), lib=st.one_of(st.none(), libs), build=opt_text,
                  links=opt_text, rust_version=opt_text, authors=st.lists(st.text(max_size=5), max_size=3).map(tuple),
                  description=opt_text, homepage=opt_text, repository=opt_text, documentation=opt_text,
                  license=opt_text, license_file=opt_text, readme=opt_text,
                  checksum=st.one_of(st.none(), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)))


@given(info=infos)
def test_crate_info_json_round_trip(info: CrateInfo) -> None:
    assert CrateInfo.from_json(json.loads(info.to_json_line())) == info
    assert CrateInfo.from_json(info.to_json()) == info


def test_crate_info_rejects_malformed_json() -> None:
    good = CrateInfo("a", "1.0.0", "2021", None).to_json()
    for key, value in (("name", 3), ("lib", "x"), ("authors", "a"), ("schema", 99)):
        with pytest.raises(NocargoError):
            CrateInfo.from_json({**good, key: value})


def _info(name: str, version: str, checksum: str | None = None) -> CrateInfo:
    return CrateInfo(name, version, "2021", LibInfo(name.replace("-", "_"), ("lib",), "src/lib.rs", "2021"),
                     checksum=checksum)


def test_side_table_layout_merge_sort_and_checksum(tmp_path: Path) -> None:
    store_crate_info(tmp_path, [_info("serde", "1.0.10", "a" * 64), _info("serde", "1.0.9", "b" * 64)])
    store_crate_info(tmp_path, [_info("serde", "1.0.100", "c" * 64), _info("a", "0.1.0")])
    table = tmp_path / "crate-info" / "se" / "rd" / "serde"
    lines = table.read_text().splitlines()
    assert [json.loads(line)["version"] for line in lines] == ["1.0.9", "1.0.10", "1.0.100"]
    assert (tmp_path / "crate-info" / "1" / "a").is_file()
    pid = PackageId("serde", "1.0.10", CRATES_IO)
    assert load_crate_info(tmp_path, pid) == _info("serde", "1.0.10", "a" * 64)
    assert load_crate_info(tmp_path, pid, "a" * 64) is not None
    assert load_crate_info(tmp_path, pid, "d" * 64) is None  # recorded from another .crate
    assert load_crate_info(tmp_path, PackageId("serde", "2.0.0", CRATES_IO)) is None
    table.write_text(lines[0] + "\n{broken\n")
    with pytest.raises(NocargoError, match=r"serde:2: invalid crate info line"):
        load_crate_info(tmp_path, pid)


def _tarball(entries: dict[str, bytes], *, link: tuple[str, str] | None = None,
             links: Sequence[tuple[str, str]] = (), hard: Sequence[tuple[str, str]] = (),
             special: Sequence[str] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            if name.endswith("/"):  # a directory entry (cargo writes none; older tools did)
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for kind, pairs in ((tarfile.SYMTYPE, [link] if link else []), (tarfile.SYMTYPE, links),
                            (tarfile.LNKTYPE, hard)):
            for name, target in pairs:
                info = tarfile.TarInfo(name)
                info.type = kind
                info.linkname = target
                tar.addfile(info)
        for name in special:
            info = tarfile.TarInfo(name)
            info.type = tarfile.FIFOTYPE
            tar.addfile(info)
    return gzip.compress(buf.getvalue())


def _shape(crate: Path, pid: PackageId, dest: Path) -> Path:
    read_crate_shape(crate, pid)  # writes nothing
    return dest


@pytest.mark.parametrize(("entries", "links", "message"), [
    ({"x-1.0.0/Cargo.toml": b"", "other/file": b""}, {}, "which is not under `x-1.0.0`"),
    ({"x-1.0.0/Cargo.toml": b"", "/x-1.0.0/abs": b""}, {}, "not under `x-1.0.0`"),
    ({"x-1.0.0/Cargo.toml": b"", "x-1.0.0/../../evil": b""}, {}, "failed to unpack"),
    ({"x-1.0.0/Cargo.toml": b""}, {"links": [("x-1.0.0/l", "/etc/passwd")]}, "failed to unpack"),
    ({"x-1.0.0/Cargo.toml": b""}, {"links": [("x-1.0.0/l", "../../evil")]}, "failed to unpack"),
    ({"x-1.0.0/Cargo.toml": b""}, {"hard": [("x-1.0.0/h", "other/file")]},
     "hard link `x-1.0.0/h` repeats `other/file`"),
    ({"x-1.0.0/Cargo.toml": b""}, {"special": ["x-1.0.0/fifo"]}, "failed to unpack"),
    ({"x-1.0.0/src/lib.rs": b""}, {}, "has no `x-1.0.0/Cargo.toml`"),
    ({"x-1.0.0/src/lib.rs": b""}, {"links": [("x-1.0.0/Cargo.toml", "missing.toml")]},
     "has no `x-1.0.0/Cargo.toml`"),
])
@pytest.mark.parametrize("extract", [extract_crate, _shape])
def test_extract_refuses_unsafe_or_foreign_archives(tmp_path: Path, entries, links, message,
                                                    extract) -> None:
    crate = tmp_path / "x.crate"
    crate.write_bytes(_tarball(entries, **links))
    with pytest.raises(NocargoError, match=message):
        extract(crate, PackageId("x", "1.0.0", CRATES_IO), tmp_path / "out")
    assert not (tmp_path / "evil").exists()


def _probes(paths: Iterable[str]) -> list[str]:
    """Every path, its parents, what discovery asks below each, and some that are not."""
    out = {"", "missing", "missing/main.rs", "src/../src/lib.rs", "a/../../x"}
    for path in filter(None, paths):  # all relative: discovery never asks about others
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            here = "/".join(parts[:i])
            out.update({here, f"{here}/main.rs", f"{here}/x.rs", f"{here}/../a", f"{here}/."})
    return sorted(out)


def _assert_same_answers(shape, full: Path, paths: Iterable[str]) -> None:
    """``shape`` answers as the package unpacked at ``full`` does, for every question about
    the directory it was unpacked into (beyond it, the machine's files answer)."""
    disk = DiskFiles(full)
    dest = os.path.realpath(full.parent)
    for rel in _probes(paths):
        if os.path.commonpath([dest, os.path.realpath(full / rel)]) != dest:
            continue
        assert (rel, shape.exists(rel), shape.is_file(rel), shape.entries(rel)) == \
            (rel, disk.exists(rel), disk.is_file(rel), disk.entries(rel))


def test_crate_shape_reads_as_the_whole_crate(tmp_path: Path) -> None:
    """read_crate_file unpacks nothing but the manifest: target discovery's questions are
    answered from the member list, the same answers as a full extraction gives, so the
    facts are the same too."""
    from nocargo_py.sources.crate_info import crate_info_from_package
    from nocargo_py.workspace import load_standalone_package

    manifest = b'[package]\nname = "x"\nversion = "1.0.0"\nedition = "2015"\n'
    entries = {"x-1.0.0/": b"", "x-1.0.0/Cargo.toml": manifest, "x-1.0.0/build.rs": b"fn main() {}",
               "x-1.0.0/src/": b"", "x-1.0.0/src/lib.rs": b"pub fn f() {}",
               "x-1.0.0/src/tool.rs": b"", "x-1.0.0/src/sub/": b"", "x-1.0.0/src/sub/m.rs": b"",
               "x-1.0.0/src/bin/a.rs": b"", "x-1.0.0/src/bin/b/main.rs": b"fn main() {}",
               "x-1.0.0/src/bin/.hidden.rs": b"",
               "x-1.0.0/examples/e/main.rs": b"", "x-1.0.0/tests/t.rs": b"",
               "x-1.0.0/tests/data/input.txt": b"", "x-1.0.0/tests/data/main.rs/": b"",
               "x-1.0.0/benches/deep/x/y/z.rs": b"", "x-1.0.0/docs/a/b/c/README.md": b"hi"}
    crate = tmp_path / "x.crate"
    crate.write_bytes(_tarball(entries, links=[("x-1.0.0/README.md", "docs/a/b/c/README.md"),
                                               ("x-1.0.0/examples/l", "../src/bin/b"),
                                               ("x-1.0.0/benches/dangling.rs", "nowhere.rs")],
                               hard=[("x-1.0.0/src/bin/h.rs", "x-1.0.0/src/bin/a.rs")]))
    pid = PackageId("x", "1.0.0", CRATES_IO)
    read, shape = read_crate_shape(crate, pid)
    full = extract_crate(crate, pid, tmp_path / "full")
    assert read == manifest
    _assert_same_answers(shape, full, [e.split("/", 1)[1].rstrip("/") for e in entries]
                         + ["README.md", "examples/l", "benches/dangling.rs", "src/bin/h.rs"])
    assert shape.is_file("README.md") and shape.entries("examples/l") == [("main.rs", False)]
    facts = crate_info_from_package(load_standalone_package(full / "Cargo.toml", CRATES_IO), None)
    assert facts == read_crate_file(crate, pid)
    assert facts.build is not None and facts.lib is not None and facts.readme == "README.md"


_NAMES = st.sampled_from(["a", "b", "src", "main.rs", "x.rs", ".h.rs"])


@st.composite
def _archive_trees(draw):
    """Files, directory entries and symbolic links (relative targets, possibly dangling,
    looping or leaving the package) that a tar extraction can lay out."""
    paths = draw(st.lists(st.lists(_NAMES, min_size=1, max_size=3).map("/".join),
                          min_size=1, max_size=8, unique=True))
    leaves = [p for p in paths if not any(q.startswith(p + "/") for q in paths)]
    kinds = {p: draw(st.sampled_from(["file", "file", "dir", "link"])) for p in leaves}
    targets = {p: draw(st.lists(st.sampled_from(["a", "b", "src", "main.rs", "..", "."]),
                                min_size=1, max_size=3).map("/".join))
               for p, kind in kinds.items() if kind == "link"}
    return kinds, targets


@given(_archive_trees())
def test_archive_files_answer_as_the_unpacked_crate_does(tree) -> None:
    """Property: for any tree, the member list answers exists / is_file / entries exactly
    as the file system does after a full extraction (links followed the kernel's way); an
    archive the extraction refuses is refused without unpacking too."""
    import tempfile

    kinds, targets = tree
    entries = {"x-1.0.0/Cargo.toml": b'[package]\nname = "x"\nversion = "1.0.0"\n'}
    for path, kind in kinds.items():
        if kind != "link" and path != "Cargo.toml":
            entries[f"x-1.0.0/{path}" + ("/" if kind == "dir" else "")] = b""
    links = [(f"x-1.0.0/{p}", t) for p, t in targets.items()]
    pid = PackageId("x", "1.0.0", CRATES_IO)
    with tempfile.TemporaryDirectory() as tmp:
        crate = Path(tmp) / "x.crate"
        crate.write_bytes(_tarball(entries, links=links))
        try:
            full = extract_crate(crate, pid, Path(tmp) / "full")
        except NocargoError:
            with pytest.raises(NocargoError):
                read_crate_shape(crate, pid)
            return
        _, shape = read_crate_shape(crate, pid)
        _assert_same_answers(shape, full, list(kinds) + [f"{p}/{t}" for p, t in targets.items()])


@pytest.mark.parametrize(("manifest", "where", "message"), [
    (b'[package]\nname = "x"\nversion = "1.0.0"\nedition = 2021\n', ":4:", "invalid type"),
    (b'[package\nname = "x"\n', ":1:", "TOML parse error"),
    (b'[package]\n\xff', ":2:1", "valid UTF-8"),
])
def test_a_bad_manifest_in_a_crate_is_pointed_at_inside_the_crate_file(
        tmp_path: Path, manifest: bytes, where: str, message: str) -> None:
    crate = tmp_path / "x-1.0.0.crate"
    crate.write_bytes(_tarball({"x-1.0.0/Cargo.toml": manifest, "x-1.0.0/src/lib.rs": b""}))
    with pytest.raises(NocargoError) as info:
        read_crate_file(crate, PackageId("x", "1.0.0", CRATES_IO))
    headline = info.value.headline()
    assert headline.startswith(f"{crate}/x-1.0.0/Cargo.toml{where}"), headline
    assert "failed to read the manifest of `x v1.0.0`" in headline and message in headline


def test_not_a_gzip_file_is_a_clear_error(tmp_path: Path) -> None:
    crate = tmp_path / "x.crate"
    crate.write_bytes(b"not a tarball")
    with pytest.raises(NocargoError, match=r"failed to unpack the `.crate` of `x v1.0.0`"):
        read_crate_file(crate, PackageId("x", "1.0.0", CRATES_IO))


def test_vendor_crate_info_from_served_crates_then_offline(tmp_path: Path) -> None:
    builder = _registry(tmp_path, 2)
    lock = _lock(builder)
    out = tmp_path / "registry-cache"
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path)
        infos = vendor_crate_info(lock, out, registries=regs,
                                  downloader=CrateDownloader(tmp_path / "cache", client=_client()))
    by_name = {i.name: i for i in infos}
    assert set(by_name) == {"crate0", "crate1", "linked"}
    # RegistryBuilder's crates: edition 2021, src/lib.rs, and build.rs when `links` is set
    assert by_name["linked"].links == "zz" and by_name["linked"].build == "build.rs"
    assert by_name["crate0"].build is None
    assert by_name["crate0"].lib == LibInfo("crate0", ("lib",), "src/lib.rs", "2021")
    for info in infos:
        assert info.checksum == lock.find(info.name).checksum
    # offline, with an empty crate cache: everything comes from the side table
    offline = Registries(cache_root=tmp_path / "empty-cache", offline=True)
    again = vendor_crate_info(lock, out, registries=offline,
                              downloader=CrateDownloader(tmp_path / "empty-cache", offline=True))
    assert again == infos


def _many_crates(tmp_path: Path, n: int = 30) -> dict[PackageId, Path]:
    """``c0`` … ``c<n-1>``: every third with a build script, ``c7`` without a manifest and
    ``c8`` with a bad one (errors with and without a location)."""
    crates = {}
    for i in range(n):
        name = f"c{i}"
        body = f'[package]\nname = "{name}"\nversion = "1.0.0"\nedition = "2021"\n'.encode()
        entries = {f"{name}-1.0.0/Cargo.toml": body, f"{name}-1.0.0/src/lib.rs": b""}
        if i % 3 == 0:
            entries[f"{name}-1.0.0/build.rs"] = b""
        if i == 7:
            entries = {f"{name}-1.0.0/src/lib.rs": b""}
        if i == 8:
            entries[f"{name}-1.0.0/Cargo.toml"] = body + b"edition = 2021\n"
        crate = tmp_path / f"{name}-1.0.0.crate"
        crate.write_bytes(_tarball(entries))
        crates[PackageId(name, "1.0.0", CRATES_IO)] = crate
    return crates


@pytest.mark.parametrize("processes", [True, False])
def test_crate_reader_reads_in_workers_as_in_this_thread(tmp_path: Path, processes: bool) -> None:
    """Cold gen reads the downloaded crates in forked workers (Linux, enough crates): the
    same facts, and the same errors (message, location, notes), as reading them here."""
    from nocargo_py.sources.reading import CrateReader

    crates = _many_crates(tmp_path)
    with CrateReader(len(crates), processes=processes) as reader:
        assert reader.uses_processes is processes
        for pid, crate in crates.items():
            reader.submit(pid, crate, "c" * 64)
        results = reader.results()
    assert list(results) == list(crates)
    failed = []
    for pid, crate in crates.items():
        try:
            expected = read_crate_file(crate, pid, "c" * 64)
        except NocargoError as err:
            got = results[pid]
            assert isinstance(got, NocargoError)
            assert (got.headline(), got.notes) == (err.headline(), err.notes)
            failed.append((pid.name, got.location is not None))
            continue
        assert results[pid] == expected
        assert (expected.build is not None) == (int(pid.name[1:]) % 3 == 0)
    assert failed == [("c7", False), ("c8", True)]


_KILL: dict = {}  # the parent's pid and the real reader, for _dies_in_a_worker


def _dies_in_a_worker(path: Path, pid: PackageId, checksum: str | None):
    if os.getpid() != _KILL["parent"] and pid.name == "c3":
        os._exit(1)  # as if the OOM killer took the worker
    return _KILL["read"](path, pid, checksum)


def test_crate_reader_reads_here_what_a_killed_worker_could_not(tmp_path: Path,
                                                                monkeypatch) -> None:
    from nocargo_py.sources import reading

    crates = _many_crates(tmp_path)
    _KILL.update(parent=os.getpid(), read=reading._read)
    monkeypatch.setattr(reading, "_read", _dies_in_a_worker)
    with reading.CrateReader(len(crates), processes=True) as reader:
        for pid, crate in crates.items():
            reader.submit(pid, crate, None)
        results = reader.results()
    assert {pid.name: getattr(info, "name", "error") for pid, info in results.items()} == \
        {pid.name: "error" if pid.name in ("c7", "c8") else pid.name for pid in crates}
