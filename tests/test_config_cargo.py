"""Config discovery and merge compared with cargo itself (``cargo config get``).

``cargo config get`` is unstable; cargo's own test-suite switch
``__CARGO_TEST_CHANNEL_OVERRIDE_DO_NOT_USE_THIS=nightly`` lets the stable 1.95 binary run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS_DIR, CORPUS_PROJECTS, is_ci_profile
from nocargo_py.config import load_config
from nocargo_py.errors import NocargoError

pytestmark = pytest.mark.slow


def _cargo_config(cwd: Path, home: Path, *args: str, env: dict | None = None):
    full = {k: v for k, v in os.environ.items() if not k.startswith("CARGO_")}
    full.update({"CARGO_HOME": str(home), "RUSTUP_TOOLCHAIN": "stable",
                 "__CARGO_TEST_CHANNEL_OVERRIDE_DO_NOT_USE_THIS": "nightly"})
    full.update(env or {})
    return subprocess.run(["cargo", "-Zunstable-options", "config", "get", *args], cwd=cwd,
                          env=full, capture_output=True, text=True, timeout=120)


def _ours(cwd: Path, home: Path, env: dict | None = None):
    try:
        return load_config(cwd, home=home, env=env or {}).to_json()
    except NocargoError as exc:
        return exc


def _compare(cwd: Path, home: Path) -> None:
    r = _cargo_config(cwd, home, "--format", "json")
    ours = _ours(cwd, home)
    if r.returncode != 0:
        if "no config value found" in r.stderr or "config value `` is not set" in r.stderr:
            assert ours == {}, ours
            return
        assert isinstance(ours, NocargoError), f"cargo failed:\n{r.stderr}\nwe got {ours}"
        return
    assert not isinstance(ours, NocargoError), f"{ours}\ncargo said {r.stdout}"
    assert ours == json.loads(r.stdout)


@pytest.mark.parametrize("project", [p for p in CORPUS_PROJECTS
                                     if (CORPUS_DIR / p / ".cargo").is_dir()])
def test_corpus_configs_match_cargo(project, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    _compare(CORPUS_DIR / project, home)


_keys = st.sampled_from(["build", "net", "zz", "a-b"])
_subkeys = st.sampled_from(["rustflags", "target", "k1", "k-2"])
_scalars = st.one_of(st.sampled_from(["x", "-C opt-level=3", "ü", ""]),
                     st.integers(-3, 3), st.booleans())
_values = st.one_of(_scalars, st.lists(st.sampled_from(["a", "b", "--cfg x"]), max_size=3),
                    st.dictionaries(_subkeys, _scalars, max_size=2))
_files = st.dictionaries(_keys, st.dictionaries(_subkeys, _values, max_size=3), max_size=3)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f'"{k}" = {_toml_value(x)}' for k, x in v.items()) + " }"


def _toml(doc: dict) -> str:
    out = []
    for table, entries in doc.items():
        out.append(f'["{table}"]')
        out += [f'"{k}" = {_toml_value(v)}' for k, v in entries.items()]
    return "\n".join(out) + "\n"


@settings(max_examples=150 if is_ci_profile() else 30, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                  HealthCheck.too_slow], deadline=None)
@given(home=_files, parent=_files, child=_files,
       legacy=st.booleans(), include=st.one_of(st.none(), _files))
def test_random_config_trees_match_cargo(home, parent, child, legacy, include):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        (root / "home" / "config.toml").write_text(_toml(home))
        (root / "p" / ".cargo").mkdir(parents=True)
        (root / "p" / ".cargo" / ("config" if legacy else "config.toml")).write_text(_toml(parent))
        cwd = root / "p" / "c"
        (cwd / ".cargo").mkdir(parents=True)
        text = _toml(child)
        if include is not None:
            (cwd / ".cargo" / "inc.toml").write_text(_toml(include))
            text = 'include = ["inc.toml"]\n' + text
        (cwd / ".cargo" / "config.toml").write_text(text)
        _compare(cwd, root / "home")


@pytest.mark.parametrize("key, env", [
    ("build.rustflags", {"CARGO_BUILD_RUSTFLAGS": "-Ce1   -Ce2"}),
    ("build.target", {"CARGO_BUILD_TARGET": "aarch64-unknown-linux-gnu"}),
    ("net.retry", {"CARGO_NET_RETRY": "7"}),
    ("registries.other.index", {"CARGO_REGISTRIES_OTHER_INDEX": "sparse+https://o/"}),
    ("target.x86_64-unknown-linux-gnu.rustflags",
     {"CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS": "-Ctarget-cpu=native"}),
    ("target.x86_64-unknown-linux-gnu.linker",
     {"CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": "clang"}),
])
def test_environment_overrides_match_cargo(tmp_path, key, env):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[build]\nrustflags = ["-Chome"]\ntarget = "x86_64-unknown-linux-gnu"\n'
        '[net]\nretry = 2\n[target.x86_64-unknown-linux-gnu]\nrustflags = ["-Cfile"]\n'
        'linker = "cc"\n')
    r = _cargo_config(tmp_path, home, key, "--format", "json-value", env=env)
    assert r.returncode == 0, r.stderr
    ours = load_config(tmp_path, home=home, env=env).get(key)
    assert ours == json.loads(r.stdout)
