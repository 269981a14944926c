"""The sparse-index client against a real HTTP server on 127.0.0.1 (tests/sparse_server.py).

Conditional requests, fault injection (5xx, timeouts, truncated bodies, bad JSON lines,
404), authentication, the cache's integrity checks, two processes sharing one cache, and a
SIGKILLed fetch.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nocargo_py.config import Secret
from nocargo_py.index import (
    IndexCache,
    IndexFetchError,
    NoSuchCrate,
    OfflineMissing,
    Registries,
    SparseIndex,
)
from nocargo_py.index.cache import _decode
from nocargo_py.index.http import HttpClient
from nocargo_py.index.layout import index_path
from nocargo_py.source import PackageId, SourceId
from sparse_server import (
    RegistryBuilder, cargo_config_for, index_rel_path, serve_registry, top_leaf_world,
)

REPO = Path(__file__).resolve().parent.parent
CRATES_IO = SourceId.crates_io()


def _registry(tmp_path: Path, n: int = 6) -> RegistryBuilder:
    b = RegistryBuilder(tmp_path / "reg")
    for i in range(n):
        name = f"crate{i}"
        b.add(name, "0.1.0", crate=False)
        b.add(name, "1.0.0", crate=False, deps=[{"name": "crate0", "req": "^1"}] if i else [],
              features={"default": ["std"], "std": []})
    return b


def _client(**kw) -> HttpClient:
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 5.0)
    return HttpClient(**kw)


def _regs(server, cache: Path, **kw) -> Registries:
    return Registries(cache_root=cache, crates_io_url=server.url, client=kw.pop("client", None)
                      or _client(), **kw)


def test_second_run_uses_conditional_requests_etag(tmp_path):
    _registry(tmp_path)
    with serve_registry(tmp_path / "reg") as server:
        names = [f"crate{i}" for i in range(6)]
        for _ in range(2):
            regs = _regs(server, tmp_path / "cache")
            regs.get(CRATES_IO).prefetch(names)
            assert [v.version for v in regs.versions("crate3", CRATES_IO)] == ["0.1.0", "1.0.0"]
        first = server.log[:7]
        second = [r for r in server.log[7:] if r.path != "config.json"]
        assert sorted(r.status for r in first) == [200] * 7
        # config.json is always fetched in full (as cargo does), index files conditionally.
        assert [r.status for r in server.log[7:] if r.path == "config.json"] == [200]
        assert sorted(r.status for r in second) == [304] * 6
        assert all("if-none-match" in r.headers for r in second)
        assert all(r.headers.get("cargo-protocol") == "version=1" for r in server.log)


def test_conditional_requests_fall_back_to_last_modified(tmp_path):
    _registry(tmp_path, 2)
    with serve_registry(tmp_path / "reg", etag=False) as server:
        for _ in range(2):
            _regs(server, tmp_path / "cache").versions("crate1", CRATES_IO)
        second = [r for r in server.log[2:] if r.path != "config.json"]
        assert [r.status for r in second] == [304]
        assert all("if-modified-since" in r.headers and "if-none-match" not in r.headers
                   for r in second)


def test_changed_file_is_refetched(tmp_path):
    b = _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        assert len(_regs(server, tmp_path / "cache").versions("crate0", CRATES_IO)) == 2
        b.add("crate0", "1.1.0", crate=False)
        assert [v.version for v in _regs(server, tmp_path / "cache").versions(
            "crate0", CRATES_IO)] == ["0.1.0", "1.0.0", "1.1.0"]
        assert server.statuses(index_rel_path("crate0")) == [200, 200]


def test_server_errors_are_retried_then_succeed(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        path = index_rel_path("crate0")
        server.inject(path, "500", "503", "500")
        versions = _regs(server, tmp_path / "cache").versions("crate0", CRATES_IO)
        assert [v.version for v in versions] == ["0.1.0", "1.0.0"]
        assert server.statuses(path) == [500, 503, 500, 200]


def test_server_errors_beyond_the_retry_budget_fail_with_the_url(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        path = index_rel_path("crate0")
        server.inject(path, *["500"] * 10)
        regs = _regs(server, tmp_path / "cache", client=_client(retries=2))
        with pytest.raises(IndexFetchError) as info:
            regs.versions("crate0", CRATES_IO)
        assert f"{server.url}{path}" in str(info.value)
        assert "500" in str(info.value)
        assert server.statuses(path) == [500, 500, 500]


def test_timeout_is_retried(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        server.timeout_delay = 1.5
        path = index_rel_path("crate0")
        server.inject(path, "timeout")
        regs = _regs(server, tmp_path / "cache", client=_client(timeout=0.4))
        assert len(regs.versions("crate0", CRATES_IO)) == 2
        # The first (slow) answer is sent after the client gave up; the retry succeeded.
        time.sleep(server.timeout_delay)
        assert len([r for r in server.log if r.path == path]) == 2


def test_persistent_timeout_fails_clearly(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        server.timeout_delay = 1.0
        path = index_rel_path("crate0")
        server.inject(path, *["timeout"] * 5)
        regs = _regs(server, tmp_path / "cache", client=_client(timeout=0.3, retries=1))
        with pytest.raises(IndexFetchError) as info:
            regs.versions("crate0", CRATES_IO)
        assert "timed out" in str(info.value)
        assert path in str(info.value)


def test_truncated_body_is_retried_and_never_cached(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        path = index_rel_path("crate0")
        server.inject(path, "truncate")
        cache = tmp_path / "cache"
        assert len(_regs(server, cache).versions("crate0", CRATES_IO)) == 2
        assert server.statuses(path) == [200, 200]
        entry = IndexCache(cache, "sparse+" + server.url).read(path)
        assert entry is not None and entry.body == (tmp_path / "reg" / path).read_bytes()


def test_always_truncated_body_fails(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        path = index_rel_path("crate0")
        server.inject(path, *["truncate"] * 4)
        cache = tmp_path / "cache"
        with pytest.raises(IndexFetchError) as info:
            _regs(server, cache, client=_client(retries=1)).versions("crate0", CRATES_IO)
        assert "cut short" in str(info.value)
        assert IndexCache(cache, "sparse+" + server.url).read(path) is None


def test_connection_reset_is_retried(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        path = index_rel_path("crate0")
        server.inject(path, "reset")
        assert len(_regs(server, tmp_path / "cache").versions("crate0", CRATES_IO)) == 2


def test_bad_json_line_is_skipped_like_cargo(tmp_path):
    b = _registry(tmp_path, 1)
    path = tmp_path / "reg" / index_rel_path("crate0")
    good = path.read_bytes()
    # A broken line in the middle, a line cargo cannot read `vers` from, and a v3 line.
    lines = good.splitlines()
    lines.insert(1, b'{"name":"crate0","vers":"0.5.0","deps":[{"name":')
    lines.insert(2, b'{"name":"crate0","vers":"not.a.version","deps":[],"cksum":"00"}')
    lines.append(b'{"name":"crate0","vers":"2.0.0","deps":[],"cksum":"00","features":{},'
                 b'"yanked":false,"v":3}')
    path.write_bytes(b"\n".join(lines) + b"\n")
    del b
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path / "cache")
        assert [v.version for v in regs.versions("crate0", CRATES_IO)] == ["0.1.0", "1.0.0"]
        summary = regs.summary(PackageId("crate0", "1.0.0", CRATES_IO))
        assert summary.declared_features == {"default": ("std",), "std": ()}


def test_missing_crate_names_who_asked(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path / "cache")
        with pytest.raises(NoSuchCrate) as info:
            regs.versions("nosuch", CRATES_IO, required_by="package `app v0.1.0`")
        text = str(info.value)
        assert "no matching package named `nosuch` found" in text
        assert "required by package `app v0.1.0`" in text
        assert server.statuses(index_path("nosuch")) == [404]
        # 410 and 451 mean the same (cargo treats them as "not found").
        server.inject(index_path("gone"), "410")
        with pytest.raises(NoSuchCrate):
            regs.versions("gone", CRATES_IO)


def test_offline_uses_cache_and_lists_every_missing_crate(tmp_path):
    _registry(tmp_path, 3)
    with serve_registry(tmp_path / "reg") as server:
        _regs(server, tmp_path / "cache").get(CRATES_IO).prefetch(["crate0", "crate1"])
        n = len(server.log)
        offline = _regs(server, tmp_path / "cache", offline=True)
        assert len(offline.versions("crate1", CRATES_IO)) == 2
        ids = [PackageId(n_, "1.0.0", CRATES_IO) for n_ in ("crate0", "crate2", "zzz", "crate1")]
        with pytest.raises(OfflineMissing) as info:
            offline.prefetch_packages(ids)
        assert info.value.names == ("crate2", "zzz")
        assert "`crate2`, `zzz`" in str(info.value)
        assert len(server.log) == n  # nothing was fetched offline


def test_corrupted_cache_entry_is_refetched_not_trusted(tmp_path):
    _registry(tmp_path, 1)
    cache = tmp_path / "cache"
    with serve_registry(tmp_path / "reg") as server:
        _regs(server, cache).versions("crate0", CRATES_IO)
        rel = index_rel_path("crate0")
        file = IndexCache(cache, "sparse+" + server.url).path(rel)
        raw = bytearray(file.read_bytes())
        raw[-5] ^= 0x20  # flip one bit of the body: the header's sha256 no longer matches
        file.write_bytes(bytes(raw))
        assert _decode(bytes(raw)) is None
        # Offline, a corrupted entry counts as missing.
        with pytest.raises(OfflineMissing):
            _regs(server, cache, offline=True).versions("crate0", CRATES_IO)
        server.clear_log()
        versions = _regs(server, cache).versions("crate0", CRATES_IO)
        assert [v.version for v in versions] == ["0.1.0", "1.0.0"]
        req = [r for r in server.log if r.path == rel][0]
        assert req.status == 200 and "if-none-match" not in req.headers
        assert _decode(file.read_bytes()) is not None


def test_token_is_sent_only_when_needed_and_never_shown(tmp_path):
    _registry(tmp_path, 1)
    secret = "s3cr3t-token-value"
    with serve_registry(tmp_path / "reg", require_token=secret) as server:
        cache = tmp_path / "cache"
        source = SourceId.for_registry(server.index_url)
        # Without a token: a clear error, and no token shows up anywhere.
        idx = SparseIndex(source, server.url, cache=IndexCache(cache, server.index_url),
                          client=_client())
        with pytest.raises(IndexFetchError) as info:
            idx.versions("crate0")
        assert "authentication required" in str(info.value)
        idx = SparseIndex(source, server.url, cache=IndexCache(cache, server.index_url),
                          client=_client(), token=Secret(secret))
        assert len(idx.versions("crate0")) == 2
        assert secret not in repr(idx.token) and secret not in str(idx.token)
        auth = [r for r in server.log if r.path == index_rel_path("crate0") and r.status == 200]
        assert auth and auth[0].headers.get("authorization") == secret
        # config.json is fetched without credentials.
        assert all("authorization" not in r.headers for r in server.log
                   if r.path == "config.json")
        with pytest.raises(IndexFetchError) as info:
            SparseIndex(source, server.url, cache=IndexCache(tmp_path / "c2", server.index_url),
                        client=_client(), token=Secret("wrong")).versions("crate0")
        assert "wrong" not in str(info.value) and "refused" in str(info.value)


def test_dl_url_from_served_config(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path / "cache")
        assert regs.get(CRATES_IO).dl_url("crate0", "1.0.0") == \
            f"{server.url}dl/crate0/1.0.0/download"


_FETCH_SCRIPT = textwrap.dedent("""
    import sys, json
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from nocargo_py.index import Registries, HttpClient
    from nocargo_py.source import SourceId
    regs = Registries(cache_root=Path(sys.argv[1]), crates_io_url=sys.argv[2],
                      client=HttpClient(backoff=0.01, pool=4))
    idx = regs.get(SourceId.crates_io())
    idx.workers = 4
    names = sys.argv[3].split(",")
    print("start", flush=True)
    idx.prefetch(names)
    print(json.dumps({{n: [v.version for v in idx.versions(n)] for n in names}}), flush=True)
