"""What a build needs to know about a registry crate that its index entry does not say.

:class:`CrateInfo` is read from the (normalized) ``Cargo.toml`` inside the ``.crate``, loaded
by the foundation's :func:`~nocargo_py.workspace.load_standalone_package` after extracting
the archive (target discovery needs the file tree): lib target (name, crate types,
``src_path`` relative to the crate root, edition, proc-macro, doctest...), build script
path, ``links``, ``rust-version``, edition, and the descriptive fields cargo exposes to
build scripts as ``CARGO_PKG_*`` (:meth:`CrateInfo.cargo_pkg_env`).

Side table (vendored so that planning works offline): one JSON-lines file per crate at
``<dir>/crate-info/<index path>`` (the sparse index layout: ``crate-info/se/rd/serde``),
one line per version, sorted by SemVer, each line a compact JSON object with sorted keys
(:meth:`CrateInfo.to_json`). A line records the ``.crate`` sha256 it was read from;
:func:`load_crate_info` ignores a line whose checksum differs from the lock file's.
:func:`vendor_crate_info` fills such a directory for every registry package of a lock file
(normally the ``registry-cache/`` directory that holds the vendored index); git packages are
recorded one JSON file each at
``crate-info/git/<repo>-<hash>/<commit>/<ref kind>-<hash of ref>/<name>-<version>.json``
(facts plus the ``builtins.fetchGit`` spec), see :func:`store_git_info`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable, Mapping


from ..errors import NocargoError
from ..fsutil import replace_file
from ..index.layout import index_path
from ..package_files import ArchiveFiles
from ..semver_req import Version
from ..source import PackageId

if TYPE_CHECKING:  # pragma: no cover
    from ..index.registries import Registries
    from ..lockfile import Lockfile
    from ..package import Package
    from .download import CrateDownloader
    from .git import GitFetchSpec, GitSources

__all__ = [
    "CRATE_INFO_DIR",
    "CrateInfo",
    "LibInfo",
    "crate_info_from_package",
    "extract_crate",
    "read_crate_shape",
    "load_crate_info",
    "load_git_info",
    "read_crate_file",
    "store_crate_info",
    "store_git_info",
    "vendor_crate_info",
]

CRATE_INFO_DIR = "crate-info"
SCHEMA = 1


@dataclass(frozen=True)
class LibInfo:
    """The library target: ``name`` as rustc's crate name source (hyphens kept as in the
    manifest), ``crate_types`` (``("proc-macro",)`` for proc macros), ``src_path`` relative
    to the crate root (POSIX), its ``edition`` and flags."""

    name: str
    crate_types: tuple[str, ...]
    src_path: str
    edition: str
    proc_macro: bool = False
    doctest: bool = True
    test: bool = True
    doc: bool = True
    harness: bool = True

    @property
    def crate_name(self) -> str:
        return self.name.replace("-", "_")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "crate_types": list(self.crate_types), "src_path": self.src_path,
            "edition": self.edition, "proc_macro": self.proc_macro, "doctest": self.doctest,
            "test": self.test, "doc": self.doc, "harness": self.harness,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "LibInfo":
        return cls(
            name=_str(obj, "name"), crate_types=tuple(_str_list(obj, "crate_types")),
            src_path=_str(obj, "src_path"), edition=_str(obj, "edition"),
            proc_macro=_bool(obj, "proc_macro", False), doctest=_bool(obj, "doctest", True),
            test=_bool(obj, "test", True), doc=_bool(obj, "doc", True),
            harness=_bool(obj, "harness", True),
        )


@dataclass(frozen=True)
class CrateInfo:
    """A registry (or git) package's build facts; JSON round-trippable (:meth:`to_json`)."""

    name: str
    version: str
    edition: str
    lib: LibInfo | None
    build: str | None = None
    links: str | None = None
    rust_version: str | None = None
    authors: tuple[str, ...] = ()
    description: str | None = None
    homepage: str | None = None
    repository: str | None = None
    documentation: str | None = None
    license: str | None = None
    license_file: str | None = None
    readme: str | None = None
    checksum: str | None = None
    lints: Mapping[str, Any] | None = None  # the manifest's [lints] ({} = none; None = not recorded)

    @property
    def is_proc_macro(self) -> bool:
        return self.lib is not None and self.lib.proc_macro

    def cargo_pkg_env(self) -> dict[str, str]:
        """The ``CARGO_PKG_*`` variables cargo sets for this package (unset fields: ``""``)."""
        ver = Version.parse(self.version)
        return {
            "CARGO_PKG_NAME": self.name,
            "CARGO_PKG_VERSION": self.version,
            "CARGO_PKG_VERSION_MAJOR": str(ver.major),
            "CARGO_PKG_VERSION_MINOR": str(ver.minor),
            "CARGO_PKG_VERSION_PATCH": str(ver.patch),
            "CARGO_PKG_VERSION_PRE": ver.pre,
            "CARGO_PKG_AUTHORS": ":".join(self.authors),
            "CARGO_PKG_DESCRIPTION": self.description or "",
            "CARGO_PKG_HOMEPAGE": self.homepage or "",
            "CARGO_PKG_REPOSITORY": self.repository or "",
            "CARGO_PKG_LICENSE": self.license or "",
            "CARGO_PKG_LICENSE_FILE": self.license_file or "",
            "CARGO_PKG_RUST_VERSION": self.rust_version or "",
            "CARGO_PKG_README": self.readme or "",
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict (``from_json(to_json(x)) == x``)."""
        return {
            "schema": SCHEMA, "name": self.name, "version": self.version, "edition": self.edition,
            "lib": self.lib.to_json() if self.lib is not None else None, "build": self.build,
            "links": self.links, "rust_version": self.rust_version, "authors": list(self.authors),
            "description": self.description, "homepage": self.homepage,
            "repository": self.repository, "documentation": self.documentation,
            "license": self.license, "license_file": self.license_file, "readme": self.readme,
            "checksum": self.checksum,
            **({"lints": self.lints} if self.lints is not None else {}),
        }

    def to_json_line(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "CrateInfo":
        """Inverse of :meth:`to_json`; raises :class:`NocargoError` on malformed data."""
        if not isinstance(obj, Mapping):
            raise NocargoError("crate info must be a JSON object")
        if obj.get("schema", SCHEMA) != SCHEMA:
            raise NocargoError(f"unsupported crate info schema `{obj.get('schema')}`")
        lib = obj.get("lib")
        if lib is not None and not isinstance(lib, Mapping):
            raise NocargoError("crate info field `lib` must be an object or null")
        return cls(
            name=_str(obj, "name"), version=_str(obj, "version"), edition=_str(obj, "edition"),
            lib=LibInfo.from_json(lib) if lib is not None else None,
            build=_opt_str(obj, "build"), links=_opt_str(obj, "links"),
            rust_version=_opt_str(obj, "rust_version"), authors=tuple(_str_list(obj, "authors")),
            description=_opt_str(obj, "description"), homepage=_opt_str(obj, "homepage"),
            repository=_opt_str(obj, "repository"), documentation=_opt_str(obj, "documentation"),
            license=_opt_str(obj, "license"), license_file=_opt_str(obj, "license_file"),
            readme=_opt_str(obj, "readme"), checksum=_opt_str(obj, "checksum"),
            lints=_opt_table(obj, "lints"),
        )


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise NocargoError(f"crate info field `{key}` must be a string")
    return value


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise NocargoError(f"crate info field `{key}` must be a string or null")
    return value


def _opt_table(obj: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, Mapping):
        raise NocargoError(f"crate info field `{key}` must be an object or null")
    return value


def _bool(obj: Mapping[str, Any], key: str, default: bool) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise NocargoError(f"crate info field `{key}` must be a boolean")
    return value


def _str_list(obj: Mapping[str, Any], key: str) -> list[str]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise NocargoError(f"crate info field `{key}` must be a list of strings")
    return value


# --------------------------------------------------------------------------------------
# from a package / a .crate
# --------------------------------------------------------------------------------------


def _relative(path: Path, root: Path) -> str:
    try:
        return PurePosixPath(Path(os.path.relpath(path, root)).as_posix()).as_posix()
    except ValueError:  # pragma: no cover - different drives
        return Path(path).as_posix()


def crate_info_from_package(pkg: "Package", checksum: str | None = None) -> CrateInfo:
    """The :class:`CrateInfo` of a loaded package (paths made relative to its root)."""
    root = pkg.root
    lib_target = pkg.lib_target
    lib = None
    if lib_target is not None:
        lib = LibInfo(
            name=lib_target.name,
            crate_types=tuple(lib_target.crate_types),
            src_path=_relative(lib_target.src_path, root),
            edition=lib_target.edition,
            proc_macro=lib_target.is_proc_macro,
            doctest=lib_target.doctest,
            test=lib_target.test,
            doc=lib_target.doc,
            harness=lib_target.harness,
        )
    build_target = pkg.build_script
    meta = pkg.metadata
    return CrateInfo(
        name=pkg.name,
        version=pkg.version,
        edition=pkg.edition,
        lib=lib,
        build=_relative(build_target.src_path, root) if build_target is not None else None,
        links=pkg.links,
        rust_version=str(pkg.rust_version) if pkg.rust_version is not None else None,
        authors=tuple(meta.authors),
        description=meta.description,
        homepage=meta.homepage,
        repository=meta.repository,
        documentation=meta.documentation,
        license=meta.license,
        license_file=meta.license_file,
        readme=meta.readme,
        checksum=checksum,
        lints=_manifest_lints(pkg),
    )


def _manifest_lints(pkg: "Package") -> dict[str, Any]:
    """The ``[lints]`` table as written (published manifests have it normalized)."""
    raw = pkg.raw_manifest.get("lints") if isinstance(pkg.raw_manifest, Mapping) else None
    return json.loads(json.dumps(raw)) if isinstance(raw, Mapping) else {}


def extract_crate(crate_file: Path, package_id: PackageId, dest: Path) -> Path:
    """Unpack a ``.crate`` into ``dest``; returns the package root (``dest/name-version``).

    Like cargo, every entry must live under ``name-version/``; absolute paths, ``..`` and
    links leaving the archive are refused (``tarfile``'s ``data`` filter).
    """
    import tarfile

    prefix = f"{package_id.name}-{package_id.version}"
    what = f"`{package_id.name} v{package_id.version}`"
    try:
        with tarfile.open(crate_file, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                first = PurePosixPath(member.name).parts[:1]
                if first != (prefix,):
                    raise NocargoError(
                        f"invalid tarball downloaded for {what}: it contains a file at "
                        f"`{member.name}`, which is not under `{prefix}`")
                if member.islnk() and PurePosixPath(member.linkname).parts[:1] != (prefix,):
                    raise _foreign_link(what, member.name, member.linkname)
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError, KeyError) as exc:  # KeyError: a link's target
        raise NocargoError(f"failed to unpack the `.crate` of {what} ({crate_file}): {exc}") from None
    root = dest / prefix
    if not (root / "Cargo.toml").is_file():
        raise NocargoError(f"the `.crate` of {what} has no `{prefix}/Cargo.toml`")
    return root


def read_crate_shape(crate_file: Path, package_id: PackageId) -> tuple[bytes, ArchiveFiles]:
    """What :func:`read_crate_file` needs of a ``.crate``, without unpacking it: the bytes
    of its ``Cargo.toml`` and its member list as :class:`ArchiveFiles` (target discovery
    only asks whether files exist and what directories hold; contents are never read).
    The same checks as :func:`extract_crate`: every entry under ``name-version/``, and
    none that the ``data`` filter refuses (absolute paths, ``..`` or links leaving the
    archive, device files).
    """
    import tarfile

    prefix = f"{package_id.name}-{package_id.version}"
    what = f"`{package_id.name} v{package_id.version}`"
    dest = f"/{prefix}-unpacked"  # where the data filter checks paths against (never made)
    files: list[str] = []
    dirs: list[str] = []
    links: dict[str, str] = {}      # symbolic links: path -> target, as written
    hard: dict[str, str] = {}       # hard links: member name -> the member it repeats
    manifest: bytes | None = None
    try:
        with tarfile.open(crate_file, "r:gz") as tar:
            for member in tar:
                name = member.name
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if parts[:1] != [prefix] or name.startswith("/"):
                    raise NocargoError(
                        f"invalid tarball downloaded for {what}: it contains a file at "
                        f"`{name}`, which is not under `{prefix}`")
                rel = "/".join(parts[1:])
                if not (member.isreg() or member.isdir()) or ".." in parts:
                    # a plain file or directory cannot leave the package by itself, and
                    # the `data` filter's realpath checks cost more than all the rest
                    tarfile.data_filter(member, dest)
                if member.isdir():
                    dirs.append(rel)
                elif member.issym():
                    links[rel] = member.linkname
                elif member.islnk():
                    hard[f"{prefix}/{rel}"] = member.linkname
                elif rel:
                    files.append(rel)
                    if rel == "Cargo.toml":
                        fh = tar.extractfile(member)
                        manifest = fh.read() if fh is not None else b""
            for name, target in hard.items():  # a copy of another member
                if PurePosixPath(target).parts[:1] != (prefix,):
                    raise _foreign_link(what, name, target)
            shape = ArchiveFiles(prefix, files + [n[len(prefix) + 1:] for n in hard], dirs,
                                 links)
            if manifest is None and shape.is_file("Cargo.toml"):
                manifest = _read_member(tar, shape.resolve("Cargo.toml"), hard)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise NocargoError(f"failed to unpack the `.crate` of {what} ({crate_file}): {exc}") from None
    if manifest is None:
        raise NocargoError(f"the `.crate` of {what} has no `{prefix}/Cargo.toml`")
    return manifest, shape


def _foreign_link(what: str, name: str, target: str) -> NocargoError:
    return NocargoError(f"invalid tarball downloaded for {what}: its hard link `{name}` "
                        f"repeats `{target}`, which is not in the package")


def _read_member(tar: Any, name: str | None, hard: Mapping[str, str]) -> bytes | None:
    """The contents of the regular member ``name`` (through a hard link, if it is one)."""
    if name is None:
        return None
    try:
        fh = tar.extractfile(tar.getmember(hard.get(name, name)))
    except KeyError:  # not a member under that exact name
        return None
    return fh.read() if fh is not None else None


def read_crate_file(crate_file: Path, package_id: PackageId, checksum: str | None = None) -> CrateInfo:
    """Read the :class:`CrateInfo` of ``crate_file`` (see :func:`read_crate_shape`; nothing
    is unpacked: the manifest is parsed from the archive, and messages name it as
    ``<crate file>/<name>-<version>/Cargo.toml``)."""
    from ..workspace import load_standalone_package

    manifest, shape = read_crate_shape(crate_file, package_id)
    root = Path(os.path.abspath(crate_file)) / f"{package_id.name}-{package_id.version}"
    try:
        pkg = load_standalone_package(root / "Cargo.toml", package_id.source, files=shape,
                                      manifest_data=manifest)
    except NocargoError as err:
        raise NocargoError(
            f"failed to read the manifest of `{package_id.name} v{package_id.version}`: "
            f"{err.message}", location=err.location, notes=err.notes) from None
    if (pkg.name, pkg.version) != (package_id.name, package_id.version):
        raise NocargoError(
            f"the `.crate` of `{package_id.name} v{package_id.version}` contains "
            f"`{pkg.name} v{pkg.version}`")
    return crate_info_from_package(pkg, checksum)


# --------------------------------------------------------------------------------------
# the side table
# --------------------------------------------------------------------------------------


def _table_file(directory: Path, name: str) -> Path:
    return directory / CRATE_INFO_DIR / index_path(name)


def _read_table(path: Path) -> dict[str, CrateInfo]:
    out: dict[str, CrateInfo] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    except (OSError, UnicodeDecodeError) as exc:
        raise NocargoError(f"cannot read crate info file {path}: {exc}") from None
    for no, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            info = CrateInfo.from_json(json.loads(line))
        except (ValueError, NocargoError) as exc:
            message = exc.message if isinstance(exc, NocargoError) else str(exc)
            raise NocargoError(f"{path}:{no}: invalid crate info line: {message}") from None
        out[info.version] = info
    return out


def _version_sort_key(version: str) -> tuple:
    try:
        return (0, Version.parse(version)._key)
    except NocargoError:
        return (1, version)


def store_crate_info(directory: Path, infos: Iterable[CrateInfo]) -> list[Path]:
    """Merge ``infos`` into the side table under ``directory`` (atomic, locked, sorted)."""
    by_name: dict[str, list[CrateInfo]] = {}
    for info in infos:
        by_name.setdefault(info.name, []).append(info)
    written = []
    for name in sorted(by_name):
        path = _table_file(directory, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_dir = directory / CRATE_INFO_DIR / ".locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        import filelock

        with filelock.FileLock(str(lock_dir / f"{name.lower()}.lock")):
            table = _read_table(path)
            for info in by_name[name]:
                table[info.version] = info
            lines = [table[v].to_json_line() for v in sorted(table, key=_version_sort_key)]
            replace_file(path, "\n".join(lines) + "\n")
        written.append(path)
    return written


def load_crate_info(directory: Path, package_id: PackageId, checksum: str | None = None) -> CrateInfo | None:
    """The side-table entry of ``package_id`` under ``directory``, or ``None``.

    With ``checksum``, an entry recorded from a different ``.crate`` is not returned.
    """
    info = _read_table(_table_file(directory, package_id.name)).get(package_id.version)
    if info is None or info.name != package_id.name:
        return None
    if checksum is not None and info.checksum is not None and info.checksum != checksum:
        return None
    return info


def _git_table_file(directory: Path, package_id: PackageId) -> Path:
    from .git import _repo_dir_name

    source = package_id.source
    if not source.is_git() or not source.precise:
        raise NocargoError(f"`{package_id.name} v{package_id.version}` is not a locked git package")
    ref = source.reference
    if ref is None or ref.is_default():
        ref_key = "default"
    else:  # one commit may be locked through several refs, each with its own fetch spec
        ref_key = f"{ref.kind}-{hashlib.sha256(ref.value.encode()).hexdigest()[:12]}"
    return (directory / CRATE_INFO_DIR / "git" / _repo_dir_name(source.url) / source.precise
            / ref_key / f"{package_id.name}-{package_id.version}.json")


def store_git_info(directory: Path, package_id: PackageId, info: CrateInfo, fetch: "GitFetchSpec") -> Path:
    """Record a git package's :class:`CrateInfo` and :class:`~.git.GitFetchSpec` under
    ``directory/crate-info/git/<repo>/<commit>/<ref>/<name>-<version>.json`` (atomic)."""
    path = _git_table_file(directory, package_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"info": info.to_json(), "fetch": fetch.to_json()}, sort_keys=True, indent=1,
                      ensure_ascii=False) + "\n"
    replace_file(path, text)
    return path


def load_git_info(directory: Path, package_id: PackageId) -> "tuple[CrateInfo, GitFetchSpec] | None":
    """What :func:`store_git_info` recorded for a locked git package, or ``None``."""
    from .git import GitFetchSpec

    path = _git_table_file(directory, package_id)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise NocargoError(f"cannot read git crate info {path}: {exc}") from None
    try:
        return CrateInfo.from_json(obj["info"]), GitFetchSpec.from_json(obj["fetch"])
    except (KeyError, TypeError) as exc:
        raise NocargoError(f"invalid git crate info {path}: missing {exc}") from None


def vendor_crate_info(lock: "Lockfile", out_dir: Path, *, registries: "Registries",
                      downloader: "CrateDownloader | None" = None,
                      sources: Iterable | None = None,
                      git: "GitSources | None" = None) -> list[CrateInfo]:
    """Write the :class:`CrateInfo` of every registry package of ``lock`` under ``out_dir``.

    ``out_dir`` is the vendored registry directory (``registry-cache/``); entries already
    there with the same checksum are kept, the others are read from downloaded ``.crate``
    files. ``sources`` limits the registries (default: crates.io only, which is what a
    vendored ``registry-cache/`` stands for). With ``git``, locked git packages are
    recorded too (:func:`store_git_info`: facts plus the ``builtins.fetchGit`` spec), so
    planning needs no checkout. Returns the infos of all packages considered (registry
    packages first, in lock order, then git packages).
    """
    from ..source import SourceId
    from .download import CrateDownloader
    from .reading import fetch_and_read

    wanted = {s.canonical() for s in sources} if sources is not None else {SourceId.crates_io()}
    pkgs = [p for p in lock.packages if p.source.is_registry() and p.source.canonical() in wanted]
    todo = []
    result: dict[PackageId, CrateInfo] = {}
    for pkg in pkgs:
        known = load_crate_info(out_dir, pkg.id, pkg.checksum)
        # entries written before `lints` was recorded are read again
        if known is not None and known.checksum == pkg.checksum and known.lints is not None:
            result[pkg.id] = known
        else:
            todo.append(pkg.id)
    if todo:
        if downloader is None:
            downloader = CrateDownloader(registries.cache_root, offline=registries.offline,
                                         shell=registries.shell)
        read = fetch_and_read(downloader, lock, registries, todo)
        fresh = []
        for pid in todo:  # the first failure in lock order
            info = read[pid]
            if isinstance(info, NocargoError):
                raise info
            fresh.append(info)
            result[pid] = info
        store_crate_info(out_dir, fresh)
    infos = [result[p.id] for p in pkgs]
    if git is not None:
        for pkg in lock.packages:
            if not pkg.source.is_git():
                continue
            known = load_git_info(out_dir, pkg.id)
            if known is None:
                info, spec = git.crate_info(pkg.id), git.fetch_spec(pkg.id)
                store_git_info(out_dir, pkg.id, info, spec)
            else:
                info = known[0]
            infos.append(info)
    return infos
