"""File names rustc writes for each crate type on a target (cargo asks rustc with
``--print=file-names``; these are rustc's per-OS prefixes and suffixes)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FileNames", "file_names"]


@dataclass(frozen=True)
class FileNames:
    """Prefix/suffix per crate type for one target triple."""

    dylib: tuple[str, str]
    staticlib: tuple[str, str]
    exe_suffix: str
    wasm: bool = False

    def library(self, crate_type: str, crate_name: str, extra: str) -> str:
        """The file rustc writes for a library crate type (``extra`` = ``-<hash>`` or "")."""
        if crate_type in ("lib", "rlib"):
            return f"lib{crate_name}{extra}.rlib"
        if crate_type in ("dylib", "proc-macro"):
            pre, suf = self.dylib
            return f"{pre}{crate_name}{extra}{suf}"
        if crate_type == "cdylib":
            if self.wasm:
                return f"{crate_name}{extra}.wasm"
            pre, suf = self.dylib
            return f"{pre}{crate_name}{extra}{suf}"
        if crate_type == "staticlib":
            pre, suf = self.staticlib
            return f"{pre}{crate_name}{extra}{suf}"
        raise ValueError(f"not a library crate type: {crate_type}")

    def executable(self, crate_name: str, extra: str) -> str:
        return f"{crate_name}{extra}{self.exe_suffix}"


def file_names(triple: str) -> FileNames:
    """Naming rules of ``triple`` (by OS family, as rustc's target specs set them)."""
    if "-windows-" in triple or triple.endswith("-windows"):
        static = ("", ".lib") if "msvc" in triple else ("lib", ".a")
        return FileNames(dylib=("", ".dll"), staticlib=static, exe_suffix=".exe")
    if "-apple-" in triple:
        return FileNames(dylib=("lib", ".dylib"), staticlib=("lib", ".a"), exe_suffix="")
    if triple.startswith("wasm32-") or triple.startswith("wasm64-"):
        return FileNames(dylib=("lib", ".so"), staticlib=("lib", ".a"), exe_suffix=".wasm",
                         wasm=True)
    return FileNames(dylib=("lib", ".so"), staticlib=("lib", ".a"), exe_suffix="")
