"""Cargo's target auto-discovery and the merging of explicit and discovered targets.

Follows cargo's ``src/cargo/util/toml/targets.rs`` (``normalize_lib``/``normalize_bins``/
``normalize_targets`` then ``to_*_targets``):

* lib: ``[lib]`` or ``src/lib.rs``; name defaults to the package name with ``-`` → ``_``.
* bins: ``src/main.rs`` (named after the package), ``src/bin/*.rs``, ``src/bin/<dir>/main.rs``;
  examples/tests/benches likewise under ``examples/``, ``tests/``, ``benches/``; dot-files
  are skipped.
* Explicit targets are merged with discovered ones: a discovered target whose name or
  path equals an explicit one's is dropped; ``auto* = false`` disables discovery of a kind;
  in edition 2015 any explicit target of a kind disables discovery of that kind unless
  ``auto*`` is set. Each kind is then sorted by name (as cargo does since 1.80), unless the
  manifest is already normalized (``auto* = false`` and every target has name and path).
* An explicit target without ``path`` takes the discovered path of the same name (2015 also
  has legacy fallbacks: ``src/<name>.rs``, ``src/main.rs``, ``src/bin/main.rs``,
  ``src/bench.rs``).
* Build script: ``build.rs`` next to the manifest unless ``build = false``/another path.

Every path is lexically normalized (cargo's ``normalize_path``) and joined to the package
root, never canonicalized.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

from .errors import NocargoError
from .manifest import Manifest, PackageSpec, TargetSpec
from .package import Target, TargetKind
from .package_files import DiskFiles, PackageFiles

__all__ = ["manifest_targets", "normalize_path"]

_CONFLICTING_ARTIFACT_NAMES = ("deps", "examples", "build", "incremental")
_DOCTESTABLE = ("lib", "rlib", "proc-macro")


def normalize_path(path: str | os.PathLike) -> Path:
    """cargo-util's ``normalize_path``: drop ``.``, resolve ``..`` lexically (no filesystem)."""
    return _normalize(os.fspath(path))


@functools.lru_cache(maxsize=8192)
def _normalize(text: str) -> Path:
    root = "/" if text.startswith("/") else ""
    out: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not root:
                out.append("..")
        else:
            out.append(part)
    return Path(root + "/".join(out)) if (root or out) else Path("")


def _infer_from_directory(files: PackageFiles, rel: str) -> list[tuple[str, str]]:
    """(name, relative path) for ``<rel>/*.rs`` and ``<rel>/<dir>/main.rs`` (sorted)."""
    out = []
    for name, is_dir in files.entries(rel):
        if name.startswith("."):
            continue
        if is_dir:
            if files.exists(f"{rel}/{name}/main.rs"):
                out.append((name, f"{rel}/{name}/main.rs"))
        elif name.endswith(".rs"):
            out.append((name[: -len(".rs")], f"{rel}/{name}"))
    return out


class _Ctx:
    def __init__(self, manifest: Manifest, package_name: str, edition: str,
                 warnings: list[str], strict: bool, files: PackageFiles) -> None:
        self.manifest = manifest
        self.root = manifest.root
        self.files = files
        self.package_name = package_name
        self.edition = edition
        self.warnings = warnings
        self.strict = strict

    def error(self, message: str, key=("package",)) -> NocargoError:
        return self.manifest.doc.error(message, key)

    def critical(self, message: str, key) -> None:
        """cargo's "critical warnings": fatal for builds, ignored by ``cargo metadata``."""
        if self.strict:
            raise self.error(message, key)


def _are_normalized(specs: Sequence[TargetSpec] | None, auto: bool | None) -> bool:
    if auto is not False:
        return False
    return all(t.name is not None and t.path is not None for t in (specs or ()))


def _validate_target_name(ctx: _Ctx, t: TargetSpec, human: str, kind: str) -> str:
    if t.name is None:
        raise ctx.error(f"{human} target {kind}.name is required", t.key)
    if not t.name.strip():
        raise ctx.error(f"{human} target names cannot be empty", t.key + ("name",))
    return t.name


def _deprecated_underscore(ctx: _Ctx, old, new, new_path: str, name: str, kind: str,
                           key) -> None:
    old_path = new_path.replace("-", "_")
    if old is not None and ctx.edition >= "2024":
        raise ctx.error(f"`{old_path}` is unsupported as of the 2024 edition; instead use "
                        f"`{new_path}`\n(in the `{name}` {kind})", key + (old_path,))
    if old is not None and new is not None:
        ctx.warnings.append(f"`{old_path}` is redundant with `{new_path}`, preferring "
                            f"`{new_path}` in the `{name}` {kind}")
    elif old is not None:
        ctx.warnings.append(f"`{old_path}` is deprecated in favor of `{new_path}` and will not "
                            f"work in the 2024 edition\n(in the `{name}` {kind})")


