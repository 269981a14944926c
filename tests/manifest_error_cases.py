"""Malformed manifests and workspaces, each with what cargo 1.95 says about it.

Every case is a small file tree. ``cargo`` is a phrase of cargo's own message (the slow
test checks it live against cargo); ``ours`` is the phrase nocargo-py must print
(default: the same phrase); ``key`` is the dotted key our one-line message must name,
``file`` the manifest (relative to the case root) it must name; ``line`` the line number
we must report, which cargo reports too unless ``cargo_line`` is false (cargo gives a line
for TOML-level errors only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PKG = '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n'
LIB = {"src/lib.rs": ""}


@dataclass(frozen=True)
class Case:
    id: str
    files: dict
    cargo: str
    ours: str | None = None
    key: str | None = None
    file: str = "Cargo.toml"
    cwd: str = "."
    line: int | None = None
    cargo_line: bool = True

    @property
    def our_phrase(self) -> str:
        return self.ours if self.ours is not None else self.cargo


def pkg(extra: str = "", head: str = PKG, files: dict | None = None) -> dict:
    out = {"Cargo.toml": head + extra}
    out.update(LIB if files is None else files)
    return out


CASES = [
    # --- TOML and encoding --------------------------------------------------------------
    Case("toml-unclosed-table", {"Cargo.toml": '[package\nname = "a"\n'},
         cargo="unclosed table", ours="TOML parse error", line=1),
    Case("toml-duplicate-key", {"Cargo.toml": PKG + 'name = "b"\n', **LIB},
         cargo="duplicate key", ours="cannot overwrite a value", line=5),
    Case("toml-bad-value", {"Cargo.toml": PKG + "links = nope\n", **LIB},
         cargo="invalid float", ours="TOML parse error: invalid value", line=5),
    Case("invalid-utf8", {"Cargo.toml": PKG.encode() + b"# \xff\xfe\n", **LIB},
         cargo="was not valid utf-8", ours="did not contain valid UTF-8", line=5,
         cargo_line=False),
    # --- [package] ------------------------------------------------------------------------
    Case("version-integer", pkg(head='[package]\nname = "a"\nversion = 1\n'),
         cargo="invalid type: integer `1`, expected SemVer version", key="package.version", line=3),
    Case("version-partial", pkg(head='[package]\nname = "a"\nversion = "0.1"\n'),
         cargo="unexpected end of input while parsing minor version number",
         key="package.version", line=3),
    Case("name-space", pkg(head='[package]\nname = "a b"\nversion = "0.1.0"\n'),
         cargo="invalid character ` ` in package name: `a b`", key="package.name", line=2),
    Case("name-digit", pkg(head='[package]\nname = "1abc"\nversion = "0.1.0"\n'),
         cargo="invalid character `1` in package name: `1abc`, the name cannot start with a digit",
         key="package.name", line=2),
    Case("name-missing", pkg(head='[package]\nversion = "0.1.0"\n'),
         cargo="missing field `package.name`", key="package"),
    Case("edition-future", pkg(head='[package]\nname = "a"\nversion = "0.1.0"\nedition = "2030"\n'),
         cargo="this version of Cargo is older than the `2030` edition", key="package.edition"),
    Case("edition-unknown", pkg(head='[package]\nname = "a"\nversion = "0.1.0"\nedition = "20x"\n'),
         cargo="supported edition values are `2015`, `2018`, `2021`, or `2024`, but `20x` is unknown",
         key="package.edition"),
    Case("edition-integer", pkg(head='[package]\nname = "a"\nversion = "0.1.0"\nedition = 2021\n'),
         cargo="invalid type: integer `2021`, expected a string or workspace",
         key="package.edition", line=4),
    Case("rust-version-prerelease", pkg(extra='rust-version = "1.2.3-beta"\n'),
         cargo='unexpected prerelease field, expected a version like "1.32"',
         key="package.rust-version", line=5),
    Case("rust-version-below-edition", pkg(extra='rust-version = "1.40"\n'),
         cargo="rust-version 1.40 is incompatible with the version (1.56.0) required by the "
               "specified edition (2021)", key="package.rust-version"),
    Case("publish-without-version",
         pkg(head='[package]\nname = "a"\nedition = "2021"\npublish = true\n'),
         cargo="`package.publish` requires `package.version` be specified", key="package.publish"),
    Case("resolver-twice", pkg(extra='resolver = "2"\n[workspace]\nresolver = "2"\n'),
         cargo="cannot specify `resolver` field in both `[workspace]` and `[package]`",
         key="package.resolver"),
    Case("resolver-invalid", pkg(extra='resolver = "4"\n'),
         cargo="`resolver` setting `4` is not valid", key="package.resolver"),
    Case("workspace-key-and-table", pkg(extra='workspace = ".."\n[workspace]\n'),
         cargo="cannot configure both `package.workspace` and `[workspace]`",
         key="package.workspace"),
    Case("empty-manifest", {"Cargo.toml": "# nothing\n"},
         cargo="manifest is missing either a `[package]` or a `[workspace]`"),
    Case("cargo-features-on-stable", pkg(head='cargo-features = ["test-dummy-unstable"]\n' + PKG),
         cargo="the cargo feature `test-dummy-unstable` requires a nightly version of Cargo",
         key="cargo-features"),
    Case("project-2024", {"Cargo.toml": PKG.replace("[package]", "[project]").replace("2021", "2024"), **LIB},
         cargo="`[project]` is not supported as of the 2024 Edition", key="project"),
    # --- dependencies ---------------------------------------------------------------------
    Case("dep-bad-requirement", pkg('[dependencies]\nfoo = "v1"\n'),
         cargo="unexpected character 'v' while parsing major version number",
         ours="failed to parse the version requirement `v1` for dependency `foo`: unexpected "
              "character 'v' while parsing major version number", key="dependencies.foo"),
    Case("dep-space-separated-requirement", pkg('[dependencies]\nfoo = ">= 1.2 <1.4"\n'),
         cargo="expected comma after minor version number, found '<'", key="dependencies.foo"),
    Case("dep-integer", pkg('[dependencies]\nx = 1\n'),
         cargo='invalid type: integer `1`, expected a version string like "0.9.8" or a detailed '
               'dependency like { version = "0.9.8" }', key="dependencies.x", line=6),
    Case("dep-optional-string", pkg('[dependencies]\nx = { version = "1", optional = "yes" }\n'),
         cargo='invalid type: string "yes", expected a boolean', key="dependencies.x.optional",
         line=6),
    Case("dep-workspace-false", pkg('[dependencies]\nx = { version = "1", workspace = false }\n'),
         cargo="`workspace` cannot be false", key="dependencies.x.workspace", line=6),
    Case("dep-empty-table", pkg('[dependencies]\nx = { }\n'),
         cargo="dependency (x) specified without providing a local path, Git repository, version, "
               "or workspace dependency to use", key="dependencies.x"),
    Case("dep-git-conflicting-refs",
         pkg('[dependencies]\nfoo = { git = "https://example.com/r", branch = "a", tag = "b" }\n'),
         cargo="dependency (foo) specification is ambiguous. Only one of `branch`, `tag` or `rev` "
               "is allowed.", key="dependencies.foo"),
    Case("dep-git-and-path",
         pkg('[dependencies]\nfoo = { git = "https://example.com/r", path = "foo" }\n'),
         cargo="dependency (foo) specification is ambiguous. Only one of `git` or `path` is allowed.",
         key="dependencies.foo"),
    Case("dep-branch-without-git", pkg('[dependencies]\nfoo = { version = "1", branch = "main" }\n'),
         cargo="key `branch` is ignored for dependency (foo).", key="dependencies.foo.branch"),
    Case("dep-feature-with-slash", pkg('[dependencies]\nfoo = { version = "1", features = ["a/b"] }\n'),
         cargo="feature `a/b` in dependency `foo` is not allowed to contain slashes",
         key="dependencies.foo.features[0]"),
    Case("dep-bad-name", pkg('[dependencies]\n"a.b" = "1"\n'),
         cargo="invalid character `.` in package name: `a.b`", key='dependencies."a.b"', line=6),
    Case("dep-bad-git-url", pkg('[dependencies]\nfoo = { git = "not a url" }\n'),
         cargo="invalid url `not a url`", key="dependencies.foo.git"),
    Case("dep-unknown-registry", pkg('[dependencies]\nfoo = { version = "1", registry = "nope" }\n'),
         cargo="registry index was not found in any configuration: `nope`",
         key="dependencies.foo.registry"),
    Case("dev-dependencies-underscore-2024",
         pkg('[dev_dependencies]\nfoo = "1"\n', head=PKG.replace("2021", "2024")),
         cargo="`dev_dependencies` is unsupported as of the 2024 edition; instead use "
               "`dev-dependencies`", key="dev_dependencies"),
    Case("target-bad-cfg", pkg("[target.'cfg(unix, windows)'.dependencies]\nfoo = \"1\"\n"),
         cargo="failed to parse `unix, windows` as a cfg expression: unexpected content "
               "`, windows` found after cfg expression", key='target."cfg(unix, windows)"'),
    Case("target-different-sources",
         pkg('[dependencies]\nfoo = "1"\n[target.\'cfg(unix)\'.dependencies]\nfoo = { path = "foo" }\n',
             files={"src/lib.rs": "", "foo/Cargo.toml": '[package]\nname = "foo"\nversion = "1.0.0"\n',
                    "foo/src/lib.rs": ""}),
         cargo="Dependency 'foo' has different source paths depending on the build target",
         key="target"),
    # --- features -------------------------------------------------------------------------
    Case("feature-unknown-value", pkg('[features]\nf = ["nope"]\n'),
         cargo="feature `f` includes `nope` which is neither a dependency nor another feature",
         key="features.f"),
    Case("feature-dep-not-optional", pkg('[dependencies]\nx = "1"\n[features]\nf = ["dep:x"]\n'),
         cargo="feature `f` includes `dep:x`, but `x` is not an optional dependency",
         key="features.f"),
    Case("feature-weak-not-optional", pkg('[dependencies]\nx = "1"\n[features]\nf = ["x?/y"]\n'),
         cargo="feature `f` includes `x?/y` with a `?`, but `x` is not an optional dependency",
         key="features.f"),
    Case("optional-dep-unused",
         pkg('[dependencies]\nopt = { version = "1", optional = true }\n[features]\nopt = []\n'),
         cargo="optional dependency `opt` is not included in any feature", key="features"),
    Case("feature-name-invalid", pkg('[features]\n"a b" = []\n'),
         cargo="invalid character ` ` in feature name: `a b`", key='features."a b"', line=6),
    # --- targets --------------------------------------------------------------------------
    Case("bin-as-table", pkg('[bin]\nname = "x"\n'),
         cargo="invalid type: map, expected a sequence", key="bin", line=5),
    Case("lib-name-hyphen", pkg('[lib]\nname = "a-b"\n'),
         cargo="library target names cannot contain hyphens: a-b", key="lib.name"),
    Case("bin-name-missing", pkg('[[bin]]\npath = "src/x.rs"\n', files={"src/x.rs": ""}),
         cargo="binary target bin.name is required", key="bin[0]"),
    Case("bin-not-found", pkg('[[bin]]\nname = "nope"\n'),
         cargo="can't find `nope` bin at `src/bin/nope.rs` or `src/bin/nope/main.rs`",
         key="bin[0]"),
    Case("bin-duplicate", pkg('[[bin]]\nname = "x"\npath = "src/x.rs"\n[[bin]]\nname = "x"\npath = "src/y.rs"\n',
                              files={"src/x.rs": "", "src/y.rs": ""}),
         cargo="found duplicate binary name x, but all binary targets must have a unique name",
         key="bin[1].name"),
    Case("bin-forbidden-name", pkg('[[bin]]\nname = "deps"\npath = "src/x.rs"\n', files={"src/x.rs": ""}),
         cargo="the binary target name `deps` is forbidden", key="bin[0].name"),
    Case("lib-dylib-and-cdylib", pkg('[lib]\ncrate-type = ["dylib", "cdylib"]\n'),
         cargo="library `a` cannot set the crate type of both `dylib` and `cdylib`", key="lib"),
    Case("no-targets", pkg(files={}),
         cargo="no targets specified in the manifest"),
    Case("links-without-build-script", pkg('links = "foo"\n'),
         cargo="package specifies that it links to `foo` but does not have a custom build script",
         key="package.links"),
    Case("default-run-missing", pkg('default-run = "nope"\n'),
         cargo="default-run target `nope` not found", key="package.default-run"),
    # --- profiles -------------------------------------------------------------------------
    Case("profile-debug-name", pkg("[profile.debug]\n"),
         cargo="profile name `debug` is reserved", key="profile.debug", line=5),
    Case("profile-package-panic", pkg('[profile.dev.package.foo]\npanic = "abort"\n'),
         cargo="`panic` may not be specified in a `package` profile",
         key="profile.dev.package.foo.panic"),
    Case("profile-bad-debug", pkg("[profile.dev]\ndebug = 3\n"),
         cargo="invalid value: integer `3`, expected a boolean, 0, 1, 2", key="profile.dev.debug",
         line=6),
    Case("profile-opt-level-numeric-string", pkg('[profile.dev]\nopt-level = "3"\n'),
         cargo='must be `0`, `1`, `2`, `3`, `s` or `z`, but found the string: "3"',
         key="profile.dev.opt-level", line=6),
    Case("profile-release-opt-level-string", pkg('[profile.release]\nopt-level = "0"\n'),
         cargo='must be `0`, `1`, `2`, `3`, `s` or `z`, but found the string: "0"',
         key="profile.release.opt-level", line=6),
    Case("patch-and-replace",
         pkg('[patch.crates-io]\nfoo = { path = "foo" }\n[replace]\n"bar:1.0.0" = { path = "bar" }\n'),
         cargo="cannot specify both [replace] and [patch]", key="replace"),
    # --- workspaces -----------------------------------------------------------------------
    Case("virtual-with-dependencies",
         {"Cargo.toml": '[workspace]\nmembers = []\n[dependencies]\nfoo = "1"\n'},
         cargo="this virtual manifest specifies a `dependencies` section, which is not allowed",
         key="dependencies"),
    Case("workspace-missing-member", {"Cargo.toml": '[workspace]\nmembers = ["nope"]\n'},
         cargo="failed to load manifest for workspace member", file="nope/Cargo.toml"),
    Case("inherit-undefined-key",
         pkg(head='[package]\nname = "a"\nversion.workspace = true\nedition = "2021"\n[workspace]\n'),
         cargo="`workspace.package.version` was not defined", key="package.version"),
    Case("inherit-without-workspace",
         pkg(head='[package]\nname = "a"\nversion.workspace = true\nedition = "2021"\n'),
         cargo="failed to find a workspace root", key="package.version"),
    Case("inherit-missing-dependency",
         pkg('[dependencies]\nfoo.workspace = true\n[workspace.dependencies]\nbar = "1"\n'),
         cargo="`dependency.foo` was not found in `workspace.dependencies`",
         key="dependencies.foo"),
    Case("lints-inherit-undefined", pkg('[lints]\nworkspace = true\n[workspace]\n'),
         cargo="error inheriting `lints` from workspace root manifest's `workspace.lints`",
         key="lints.workspace"),
    Case("lints-inherit-with-overrides",
         pkg('[lints]\nworkspace = true\nrust.unsafe_code = "deny"\n'
             '[workspace.lints.rust]\nunsafe_code = "forbid"\n'),
         cargo="cannot override `workspace.lints` in `lints`", key="lints"),
    Case("workspace-dependency-optional",
         pkg('[workspace.dependencies]\nfoo = { version = "1", optional = true }\n'),
         cargo="foo is optional, but workspace dependencies cannot be optional",
         key="workspace.dependencies.foo.optional"),
    Case("inherit-default-features-2024",
         pkg('[dependencies]\nfoo = { workspace = true, default-features = false }\n'
             '[workspace.dependencies]\nfoo = "1"\n', head=PKG.replace("2021", "2024")),
         cargo="`default-features = false` cannot override workspace's `default-features`",
         key="dependencies.foo.default-features"),
    Case("nested-workspace",
         {"Cargo.toml": '[workspace]\nmembers = ["inner"]\n',
          "inner/Cargo.toml": PKG + "[workspace]\n", "inner/src/lib.rs": ""},
         cargo="multiple workspace roots found in the same workspace", file="Cargo.toml"),
    Case("duplicate-package-names",
         {"Cargo.toml": '[workspace]\nmembers = ["x", "y"]\n',
          "x/Cargo.toml": PKG, "x/src/lib.rs": "", "y/Cargo.toml": PKG, "y/src/lib.rs": ""},
         cargo="two packages named `a` in this workspace", file="y/Cargo.toml"),
    Case("not-a-member",
         {"Cargo.toml": '[workspace]\nmembers = []\n', "sub/Cargo.toml": PKG, "sub/src/lib.rs": ""},
         cargo="current package believes it's in a workspace when it's not", cwd="sub",
         file="sub/Cargo.toml"),
    Case("default-member-not-member",
         {"Cargo.toml": '[workspace]\nmembers = ["x"]\ndefault-members = ["y"]\n',
          "x/Cargo.toml": PKG, "x/src/lib.rs": "",
          "y/Cargo.toml": PKG.replace('"a"', '"b"'), "y/src/lib.rs": ""},
         cargo="is listed in default-members but is not a member", key="workspace.default-members"),
]
