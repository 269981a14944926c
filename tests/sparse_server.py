"""A loopback sparse-registry HTTP server for tests (and a tiny registry builder).

Serve a directory with the sparse index layout (``se/rd/serde``…) on ``127.0.0.1``::

    with SparseRegistryServer(root) as server:
        server.url          # "http://127.0.0.1:PORT/"       (index root)
        server.index_url    # "sparse+http://127.0.0.1:PORT/" (for cargo config)
        server.log          # [Request(method, path, status, headers), ...]

* ``config.json``: served from ``root`` when present, else generated with
  ``dl = "<url>dl"`` (cargo appends ``/{crate}/{version}/download``), so ``.crate``
  downloads come from the same server: ``GET /dl/NAME/VERSION/download`` serves
  ``<crates_dir>/NAME-VERSION.crate`` (``crates_dir`` defaults to ``root/../crates`` if
  given as None and ``root/crates`` exists; see :class:`RegistryBuilder`).
* Conditional requests: ``ETag`` (sha256 of the body) and ``Last-Modified`` (file mtime);
  ``If-None-Match``/``If-Modified-Since`` answer 304. ``etag=False`` / ``last_modified=False``
  turn either off.
* Faults: ``server.inject("se/rd/serde", "500", "500")`` makes the next two requests for
  that path fail before it is served normally again. Faults: ``"500"``, ``"503"``,
  ``"404"``, ``"timeout"`` (sleep ``server.timeout_delay`` seconds, then answer normally),
  ``"truncate"`` (announce the full length, send half, close), ``"reset"`` (close without
  answering), ``"slow"`` (sleep ``server.slow_delay`` between halves of the body).
* ``require_token="secret"``: requests without ``Authorization: secret`` get 401 (with
  ``config.json`` saying ``auth-required: true``).

:func:`serve_registry` is the context-manager form; ``python tests/sparse_server.py DIR``
serves a directory by hand. Use it to point cargo at a registry, e.g. for
``cargo generate-lockfile``: see :func:`cargo_config_for`.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import hashlib
import io
import json
import os
import socket
import sys
import tarfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

__all__ = [
    "RegistryBuilder",
    "Request",
    "SparseRegistryServer",
    "cargo_config_for",
    "index_rel_path",
    "serve_registry",
]


def index_rel_path(name: str) -> str:
    """The sparse-layout path of ``name`` (``se/rd/serde``), independent of the code under test."""
    lower = name.lower()
    n = len(lower)
    if n <= 2:
        return f"{n}/{lower}"
    if n == 3:
        return f"3/{lower[0]}/{lower}"
    return f"{lower[:2]}/{lower[2:4]}/{lower}"


@dataclass(frozen=True)
class Request:
    """One logged request: method, path (no leading slash), status sent, request headers."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        owner = self.server.owner
        path = self.path.split("?", 1)[0].lstrip("/")
        headers = {k.lower(): v for k, v in self.headers.items()}
        fault = owner._next_fault(path)
        if fault == "reset":
            owner._record(path, 0, headers)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "timeout":
            time.sleep(owner.timeout_delay)
        if fault in ("500", "503", "404", "410", "451"):
            self._send(int(fault), b"injected fault\n", path, headers)
            return
        if owner.require_token is not None and path != "config.json" and \
                headers.get("authorization") != owner.require_token:
            self._send(401, b"unauthorized\n", path, headers,
                       extra={"WWW-Authenticate": 'Cargo login_url="https://example.invalid"'})
            return
        body, mtime = owner._content(path)
        if body is None:
            self._send(404, b"not found\n", path, headers)
            return
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        extra: dict[str, str] = {}
        if owner.etag:
            extra["ETag"] = etag
        if owner.last_modified and mtime is not None:
            extra["Last-Modified"] = email.utils.formatdate(mtime, usegmt=True)
        inm = headers.get("if-none-match")
        ims = headers.get("if-modified-since")
        if (owner.etag and inm is not None and inm == etag) or (
                inm is None and owner.last_modified and ims is not None and mtime is not None
                and _parse_date(ims) is not None and int(mtime) <= _parse_date(ims)):
            self._send(304, b"", path, headers, extra=extra)
            return
        if fault == "truncate":
            owner._record(path, 200, headers)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "text/plain")
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body[: max(1, len(body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "slow":
            owner._record(path, 200, headers)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            with owner._lock:
                owner.slow_in_flight += 1
                owner.max_slow_in_flight = max(owner.max_slow_in_flight, owner.slow_in_flight)
            try:
                time.sleep(owner.slow_delay)
            finally:
                with owner._lock:
                    owner.slow_in_flight -= 1
            self.wfile.write(body[half:])
            return
        self._send(200, body, path, headers, extra=extra)

    def _send(self, status: int, body: bytes, path: str, headers: Mapping[str, str],
              extra: Mapping[str, str] | None = None) -> None:
        self.server.owner._record(path, status, headers)
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "text/plain")
        else:
            self.send_header("Content-Length", "0")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if status != 304 and body:
            self.wfile.write(body)


def _parse_date(text: str) -> int | None:
    try:
        return int(email.utils.parsedate_to_datetime(text).timestamp())
    except (TypeError, ValueError):
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: "SparseRegistryServer"


class SparseRegistryServer:
    """Serve ``root`` (sparse layout) on 127.0.0.1; a context manager (see module docs)."""

    def __init__(self, root: Path | str, *, crates_dir: Path | str | None = None,
                 etag: bool = True, last_modified: bool = True,
                 require_token: str | None = None, config: Mapping[str, Any] | None = None,
                 port: int = 0) -> None:
        self.root = Path(root)
        self.crates_dir = Path(crates_dir) if crates_dir is not None else self.root / "crates"
        self.etag = etag
        self.last_modified = last_modified
        self.require_token = require_token
        self.extra_config = dict(config or {})
        self.timeout_delay = 5.0
        self.slow_delay = 1.0
        self.slow_in_flight = 0      # "slow" responses being sent now …
        self.max_slow_in_flight = 0  # … and the most at one time (were fetches concurrent?)
        self.log: list[Request] = []
        self._faults: dict[str, list[str]] = {}
        self._overrides: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The index root, ``http://127.0.0.1:PORT/``."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def index_url(self) -> str:
        """``sparse+http://127.0.0.1:PORT/`` — what cargo config and lockfiles use."""
        return "sparse+" + self.url

    def start(self) -> "SparseRegistryServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "SparseRegistryServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control -----------------------------------------------------------------------
    def inject(self, path: str, *faults: str) -> None:
        """Queue ``faults`` for the next requests of ``path`` (``"*"`` matches any path)."""
        with self._lock:
            self._faults.setdefault(path.lstrip("/"), []).extend(faults)

    def set_file(self, path: str, body: bytes | None) -> None:
        """Serve ``body`` for ``path`` instead of the file on disk (``None``: back to disk)."""
        with self._lock:
            if body is None:
                self._overrides.pop(path, None)
            else:
                self._overrides[path.lstrip("/")] = body

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def statuses(self, path: str | None = None) -> list[int]:
        """Statuses sent (for one path, or all), in order."""
        with self._lock:
            return [r.status for r in self.log if path is None or r.path == path]

    # -- internals ---------------------------------------------------------------------
    def _record(self, path: str, status: int, headers: Mapping[str, str]) -> None:
        with self._lock:
            self.log.append(Request("GET", path, status, dict(headers)))

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            for key in (path, "*"):
                queue = self._faults.get(key)
                if queue:
                    return queue.pop(0)
        return None

    def _content(self, path: str) -> tuple[bytes | None, float | None]:
        with self._lock:
            override = self._overrides.get(path)
        if override is not None:
            return override, 1_700_000_000.0
        if path == "config.json" and not (self.root / "config.json").is_file():
            cfg: dict[str, Any] = {"dl": f"{self.url}dl", "api": self.url.rstrip("/")}
            if self.require_token is not None:
                cfg["auth-required"] = True
            cfg.update(self.extra_config)
            return json.dumps(cfg).encode(), 1_700_000_000.0
        if path.startswith("dl/"):
            parts = path.split("/")
            if len(parts) == 4 and parts[3] == "download":
                crate = self.crates_dir / f"{parts[1]}-{parts[2]}.crate"
                if crate.is_file():
                    return crate.read_bytes(), crate.stat().st_mtime
            return None, None
        if ".." in path.split("/") or not path:
            return None, None
        file = self.root / path
        if not file.is_file():
            return None, None
        return file.read_bytes(), file.stat().st_mtime


@contextlib.contextmanager
def serve_registry(root: Path | str, **kwargs: Any) -> Iterator[SparseRegistryServer]:
    """``with serve_registry(dir) as server: ...`` (see :class:`SparseRegistryServer`)."""
    server = SparseRegistryServer(root, **kwargs)
    with server:
        yield server


def cargo_config_for(server: SparseRegistryServer, *, replace_crates_io: bool = True) -> str:
    """A ``.cargo/config.toml`` text pointing cargo at ``server``: a ``[registries.test]``
    entry and, by default, crates.io replaced by it (so plain ``foo = "1"`` deps use it)."""
    lines = ["[registries.test]", f'index = "{server.index_url}"', ""]
    if replace_crates_io:
        lines += ["[source.crates-io]", 'replace-with = "test-registry"', "",
                  "[source.test-registry]", f'registry = "{server.index_url}"', ""]
    lines += ["[net]", "retry = 0", ""]
    return "\n".join(lines)


# -- building registries ------------------------------------------------------------------


@dataclass
class RegistryBuilder:
    """Write index lines (and optionally real ``.crate`` files) into a registry directory.

    ``add("foo", "1.0.0", deps=[{"name": "bar", "req": "^1"}], features={"x": []})`` appends
    one index line to ``root/<path of foo>``; with ``crate=True`` (default) it also writes
    ``crates/foo-1.0.0.crate`` (a minimal package with an empty ``src/lib.rs``) and uses its
    sha256 as ``cksum``, so cargo can download and build it.
    """

    root: Path
    crates_dir: Path | None = None
    entries: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        if self.crates_dir is None:
            self.crates_dir = self.root / "crates"

    def add(self, name: str, version: str, *, deps: Sequence[Mapping[str, Any]] = (),
            features: Mapping[str, Sequence[str]] | None = None, yanked: bool = False,
            links: str | None = None, rust_version: str | None = None, crate: bool = True,
            extra: Mapping[str, Any] | None = None) -> dict:
        """Publish one version; returns the index object written."""
        full_deps = [{"name": d["name"], "req": d.get("req", "*"),
                      "features": list(d.get("features", [])),
                      "optional": bool(d.get("optional", False)),
                      "default_features": bool(d.get("default_features", True)),
                      "target": d.get("target"), "kind": d.get("kind", "normal"),
                      "registry": d.get("registry"), "package": d.get("package")}
                     for d in deps]
        feats = {k: list(v) for k, v in (features or {}).items()}
        plain = {k: v for k, v in feats.items()
                 if not any(x.startswith("dep:") or "?/" in x for x in v)}
        feats2 = {k: v for k, v in feats.items() if k not in plain}
        cksum = "0" * 64
        if crate:
            assert self.crates_dir is not None
            data = _crate_tarball(name, version, full_deps, feats, links, rust_version)
            self.crates_dir.mkdir(parents=True, exist_ok=True)
            (self.crates_dir / f"{name}-{version}.crate").write_bytes(data)
            cksum = hashlib.sha256(data).hexdigest()
        obj: dict[str, Any] = {"name": name, "vers": version, "deps": full_deps,
                               "cksum": cksum, "features": plain, "yanked": yanked,
                               "links": links}
        if feats2:
            obj["features2"] = feats2
            obj["v"] = 2
        if rust_version:
            obj["rust_version"] = rust_version
        obj.update(extra or {})
        path = self.root / index_rel_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as fh:
            fh.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")
        self.entries.setdefault(name, []).append(obj)
        return obj


def top_leaf_world(base: Path) -> tuple[RegistryBuilder, Path]:
    """``base/index``: ``top 1.0.0`` depending on ``leaf ^1`` (``leaf 1.0.0``), crates
    included; ``base/ws``: a library package ``p`` depending on ``top = "1"``."""
    reg = RegistryBuilder(base / "index")
    reg.add("leaf", "1.0.0")
    reg.add("top", "1.0.0", deps=[{"name": "leaf", "req": "^1"}])
    ws = base / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "lib.rs").write_text("")
    (ws / "Cargo.toml").write_text('[package]\nname = "p"\nversion = "0.1.0"\n'
                                   'edition = "2021"\n\n[dependencies]\ntop = "1"\n')
    return reg, ws


def _toml_str(value: str) -> str:
    return json.dumps(value)


def _crate_tarball(name: str, version: str, deps: Sequence[Mapping[str, Any]],
                   features: Mapping[str, Sequence[str]], links: str | None,
                   rust_version: str | None) -> bytes:
    """A minimal ``.crate`` (gzip tar, ``NAME-VERSION/`` prefix) with a matching manifest."""
    lines = ["[package]", f"name = {_toml_str(name)}", f"version = {_toml_str(version)}",
             'edition = "2021"']
    if links:
        lines.append(f"links = {_toml_str(links)}")
    if rust_version:
        lines.append(f"rust-version = {_toml_str(rust_version)}")
    files = {"src/lib.rs": b""}
    if links:
        lines.append('build = "build.rs"')
        files["build.rs"] = b"fn main() {}\n"
    lines.append("")
    tables: dict[str, list[str]] = {}
    for d in deps:
        kind = d.get("kind") or "normal"
        table = {"normal": "dependencies", "dev": "dev-dependencies",
                 "build": "build-dependencies"}[kind]
        if d.get("target"):
            table = f"target.{_toml_str(d['target'])}.{table}"
        spec = [f"version = {_toml_str(d['req'])}"]
        if d.get("package"):
            spec.append(f"package = {_toml_str(d['package'])}")
        if d.get("optional"):
            spec.append("optional = true")
        if not d.get("default_features", True):
            spec.append("default-features = false")
        if d.get("features"):
            spec.append("features = [" + ", ".join(_toml_str(f) for f in d["features"]) + "]")
        if d.get("registry"):
            spec.append(f"registry-index = {_toml_str(d['registry'])}")
        tables.setdefault(table, []).append(f"{_toml_str(d['name'])} = {{ {', '.join(spec)} }}")
    for table, entries in tables.items():
        lines += [f"[{table}]", *entries, ""]
    if features:
        lines.append("[features]")
        lines += [f"{_toml_str(k)} = [" + ", ".join(_toml_str(x) for x in v) + "]"
                  for k, v in features.items()]
        lines.append("")
    files["Cargo.toml"] = "\n".join(lines).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for rel, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{name}-{version}/{rel}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


if __name__ == "__main__":  # pragma: no cover - manual use
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else os.getcwd())
    with serve_registry(directory, port=int(os.environ.get("PORT", "0"))) as srv:
        print(f"serving {directory} at {srv.url} (cargo: {srv.index_url})", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
