"""Cargo.lock reading and writing: corpus round trips, error reporting, model helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocargo_py.errors import NocargoError
from nocargo_py.lockfile import (
    LOCK_PATH_SOURCE,
    LockedPackage,
    Lockfile,
    lockfile_from_graph,
    parse_lockfile,
    write_lockfile,
)
from nocargo_py.source import PackageId, SourceId

from conftest import CORPUS_DIR, CORPUS_PROJECTS

CRATES_IO = SourceId.crates_io()


@pytest.mark.parametrize("project", CORPUS_PROJECTS)
def test_corpus_round_trip_is_byte_identical(project: str) -> None:
    path = CORPUS_DIR / project / "Cargo.lock"
    text = path.read_text()
    lock = parse_lockfile(text, path)
    assert write_lockfile(lock) == text
    # every edge resolved to a package of the lock
    ids = {p.id for p in lock.packages}
    for pkg in lock.packages:
        assert set(pkg.dependencies) <= ids