def _validate_proc_macro_and_crate_types(ctx: _Ctx, t: TargetSpec, human: str) -> None:
    name = t.name or ""
    _deprecated_underscore(ctx, t.proc_macro_underscore, t.proc_macro, "proc-macro", name,
                           f"{human} target", t.key)
    _deprecated_underscore(ctx, t.crate_type_underscore, t.crate_type, "crate-type", name,
                           f"{human} target", t.key)


def _toml_targets_and_inferred(ctx: _Ctx, specs: Sequence[TargetSpec] | None,
                               inferred: list[tuple[str, str]], auto: bool | None,
                               human: str, kind: str, flag: str, section_key) -> list[TargetSpec]:
    inferred_specs = [TargetSpec(key=section_key, name=n, path=p) for n, p in inferred]
    if specs is None:
        targets = [] if auto is False else inferred_specs
    else:
        targets = list(specs)
        seen_names = {t.name for t in targets}
        seen_paths = {PurePosixPath(ctx.root / t.path) if t.path is not None else None
                      for t in targets}
        rem = [t for t in inferred_specs
               if t.name not in seen_names and PurePosixPath(ctx.root / t.path) not in seen_paths]
        if auto is None:
            if ctx.edition == "2015":
                if rem:
                    files = "".join(f"* {t.path}\n" for t in rem)
                    ctx.warnings.append(
                        f"An explicit [[{kind}]] section is specified in Cargo.toml which currently\n"
                        f"disables Cargo from automatically inferring other {human} targets.\n"
                        "This inference behavior will change in the Rust 2018 edition and the "
                        "following\n"
                        f"files will be included as a {human} target:\n\n"
                        f"{files}\n"
                        "This is likely to break cargo build or cargo test as these files may not "
                        "be\n"
                        f"ready to be compiled as a {human} target today. You can future-proof "
                        "yourself\n"
                        f"and disable this warning by adding `{flag} = false` to your [package]\n"
                        "section. You may also move the files to a location where Cargo would not\n"
                        "automatically infer them to be a target, such as in subfolders.\n\n"
                        "For more information on this warning you can consult\n"
                        "https://github.com/rust-lang/cargo/issues/5330")
                auto = False
            else:
                auto = True
        if auto:
            targets.extend(rem)
    targets.sort(key=lambda t: (t.name is not None, t.name or ""))
    return targets


def _not_found_message(ctx: _Ctx, name: str, kind: str) -> str:
    dirs = {"test": "tests", "bench": "benches", "example": "examples", "bin": "src/bin"}
    wrong = {"test": "test", "bench": "bench", "example": "example", "bin": "src/bins"}
    possible = [f"{dirs[kind]}/{name}.rs", f"{dirs[kind]}/{name}/main.rs"]
    commonly_wrong = [f"{wrong[kind]}/{name}.rs", f"{wrong[kind]}/{name}/main.rs"]
    for w, ok in zip(commonly_wrong, possible):
        if ctx.files.exists(w):
            return (f"can't find `{name}` {kind} at default paths, but found a file at `{w}`.\n"
                    f"Perhaps rename the file to `{ok}` for target auto-discovery, or specify "
                    f"{kind}.path if you want to use a non-default path.")
    return (f"can't find `{name}` {kind} at `{possible[0]}` or `{possible[1]}`. Please specify "
            f"{kind}.path if you want to use a non-default path.")


def _target_path(ctx: _Ctx, t: TargetSpec, inferred: list[tuple[str, str]], kind: str,
                 legacy: Callable[[TargetSpec], str | None]) -> str:
    if t.path is not None:
        return t.path
    name = t.name or ""
    matching = [p for n, p in inferred if n == name]
    if len(matching) == 1:
        return matching[0]
    if ctx.edition == "2015":
        legacy_path = legacy(t)
        if legacy_path is not None:
            return legacy_path
    if not matching:
        raise ctx.error(_not_found_message(ctx, name, kind), t.key)
    raise ctx.error(
        f"cannot infer path for `{name}` {kind}\nCargo doesn't know which to use because "
        f"multiple target files found at `{matching[0]}` and `{matching[1]}`.", t.key)


