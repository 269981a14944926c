"""Every real-world platform key parses: the corpus manifests and the vendored index data.

``../shared/corpus/*/**/Cargo.toml`` hold ``[target.KEY]`` tables; the index files under
``registry-cache/`` (vendored by the index module) hold a ``target`` on dependency entries.
Which tables cargo applies for these keys is checked against cargo in
``test_cfg_oracle.py``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from nocargo_py.cfg import Platform, list_targets, target_info

REGISTRY_CACHE = REPO_ROOT / "registry-cache"
_NOT_INDEX = {"config.json", "vendor.json", "README.md", "refresh.sh"}


def corpus_target_keys(corpus: Path) -> list[str]:
    """The ``[target.KEY]`` keys of every manifest in the corpus (with repeats)."""
    keys: list[str] = []
    for manifest in sorted(corpus.rglob("Cargo.toml")):
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        keys.extend(data.get("target", {}))
    return keys


def index_files(root: Path = REGISTRY_CACHE) -> list[Path]:
    """Index files of a vendored sparse-layout directory (not its config or side tables)."""
    if not root.is_dir():
        return []
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] == "crate-info" or (len(rel.parts) == 1 and rel.name in _NOT_INDEX):
            continue
        files.append(path)
    return files


def index_target_keys(root: Path = REGISTRY_CACHE) -> list[str]:
    """The ``target`` of every dependency of every version in the vendored index."""
    keys: list[str] = []
    for path in index_files(root):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                for dep in json.loads(line).get("deps", []):
                    if dep.get("target") is not None:
                        keys.append(dep["target"])
    return keys


def test_corpus_keys_parse_and_evaluate(corpus_dir: Path) -> None:
    keys = corpus_target_keys(corpus_dir)
    assert len(keys) >= 30  # 40 tables in 8 projects when written
    targets = [target_info(t) for t in list_targets()]
    for key in keys:
        platform = Platform.parse(key)
        assert platform.is_cfg
        for target in targets:
            platform.matches(target)
    windows = Platform.parse("cfg(windows)")
    assert sum(windows.matches(t) for t in targets) > 10


def test_index_keys_parse() -> None:
    files = index_files()
    if not files:
        pytest.skip("registry-cache/ holds no index files")
    keys = index_target_keys()
    # not vacuous: the vendored data has thousands of target-specific dependencies
    assert len(keys) >= 1000, len(keys)
    unique = set(keys)
    assert len(unique) >= 100
    host = target_info("x86_64-unknown-linux-gnu")
    wasm = target_info("wasm32-unknown-unknown")
    kinds = {"cfg": 0, "name": 0}
    for key in unique:
        platform = Platform.parse(key)
        kinds["cfg" if platform.is_cfg else "name"] += 1
        platform.matches(host)
        platform.matches(wasm)
    assert kinds["cfg"] > 50 and kinds["name"] > 0