""")


def _spawn(tmp_path: Path, cache: Path, url: str, names: list[str]) -> subprocess.Popen:
    script = tmp_path / "fetch.py"
    script.write_text(_FETCH_SCRIPT.format(repo=str(REPO)))
    return subprocess.Popen([sys.executable, str(script), str(cache), url, ",".join(names)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _check_cache_consistent(cache_dir: Path, reg: Path) -> int:
    """Every entry file decodes and matches the served file; return the number of entries."""
    n = 0
    for file in cache_dir.rglob("*"):
        if not file.is_file() or file.name == ".lock" or ".tmp" in file.parts:
            continue
        entry = _decode(file.read_bytes())
        assert entry is not None, f"half-written or corrupt cache file {file}"
        rel = file.relative_to(cache_dir).as_posix()
        if entry.found and rel != "config.json":
            assert entry.body == (reg / rel).read_bytes()
        n += 1
    return n


def test_two_processes_share_one_cache(tmp_path):
    _registry(tmp_path, 24)
    names = [f"crate{i}" for i in range(24)]
    cache = tmp_path / "cache"
    with serve_registry(tmp_path / "reg") as server:
        server.slow_delay = 0.05
        for n in names:
            server.inject(index_rel_path(n), "slow", "slow")
        procs = [_spawn(tmp_path, cache, server.url, names) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, err
            result = json.loads(out.splitlines()[-1])
            assert result == {n: ["0.1.0", "1.0.0"] for n in names}
        reg_dir = IndexCache(cache, "sparse+" + server.url).dir
        assert _check_cache_consistent(reg_dir, tmp_path / "reg") == 25
        assert not list((reg_dir / ".tmp").iterdir())


def test_sigkill_mid_fetch_leaves_no_half_written_file(tmp_path):
    _registry(tmp_path, 40)
    names = [f"crate{i}" for i in range(40)]
    cache = tmp_path / "cache"
    with serve_registry(tmp_path / "reg") as server:
        server.slow_delay = 0.2
        for n in names:
            server.inject(index_rel_path(n), "slow")
        proc = _spawn(tmp_path, cache, server.url, names)
        deadline = time.time() + 30
        while time.time() < deadline and len(server.log) < 12:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        reg_dir = IndexCache(cache, "sparse+" + server.url).dir
        done = _check_cache_consistent(reg_dir, tmp_path / "reg")
        assert done < 41, "the run was expected to be killed before it finished"
        # Run again: everything is fetched, nothing half-written remains, stale temps go.
        proc = _spawn(tmp_path, cache, server.url, names)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert json.loads(out.splitlines()[-1]) == {n: ["0.1.0", "1.0.0"] for n in names}
        assert _check_cache_consistent(reg_dir, tmp_path / "reg") == 41
        assert not list((reg_dir / ".tmp").iterdir())


def test_stale_temp_files_are_removed_by_the_next_writer(tmp_path):
    _registry(tmp_path, 1)
    with serve_registry(tmp_path / "reg") as server:
        cache = IndexCache(tmp_path / "cache", "sparse+" + server.url)
        (cache.dir / ".tmp").mkdir(parents=True)
        stale = cache.dir / ".tmp" / "12345-deadbeef"
        stale.write_bytes(b"nocargo-index-cache 1\n{half")
        _regs(server, tmp_path / "cache").versions("crate0", CRATES_IO)
        assert not stale.exists()


def test_prefetch_reports_failures_after_the_rest_finished(tmp_path):
    _registry(tmp_path, 5)
    with serve_registry(tmp_path / "reg") as server:
        server.inject(index_rel_path("crate2"), *["500"] * 10)
        regs = _regs(server, tmp_path / "cache", client=_client(retries=1))
        idx = regs.get(CRATES_IO)
        with pytest.raises(IndexFetchError) as info:
            idx.prefetch([f"crate{i}" for i in range(5)])
        assert index_rel_path("crate2") in str(info.value)
        # The other four were fetched and cached; offline they are there.
        offline = _regs(server, tmp_path / "cache", offline=True)
        for i in (0, 1, 3, 4):
            assert len(offline.versions(f"crate{i}", CRATES_IO)) == 2


class _Tty:
    """A stderr stand-in that claims to be a terminal."""

    def __init__(self) -> None:
        import io
        self.buf = io.StringIO()

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        return self.buf.write(s)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("verbosity, ci, shown", [(0, False, True), (-1, False, False),
                                                  (0, True, False)])
def test_progress_bar_only_on_an_interactive_terminal(tmp_path, monkeypatch, verbosity, ci,
                                                      shown):
    from nocargo_py.shell import Shell
    _registry(tmp_path, 12)
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    stream = _Tty()
    shell = Shell(verbosity=verbosity, stream=stream)
    with serve_registry(tmp_path / "reg") as server:
        regs = _regs(server, tmp_path / "cache", shell=shell)
        regs.get(CRATES_IO).prefetch([f"crate{i}" for i in range(12)])
    assert ("Fetching index" in stream.buf.getvalue()) is shown


def test_tokens_go_only_to_their_own_registry(tmp_path):
    from nocargo_py.config import load_config
    _registry(tmp_path, 2)
    secret = "token-for-private-only"
    with serve_registry(tmp_path / "reg", require_token=secret) as private, \
            serve_registry(tmp_path / "reg") as public:
        proj = tmp_path / "proj"
        (proj / ".cargo").mkdir(parents=True)
        (proj / ".cargo" / "config.toml").write_text(
            f'[registries.private]\nindex = "{private.index_url}"\n'
            f'[source.crates-io]\nreplace-with = "mirror"\n'
            f'[source.mirror]\nregistry = "{public.index_url}"\n')
        cfg = load_config(proj, home=tmp_path / "home",
                          env={"CARGO_REGISTRIES_PRIVATE_TOKEN": secret,
                               "CARGO_REGISTRY_TOKEN": "crates-io-token"})
        regs = Registries(config=cfg, cache_root=tmp_path / "cache", client=_client())
        assert len(regs.versions("crate1", cfg.registry_source("private"))) == 2
        assert len(regs.versions("crate1", CRATES_IO)) == 2
        assert any(r.headers.get("authorization") == secret for r in private.log)
        # The mirror standing in for crates.io gets neither token.
        assert public.log and all("authorization" not in r.headers for r in public.log)


@pytest.mark.slow
def test_request_pattern_matches_cargo(tmp_path):
    """Two runs of `cargo generate-lockfile` and two runs of ours against the same server:
    the same files, the same statuses (200 then 304 for index files, config.json always in
    full) and the same conditional headers."""
    _, proj = top_leaf_world(tmp_path)

    def pattern(log) -> list:
        return sorted((r.path, r.status, "if-none-match" in r.headers,
                       r.headers.get("cargo-protocol"), r.headers.get("accept")) for r in log)

    def cargo() -> None:
        (proj / "Cargo.lock").unlink(missing_ok=True)
        _run_ok(["cargo", "generate-lockfile"], proj, env)

    def ours() -> None:
        regs = _regs(server, tmp_path / "cache")
        regs.versions("top", CRATES_IO)
        regs.versions("leaf", CRATES_IO)

    env = _cargo_env(tmp_path / "home")
    with _served_project(tmp_path, proj) as server:
        cargo_runs = _logs_of(server, cargo, pattern)
        our_runs = _logs_of(server, ours, pattern)
    assert our_runs == cargo_runs
    assert {p: s for p, s, *_ in cargo_runs[1]} == {
        "config.json": 200, index_rel_path("top"): 304, index_rel_path("leaf"): 304}


def _cargo_env(home: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CARGO_")},
            "CARGO_HOME": str(home)}


@contextlib.contextmanager
def _served_project(tmp_path: Path, proj: Path):
    """``tmp_path/index`` served, ``proj`` pointed at it (both tools); yields the server."""
    with serve_registry(tmp_path / "index") as server:
        (proj / ".cargo").mkdir(exist_ok=True)
        (proj / ".cargo" / "config.toml").write_text(cargo_config_for(server))
        yield server


def _logs_of(server, action, pattern, times: int = 2) -> list:
    """``pattern(server.log)`` after each of ``times`` runs of ``action``."""
    out = []
    for _ in range(times):
        server.clear_log()
        action()
        out.append(pattern(server.log))
    return out


def _run_ok(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_up_to_date_lock_sends_nothing_as_cargo_metadata(tmp_path):
    """With the lock up to date and every locked version cached, `cargo metadata` sends no
    request at all (config.json included: "using local … as user did not request
    update"), and neither does our `gen`; both ask on their first run."""
    _, proj = top_leaf_world(tmp_path)
    env = _cargo_env(tmp_path / "home")
    ours_env = {**env, "NOCARGO_PY_CACHE_DIR": str(tmp_path / "cache")}

    def paths(log) -> list:
        return sorted(r.path for r in log)

    with _served_project(tmp_path, proj) as server:
        cargo_runs = _logs_of(server, lambda: _run_ok(
            ["cargo", "metadata", "--format-version", "1"], proj, env), paths)
        our_runs = _logs_of(server, lambda: _run_ok(
            [sys.executable, "-m", "nocargo_py", "gen"], proj, ours_env), paths)
    index_files = {"config.json", index_rel_path("top"), index_rel_path("leaf")}
    assert index_files <= set(cargo_runs[0]) and index_files <= set(our_runs[0])
    assert cargo_runs[1] == our_runs[1] == []


def test_sparse_registry_fixture(sparse_registry, tmp_path):
    builder, server = sparse_registry
    builder.add("Foo", "1.0.0", features={"x": ["dep:bar"]},
                deps=[{"name": "bar", "req": "^1", "optional": True}])
    regs = _regs(server, tmp_path / "cache")
    s = regs.summary(PackageId("Foo", "1.0.0", CRATES_IO))
    assert s.declared_features == {"x": ("dep:bar",)} and s.dependencies[0].optional
    crate = regs.get(CRATES_IO).dl_url("Foo", "1.0.0")
    import hashlib
    import requests
    body = requests.get(crate, timeout=10).content
    assert hashlib.sha256(body).hexdigest() == s.checksum


def test_a_client_that_sends_nothing_never_imports_requests() -> None:
    """requests (urllib3, ssl, idna...) costs ~0.1 s of CPU to import: a run that finds
    everything in its cache makes a client but must not pay for it."""
    code = ("import sys; from nocargo_py.index.http import HttpClient; "
            "c = HttpClient(retries=1); c.close(); print('requests' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