def _normalize_kind(ctx: _Ctx, specs, auto, rel_dir: str, human: str, kind: str, flag: str,
                    legacy: Callable[[TargetSpec], str | None] = lambda t: None
                    ) -> list[TargetSpec]:
    if _are_normalized(specs, auto):
        out = []
        for t in specs or ():
            _validate_target_name(ctx, t, human, kind)
            _validate_proc_macro_and_crate_types(ctx, t, human)
            out.append(replace(t, path=str(normalize_path(t.path))))
        return out
    inferred = _infer_from_directory(ctx.files, rel_dir)
    targets = _toml_targets_and_inferred(ctx, specs, inferred, auto, human, kind, flag, (kind,))
    for t in targets:
        _validate_target_name(ctx, t, human, kind)
        _validate_proc_macro_and_crate_types(ctx, t, human)
    out = []
    for t in targets:
        try:
            path = _target_path(ctx, t, inferred, kind, legacy)
        except NocargoError as err:
            ctx.critical(err.message, t.key)
            continue  # cargo drops the target (and fails later, outside `metadata`)
        out.append(replace(t, path=str(normalize_path(path))))
    return out


def _validate_unique(ctx: _Ctx, targets: Sequence[TargetSpec], what: str) -> None:
    seen: set[str] = set()
    for t in targets:
        if t.name in seen:
            raise ctx.error(f"found duplicate {what} name {t.name}, but all {what} targets must "
                            "have a unique name", t.key + ("name",))
        seen.add(t.name)


def _configure(ctx: _Ctx, spec: TargetSpec, target: Target, human: str) -> Target:
    edition = target.edition
    if spec.edition is not None:
        ctx.warnings.append(f"`edition` is set on {human} `{target.name}` which is deprecated")
        edition = spec.edition
    doctest = spec.doctest if spec.doctest is not None else target.doctest
    if target.kind is not TargetKind.LIB or not any(c in _DOCTESTABLE for c in target.crate_types):
        doctest = False
    return replace(
        target,
        edition=edition,
        test=spec.test if spec.test is not None else target.test,
        doc=spec.doc if spec.doc is not None else target.doc,
        doctest=doctest,
        bench=spec.bench if spec.bench is not None else target.bench,
        harness=spec.harness if spec.harness is not None else target.harness,
        doc_scrape_examples=spec.doc_scrape_examples,
    )


def _src(ctx: _Ctx, path: str) -> Path:
    return ctx.root / path


