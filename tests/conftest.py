"""Shared test fixtures: corpus location, CLI runner, hypothesis profiles."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = (REPO_ROOT / ".." / "shared" / "corpus").resolve()
CORPUS_PROJECTS = sorted(p.name for p in CORPUS_DIR.iterdir() if p.is_dir()) if CORPUS_DIR.is_dir() else []

settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("NOCARGO_TEST_PROFILE", "dev"))


def is_ci_profile() -> bool:
    """True when the slow, thorough profile is selected (CI)."""
    return os.environ.get("NOCARGO_TEST_PROFILE", "dev") == "ci"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS_DIR.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS_DIR}")
    return CORPUS_DIR


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str | os.PathLike, cwd: Path | None = None, env: dict | None = None,
            input: str | None = None, timeout: float = 600) -> CliResult:
    """Run ``python -m nocargo_py ARGS`` in a subprocess (the real entry point)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "nocargo_py", *map(str, args)],
        cwd=cwd, env=full_env, capture_output=True, text=True, input=input, timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    """The CLI runner (see :func:`run_cli`)."""
    return run_cli


@pytest.fixture
def sparse_registry(tmp_path):
    """A loopback sparse registry on 127.0.0.1: ``(builder, server)``.

    ``builder.add(name, version, deps=[...], features={...})`` publishes index lines (and
    real ``.crate`` files); ``server.url`` / ``server.index_url`` point at it;
    ``sparse_server.cargo_config_for(server)`` is a ``.cargo/config.toml`` that makes cargo
    use it instead of crates.io. See ``tests/sparse_server.py``.
    """
    from sparse_server import RegistryBuilder, SparseRegistryServer

    builder = RegistryBuilder(tmp_path / "registry")
    server = SparseRegistryServer(builder.root).start()
    try:
        yield builder, server
    finally:
        server.stop()
