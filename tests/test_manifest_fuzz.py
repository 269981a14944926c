"""Robustness: any TOML shaped like a manifest loads or fails with a NocargoError — never
another exception (which the CLI would report as an internal error)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from nocargo_py.errors import NocargoError
from nocargo_py.manifest import (
    _DEP_KEYS, _PACKAGE_KEYS, _PROFILE_KEYS, _TARGET_KEYS, _TOP_KEYS, _WORKSPACE_KEYS,
)
from nocargo_py.metadata import metadata_text
from nocargo_py.workspace import load_workspace

scalars = st.one_of(
    st.sampled_from(["a", "1.0.0", "2021", "src/lib.rs", "*", "cfg(unix)", "", "x-y", "../up",
                     "dep:a", "a/b", "workspace"]),
    st.integers(-2, 3), st.booleans(), st.floats(allow_nan=False, width=16),
)


def values(keys: frozenset[str] | None, depth: int):
    if depth <= 0:
        return scalars
    children = st.deferred(lambda: values(None, depth - 1))
    table_keys = st.sampled_from(sorted(keys)) if keys else st.sampled_from(
        ["a", "b", "workspace", "version", "path", "features", "optional", "name"])
    return st.one_of(
        scalars,
        st.lists(children, max_size=3),
        st.dictionaries(table_keys, children, max_size=4),
    )


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if not isinstance(v, float) else f"{v:.1f}" if v == v else "0.0"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"


section_keys = {
    "package": _PACKAGE_KEYS, "workspace": _WORKSPACE_KEYS, "lib": _TARGET_KEYS,
    "dependencies": None, "dev-dependencies": None, "features": None, "target": None,
    "profile": None, "patch": None, "replace": None, "badges": None, "lints": None,
}


@st.composite
def manifests(draw) -> str:
    lines = []
    if draw(st.booleans()):
        package = {"name": "p", "version": "0.1.0"}
        extra = draw(st.dictionaries(st.sampled_from(sorted(_PACKAGE_KEYS)), values(None, 1),
                                     max_size=4))
        package.update(extra)
        lines.append("[package]\n" + "\n".join(f"{json.dumps(k)} = {toml_value(v)}"
                                               for k, v in package.items()))
    for section in draw(st.lists(st.sampled_from(sorted(_TOP_KEYS - {"package"})), unique=True,
                                 max_size=4)):
        keys = section_keys.get(section)
        if section in ("bin", "example", "test", "bench"):
            items = draw(st.lists(st.dictionaries(st.sampled_from(sorted(_TARGET_KEYS)),
                                                  values(None, 1), max_size=4), max_size=2))
            lines.append(f"{json.dumps(section)} = {toml_value(items)}")
            continue
        if section in ("dependencies", "dev-dependencies", "build-dependencies"):
            table = draw(st.dictionaries(st.sampled_from(["a", "b-c", "serde"]),
                                         st.one_of(scalars, st.dictionaries(
                                             st.sampled_from(sorted(_DEP_KEYS | {"workspace"})),
                                             values(None, 1), max_size=4)), max_size=3))
        elif section == "profile":
            table = draw(st.dictionaries(st.sampled_from(["dev", "release", "x"]),
                                         st.dictionaries(st.sampled_from(sorted(_PROFILE_KEYS)),
                                                         values(None, 1), max_size=3),
                                         max_size=2))
        else:
            table = draw(st.one_of(values(keys and frozenset(keys), 2), scalars))
        lines.append(f"{json.dumps(section)} = {toml_value(table)}")
    return "\n".join(lines) + "\n"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests())
def test_manifests_load_or_fail_cleanly(text):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "src").mkdir()
        (root / "src" / "lib.rs").write_text("")
        (root / "Cargo.toml").write_text(text)
        for strict in (True, False):
            try:
                metadata_text(load_workspace(None, root, strict=strict))
            except NocargoError as err:
                assert err.render()