def manifest_targets(manifest: Manifest, package: PackageSpec, *, package_name: str,
                     edition: str, warnings: list[str], strict: bool = True,
                     files: PackageFiles | None = None) -> tuple[Target, ...]:
    """All targets of a package in cargo's order: lib, bins, examples, tests, benches, build.

    ``package`` supplies the ``auto*`` flags and ``build``; ``edition`` is the package's
    (inherited) edition. With ``strict=False`` the problems cargo only reports when it
    builds (a binary with ``crate-type``/``proc-macro``, an example/test/bench whose file
    cannot be found) are tolerated as ``cargo metadata`` tolerates them: the binary is kept,
    the unlocatable target dropped. ``files`` answers what discovery asks of the package's
    files (default: the directory of ``manifest`` on disk).
    """
    ctx = _Ctx(manifest, package_name, edition, warnings, strict,
               files if files is not None else DiskFiles(manifest.root))
    targets: list[Target] = []

    lib = _lib_target(ctx, manifest.lib, package.autolib)
    if lib is not None:
        targets.append(lib)
    has_lib = lib is not None

    # -- bins ------------------------------------------------------------------------------
    bin_specs = manifest.bins
    if _are_normalized(bin_specs, package.autobins):
        bins = []
        for t in bin_specs or ():
            _validate_bin(ctx, t)
            bins.append(replace(t, path=str(normalize_path(t.path))))
    else:
        inferred = []
        if ctx.files.exists("src/main.rs"):
            inferred.append((package_name, "src/main.rs"))
        inferred.extend(_infer_from_directory(ctx.files, "src/bin"))
        specs = _toml_targets_and_inferred(ctx, bin_specs, inferred, package.autobins,
                                           "binary", "bin", "autobins", ("bin",))

        def legacy_bin(t: TargetSpec) -> str | None:
            if not has_lib and ctx.files.exists(f"src/{t.name}.rs"):
                rel = f"src/{t.name}.rs"
            elif ctx.files.exists("src/main.rs"):
                rel = "src/main.rs"
            elif ctx.files.exists("src/bin/main.rs"):
                rel = "src/bin/main.rs"
            else:
                return None
            warnings.append(f"path `{rel}` was erroneously implicitly accepted for binary "
                            f"`{t.name}`,\nplease set bin.path in Cargo.toml")
            return rel

        bins = []
        for t in specs:
            _validate_bin(ctx, t)
            path = _target_path(ctx, t, inferred, "bin", legacy_bin)
            bins.append(replace(t, path=str(normalize_path(path))))
    for t in bins:
        if t.filename is not None:
            raise ctx.error("feature `different-binary-name` is required", t.key + ("filename",))
    _validate_unique(ctx, bins, "binary")
    for t in bins:
        target = Target(kind=TargetKind.BIN, name=t.name, src_path=_src(ctx, t.path),
                        crate_types=("bin",), edition=edition,
                        required_features=t.required_features or (), doc=True,
                        bench=True, test=True, doctest=False)
        target = _configure(ctx, t, target, "binary")
        targets.append(_with_required(target, t))

    # -- examples -------------------------------------------------------------------------
    examples = _normalize_kind(ctx, manifest.examples, package.autoexamples, "examples",
                               "example", "example", "autoexamples")
    _validate_unique(ctx, examples, "example")
    for t in examples:
        crate_types = tuple(t.crate_types or ())
        if not crate_types or all(c == "bin" for c in crate_types):
            crate_types = ("bin",)
        target = Target(kind=TargetKind.EXAMPLE, name=t.name, src_path=_src(ctx, t.path),
                        crate_types=crate_types, edition=edition,
                        required_features=t.required_features or (), test=False, bench=False,
                        doc=False, doctest=False)
        targets.append(_with_required(_configure(ctx, t, target, "example"), t))

    # -- tests ----------------------------------------------------------------------------
    tests = _normalize_kind(ctx, manifest.tests, package.autotests, "tests", "test", "test",
                            "autotests")
    _validate_unique(ctx, tests, "test")
    for t in tests:
        target = Target(kind=TargetKind.TEST, name=t.name, src_path=_src(ctx, t.path),
                        crate_types=("bin",), edition=edition,
                        required_features=t.required_features or (), bench=False, doc=False,
                        doctest=False)
        targets.append(_with_required(_configure(ctx, t, target, "test"), t))

    # -- benches --------------------------------------------------------------------------
    def legacy_bench(t: TargetSpec) -> str | None:
        if t.name == "bench" and ctx.files.exists("src/bench.rs"):
            warnings.append("path `src/bench.rs` was erroneously implicitly accepted for "
                            "benchmark `bench`,\nplease set bench.path in Cargo.toml")
            return "src/bench.rs"
        return None

    benches = _normalize_kind(ctx, manifest.benches, package.autobenches, "benches",
                              "benchmark", "bench", "autobenches", legacy_bench)
    _validate_unique(ctx, benches, "bench")
    for t in benches:
        target = Target(kind=TargetKind.BENCH, name=t.name, src_path=_src(ctx, t.path),
                        crate_types=("bin",), edition=edition,
                        required_features=t.required_features or (), test=False, doc=False,
                        doctest=False)
        targets.append(_with_required(_configure(ctx, t, target, "benchmark"), t))

    # -- build script ---------------------------------------------------------------------
    if package.metabuild is not None:
        raise ctx.error("feature `metabuild` is required", ("package", "metabuild"))
    build = package.build
    script: str | None
    if build is None:
        script = "build.rs" if ctx.files.is_file("build.rs") else None
    elif build is False:
        script = None
    elif build is True:
        script = "build.rs"
    elif isinstance(build, str):
        script = str(normalize_path(build))
    else:
        raise ctx.error("feature `multiple-build-scripts` is required", ("package", "build"))
    if script is not None:
        stem = PurePosixPath(script).name
        stem = stem[: stem.rfind(".")] if stem.rfind(".") > 0 else stem
        targets.append(Target(kind=TargetKind.BUILD_SCRIPT, name=f"build-script-{stem}",
                              src_path=ctx.root / script, crate_types=("bin",), edition=edition,
                              test=False, bench=False, doc=False, doctest=False))

    if all(t.kind is TargetKind.BUILD_SCRIPT for t in targets):
        raise NocargoError(
            "no targets specified in the manifest\neither src/lib.rs, src/main.rs, a [lib] "
            "section, or [[bin]] section must be present",
            location=manifest.doc.location())
    _warn_shared_sources(targets, warnings)
    return tuple(targets)


def _with_required(target: Target, spec: TargetSpec) -> Target:
    """Remember whether ``required-features`` was written (metadata prints it only then)."""
    if spec.required_features is None:
        return target
    return replace(target, required_features=tuple(spec.required_features),
                   declares_required_features=True)


