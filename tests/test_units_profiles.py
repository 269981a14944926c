"""Profiles: computation rules and errors (messages as cargo 1.95 prints them).

The effective profile of every unit is compared with cargo as part of the recorded unit
graphs (``test_units.py``) and the random differential test; these tests pin down the
rules one at a time and the user errors.
"""

from __future__ import annotations

import pytest

from nocargo_py.errors import NocargoError
from nocargo_py.profiles import DebugInfo, Profiles, Strip, parse_toml_profile
from nocargo_py.source import PackageId, SourceId

HOST = "x86_64-unknown-linux-gnu"
FOO = PackageId("foo", "0.1.0", SourceId.for_path("/w/foo"))
DEP = PackageId("dep", "1.2.3", SourceId.crates_io())


def get(profiles: Profiles, pid=FOO, *, member=True, local=True, host=False, unwind=False,
        kind=None):
    return profiles.get_profile(pid, is_member=member, is_local=local, for_host=host,
                                always_unwind=unwind, kind_triple=kind)


def test_builtin_dev_and_release():
    dev = get(Profiles.new({}, "dev", HOST))
    assert (dev.opt_level, dev.debuginfo, dev.debug_assertions, dev.overflow_checks,
            dev.incremental) == ("0", DebugInfo("2"), True, True, True)
    assert dev.strip == Strip("none") and dev.strip.deferred
    rel = get(Profiles.new({}, "release", HOST))
    assert (rel.opt_level, rel.debuginfo, rel.debug_assertions, rel.incremental) == (
        "3", DebugInfo("0"), False, False)


def test_test_and_bench_inherit_dev_and_release_but_keep_their_name():
    profiles = Profiles.new({"dev": {"opt-level": 1}, "release": {"opt-level": "s"}}, "test", HOST)
    test = get(profiles)
    assert (test.name, test.opt_level) == ("test", "1")
    bench = get(Profiles.new({"release": {"opt-level": "s"}}, "bench", HOST))
    assert (bench.name, bench.opt_level, bench.root) == ("bench", "s", "release")


def test_host_units_get_build_override_defaults_and_deferred_debuginfo():
    profiles = Profiles.new({"release": {"codegen-units": 4, "debug": 1}}, "release", HOST)
    target = get(profiles)
    host = get(profiles, host=True)
    assert (target.opt_level, target.codegen_units, target.debuginfo.deferred) == ("3", 4, False)
    assert (host.opt_level, host.codegen_units, host.debuginfo.level, host.debuginfo.deferred) == (
        "0", None, "1", True)


def test_build_override_then_star_then_named_package():
    table = {
        "opt-level": 1,
        "strip": "symbols",
        "build-override": {"opt-level": 2, "debug": 1},
        "package": {"*": {"opt-level": "s"}, "foo": {"codegen-units": 4}},
    }
    profiles = Profiles.new({"dev": table}, "dev", HOST)
    member = get(profiles)
    assert (member.opt_level, member.codegen_units) == ("1", 4)
    # cargo's quirk: every merged layer without `strip` resets it to "deferred none"
    assert member.strip.deferred and member.strip.value == "none"
    other = get(profiles, DEP, member=False, local=False)
    assert (other.opt_level, other.incremental) == ("s", False)
    host_dep = get(profiles, DEP, member=False, local=False, host=True)
    assert (host_dep.opt_level, host_dep.debuginfo) == ("s", DebugInfo("1"))
    assert not host_dep.debuginfo.deferred
    plain = get(Profiles.new({"dev": {"strip": "symbols"}}, "dev", HOST))
    assert plain.strip == Strip("symbols") and not plain.strip.deferred


def test_panic_is_forced_to_unwind_where_cargo_forces_it():
    profiles = Profiles.new({"release": {"panic": "abort"}}, "release", HOST)
    assert get(profiles).panic == "abort"
    assert get(profiles, unwind=True).panic == "unwind"


def test_apple_targets_default_to_unpacked_split_debuginfo():
    profiles = Profiles.new({}, "dev", HOST)
    assert get(profiles, kind="aarch64-apple-darwin").split_debuginfo == "unpacked"
    assert get(profiles, kind="wasm32-unknown-unknown").split_debuginfo is None
    assert get(Profiles.new({}, "release", HOST), kind="aarch64-apple-darwin").split_debuginfo is None


def test_custom_profile_chain():
    raw = {"custom": {"inherits": "release", "opt-level": "z"},
           "custom2": {"inherits": "custom", "incremental": True}}
    p = get(Profiles.new(raw, "custom2", HOST))
    assert (p.name, p.opt_level, p.incremental, p.root) == ("custom2", "z", True, "release")


@pytest.mark.parametrize("raw, requested, message", [
    ({"a": {"inherits": "b"}, "b": {"inherits": "a"}}, "a",
     "profile inheritance loop detected with profile `b` inheriting `a`"),
    ({"x": {"opt-level": 1}}, "x",
     "profile `x` is missing an `inherits` directive (`inherits` is required for all "
     "profiles except `dev` or `release`)"),
    ({"x": {"inherits": "nope"}}, "x",
     "profile `x` inherits from `nope`, but that profile is not defined"),
    ({"dev": {"inherits": "release"}}, "dev",
     "`inherits` must not be specified in root profile `dev`"),
    ({}, "nope", "profile `nope` is not defined"),
])
def test_profile_errors_match_cargo(raw, requested, message):
    with pytest.raises(NocargoError) as exc:
        Profiles.new(raw, requested, HOST)
    assert exc.value.message == message


def test_toml_values_are_checked():
    assert parse_toml_profile({"opt-level": 4}, "profile.dev").opt_level == "4"  # cargo: "4"
    with pytest.raises(NocargoError, match='but found the string: "3"'):
        parse_toml_profile({"opt-level": "3"}, "profile.dev")
    with pytest.raises(NocargoError, match="profile.dev.debug"):
        parse_toml_profile({"debug": "lots"}, "profile.dev")
    assert parse_toml_profile({"debug": "limited"}, "profile.dev").debug == "1"


def test_profile_json_matches_cargo_shape():
    profile = get(Profiles.new({"release": {"lto": "off", "strip": True}}, "release", HOST))
    assert profile.to_json() == {
        "name": "release", "opt_level": "3", "lto": "off", "codegen_backend": None,
        "codegen_units": None, "debuginfo": 0, "split_debuginfo": None,
        "debug_assertions": False, "overflow_checks": False, "rpath": False,
        "incremental": False, "panic": "unwind", "strip": {"resolved": {"Named": "symbols"}},
    }
