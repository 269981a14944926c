"""Test helpers: a loopback sparse registry with real ``.crate`` files, local git repos, and
a sandboxed ``cargo`` runner (own ``CARGO_HOME``, no network but 127.0.0.1).

Used by the lockfile and package-source tests (``test_lockfile_cargo.py``,
``test_sources*.py``) and by ``tests/fixtures/lockfiles/generate.py``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Sequence

CRATES_IO_INDEX = "https://github.com/rust-lang/crates.io-index"

__all__ = [
    "CRATES_IO_INDEX",
    "LocalRegistries",
    "cargo",
    "git",
    "have_cargo",
    "make_crate",
    "write_package",
]


def have_cargo() -> bool:
    return shutil.which("cargo") is not None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D401 - silence the server
        pass


def make_crate(name: str, version: str, deps: Sequence[tuple] = (), *, files: dict[str, bytes] | None = None,
               manifest: str | None = None) -> bytes:
    """A reproducible ``.crate`` (gzip tar, ``name-version/`` prefix) with a minimal manifest.

    ``deps`` are ``(name, req)`` or ``(name, req, registry_index_url)``; ``files`` adds or
    overrides files (``src/lib.rs`` is empty by default); ``manifest`` replaces Cargo.toml.
    """
    if manifest is None:
        manifest = f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2018"\n\n[dependencies]\n'
        for dep in deps:
            extra = f', registry-index = "{dep[2]}"' if len(dep) > 2 else ""
            manifest += f'{dep[0]} = {{ version = "{dep[1]}"{extra} }}\n'
    contents = {"Cargo.toml": manifest.encode(), "src/lib.rs": b""}
    contents.update(files or {})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted(contents):
            data = contents[rel]
            info = tarfile.TarInfo(f"{name}-{version}/{rel}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def _index_path(name: str) -> str:
    lower = name.lower()
    n = len(lower)
    if n <= 2:
        return f"{n}/{lower}"
    if n == 3:
        return f"3/{lower[0]}/{lower}"
    return f"{lower[0:2]}/{lower[2:4]}/{lower}"


@dataclass
class LocalRegistries:
    """Sparse registries served over HTTP from ``root``: ``cio`` (replaces crates.io) and ``alt``.

    ``home`` is a ``CARGO_HOME`` whose ``config.toml`` points crates.io at ``cio`` (source
    replacement, so lock files still say ``registry+https://github.com/rust-lang/crates.io-index``)
    and defines the alternative registry ``alt``.
    """

    root: Path
    port: int = 0
    server: ThreadingHTTPServer | None = field(default=None, repr=False)
    checksums: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def start(self) -> "LocalRegistries":
        for reg in ("cio", "alt"):
            (self.root / "reg" / reg).mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=str(self.root / "reg"))
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        for reg in ("cio", "alt"):
            (self.root / "reg" / reg / "config.json").write_text(
                json.dumps({"dl": f"{self.base_url}/{reg}/dl/{{crate}}/{{version}}"})
            )
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "config.toml").write_text(
            "[source.crates-io]\nreplace-with = \"local-cio\"\n"
            f"[source.local-cio]\nregistry = \"{self.sparse_url('cio')}\"\n"
            f"[registries.alt]\nindex = \"{self.sparse_url('alt')}\"\n"
            "[net]\nretry = 0\n"
        )
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def home(self) -> Path:
        return self.root / "cargo-home"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sparse_url(self, reg: str) -> str:
        return f"sparse+{self.base_url}/{reg}/"

    def source_string(self, reg: str) -> str:
        """How a lock file names packages of ``reg``."""
        return f"registry+{CRATES_IO_INDEX}" if reg == "cio" else self.sparse_url(reg)

    def publish(self, reg: str, name: str, version: str, deps: Iterable[tuple] = (),
                crate: bytes | None = None, *, yanked: bool = False) -> str:
        """Add a version to ``reg``'s index and serve its ``.crate``; returns the sha256.

        ``deps``: ``(name, req)`` (same registry) or ``(name, req, "cio"|"alt")``.
        """
        deps = list(deps)
        index_deps = []
        crate_deps = []
        for dep in deps:
            entry = {"name": dep[0], "req": dep[1], "features": [], "optional": False,
                     "default_features": True, "target": None, "kind": "normal"}
            other = dep[2] if len(dep) > 2 else reg
            if other != reg:
                entry["registry"] = CRATES_IO_INDEX if other == "cio" else self.sparse_url(other)
                crate_deps.append((dep[0], dep[1], entry["registry"]))
            else:
                crate_deps.append((dep[0], dep[1]))
            index_deps.append(entry)
        data = crate if crate is not None else make_crate(name, version, crate_deps)
        cksum = hashlib.sha256(data).hexdigest()
        dl = self.root / "reg" / reg / "dl" / name / version
        dl.parent.mkdir(parents=True, exist_ok=True)
        dl.write_bytes(data)
        index_file = self.root / "reg" / reg / _index_path(name)
        index_file.parent.mkdir(parents=True, exist_ok=True)
        line = {"name": name, "vers": version, "deps": index_deps, "cksum": cksum,
                "features": {}, "yanked": yanked}
        with index_file.open("a") as fh:
            fh.write(json.dumps(line) + "\n")
        self.checksums[(reg, name, version)] = cksum
        return cksum

    def __enter__(self) -> "LocalRegistries":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_GIT_ENV = {
    "GIT_AUTHOR_NAME": "nocargo test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "nocargo test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    """Run ``git -C repo ARGS`` with a fixed identity and dates; returns stdout."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
        env={**os.environ, **_GIT_ENV},
    )
    return proc.stdout.strip()


def write_package(directory: Path, name: str, version: str, *, edition: str = "2021",
                  extra: str = "", lib: bool = True) -> Path:
    """A minimal package directory (manifest + empty ``src/lib.rs``)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "src").mkdir(exist_ok=True)
    if lib:
        (directory / "src" / "lib.rs").write_text("")
    (directory / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "{edition}"\n{extra}'
    )
    return directory


def cargo(cwd: Path, home: Path, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run cargo with ``CARGO_HOME=home`` and no inherited ``CARGO_*`` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO")}
    env.update(CARGO_HOME=str(home), CARGO_TERM_COLOR="never", CARGO_NET_RETRY="0",
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    proc = subprocess.run(["cargo", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"cargo {' '.join(args)} failed:\n{proc.stderr}")
    return proc
