"""Every corpus project, its lock deleted, regenerated from the live crates.io index by
cargo and by us (network tier): the same lock file, or both fail.

This is the version resolver at full scale on real data (hundreds of packages, the whole
published history of each crate). crates.io changes all the time, so a mismatch is retried
once (a crate published between the two runs would explain one).
"""

from __future__ import annotations

import shutil

import pytest

from conftest import CORPUS_PROJECTS
from test_versions_support import cargo_lock, our_lock

pytestmark = [pytest.mark.network, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")]


@pytest.mark.parametrize("project", CORPUS_PROJECTS)
def test_regeneration_from_live_crates_io_equals_cargo(project, corpus_dir, tmp_path):
    ws = tmp_path / project
    shutil.copytree(corpus_dir / project, ws)
    for attempt in range(2):
        (ws / "Cargo.lock").unlink(missing_ok=True)
        theirs = cargo_lock(ws, tmp_path / "home")
        (ws / "Cargo.lock").unlink(missing_ok=True)
        ours = our_lock(ws, tmp_path / "cache", from_scratch=True)
        if ours.ok == theirs.ok and (not ours.ok or ours.lock == theirs.lock):
            break
    assert ours.ok == theirs.ok, f"--- cargo:\n{theirs.error}\n--- ours:\n{ours.error}"
    if theirs.ok:
        assert ours.lock == theirs.lock