def _validate_bin(ctx: _Ctx, t: TargetSpec) -> None:
    name = _validate_target_name(ctx, t, "binary", "bin")
    if name in _CONFLICTING_ARTIFACT_NAMES:
        raise ctx.error(f"the binary target name `{name}` is forbidden, it conflicts with "
                        "cargo's build directory names", t.key + ("name",))
    crate_types = t.crate_types
    if crate_types is not None:
        if crate_types:
            ctx.critical(f"the target `{name}` is a binary and can't have any crate-types "
                         f"set (currently \"{', '.join(crate_types)}\")", t.key)
        else:
            _deprecated_underscore(ctx, t.crate_type_underscore, t.crate_type, "crate-type",
                                   name, "binary target", t.key)
    if t.is_proc_macro:
        ctx.critical(f"the target `{name}` is a binary and can't have `proc-macro` set "
                     "`true`", t.key)
    else:
        _deprecated_underscore(ctx, t.proc_macro_underscore, t.proc_macro, "proc-macro", name,
                               "binary target", t.key)


def _lib_target(ctx: _Ctx, spec: TargetSpec | None, autolib: bool | None) -> Target | None:
    key = ("lib",)
    if _are_normalized([spec] if spec is not None else None, autolib):
        if spec is None:
            return None
        lib = spec
        _validate_lib_name(ctx, lib)
        _validate_proc_macro_and_crate_types(ctx, lib, "library")
        lib = replace(lib, path=str(normalize_path(lib.path)))
    else:
        inferred = "src/lib.rs" if ctx.files.exists("src/lib.rs") else None
        if spec is None:
            if inferred is None:
                return None
            spec = TargetSpec(key=key, path=inferred)
        lib = spec if spec.name is not None else replace(spec, name=ctx.package_name.replace("-", "_"))
        _validate_lib_name(ctx, lib)
        _validate_proc_macro_and_crate_types(ctx, lib, "library")
        if lib.path is None:
            if inferred is not None:
                lib = replace(lib, path=inferred)
            else:
                legacy = f"src/{lib.name}.rs"
                if ctx.edition == "2015" and ctx.files.exists(legacy):
                    ctx.warnings.append(
                        f"path `{legacy}` was erroneously implicitly accepted for library "
                        f"`{lib.name}`,\nplease rename the file to `src/lib.rs` or set lib.path "
                        "in Cargo.toml")
                    lib = replace(lib, path=legacy)
                else:
                    raise ctx.error(f"can't find library `{lib.name}`, rename file to "
                                    "`src/lib.rs` or specify lib.path", key)
        lib = replace(lib, path=str(normalize_path(lib.path)))

    kinds = lib.crate_types
    if kinds is not None and "dylib" in kinds and "cdylib" in kinds:
        raise ctx.error(f"library `{lib.name}` cannot set the crate type of both `dylib` and "
                        "`cdylib`", key)
    if kinds is not None and "proc-macro" in kinds:
        ctx.warnings.append(f"library `{lib.name}` should only specify `proc-macro = true` "
                            "instead of setting `crate-type`")
        if len(kinds) > 1:
            raise ctx.error("cannot mix `proc-macro` crate type with others", key)
        crate_types: tuple[str, ...] = ("proc-macro",)
    elif kinds is not None:
        crate_types = tuple(kinds)
    elif lib.is_proc_macro:
        crate_types = ("proc-macro",)
    else:
        crate_types = ("lib",)
    target = Target(kind=TargetKind.LIB, name=lib.name, src_path=_src(ctx, lib.path),
                    crate_types=crate_types, edition=ctx.edition, doctest=True, doc=True,
                    test=True, bench=True)
    return _with_required(_configure(ctx, lib, target, "library"), lib)


def _validate_lib_name(ctx: _Ctx, lib: TargetSpec) -> None:
    name = _validate_target_name(ctx, lib, "library", "lib")
    if "-" in name:
        raise ctx.error(f"library target names cannot contain hyphens: {name}", lib.key + ("name",))


def _warn_shared_sources(targets: Sequence[Target], warnings: list[str]) -> None:
    by_path: dict[Path, list[Target]] = {}
    for t in targets:
        by_path.setdefault(t.src_path, []).append(t)
    for path, ts in by_path.items():
        if len(ts) > 1:
            lines = "\n".join(f"  * `{t.kind.value}` target `{t.name}`" for t in ts)
            warnings.append(f"file `{path}` found to be present in multiple build targets:\n{lines}")
