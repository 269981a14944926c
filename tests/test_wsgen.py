"""The random workspace generator itself (:mod:`wsgen`): ``describe()`` for failure reports."""

from __future__ import annotations

import json

from hypothesis import given, settings

import wsgen


def test_describe_lists_explicit_dep_features_sorted():
    crate = wsgen.GenCrate(index=0, name="c0", dir="ws", edition="2021", lib="lib",
                           lib_name=None, bins=[], build_script=False, links=None,
                           tests=False, examples=False, explicit={"zed", "alpha"})
    ws = wsgen.GenWorkspace([crate], virtual=False, resolver=None, members=[0],
                            default_members=None, profiles={})
    described = json.loads(ws.describe())
    assert described["crates"][0]["explicit"] == ["alpha", "zed"]
    assert described["crates"][0]["name"] == "c0" and described["members"] == [0]


@settings(max_examples=8, deadline=None)
@given(wsgen.workspaces())
def test_describe_generated_workspaces(ws):
    described = json.loads(ws.describe())
    assert [c["name"] for c in described["crates"]] == [c.name for c in ws.crates]
    assert [c["explicit"] for c in described["crates"]] == [sorted(c.explicit) for c in ws.crates]
    assert described["profiles"] == ws.profiles
    assert ws.describe() == ws.describe()
