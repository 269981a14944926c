"""The Nix library ships with the package: `pip install .` into a throwaway venv finds it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nocargo_py.render import library_files

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.network  # pip fetches setuptools from PyPI for the isolated build
def test_installed_package_carries_the_nix_library(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info",
                                                             "__pycache__", ".pytest_cache"))
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--target", str(site), str(src)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(src)  # nothing may be read from the source tree any more
    code = ("import json, nocargo_py, nocargo_py.render as r; "
            "print(json.dumps([nocargo_py.__file__, r.library_files()]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    where, files = json.loads(out.stdout)
    assert str(site) in where  # the installed copy, not the checkout
    assert files == library_files()
    assert (Path(where).parent / "nix" / "host-pkgs.nix").is_file()
