"""Reading many ``.crate`` files while they download: in worker processes where it pays.

A cold ``gen`` reads every downloaded ``.crate`` (:func:`~.crate_info.read_crate_file`:
a few milliseconds of tar parsing each). Read in the main process, that work competes
for the interpreter lock with the download threads; in worker processes it runs beside
them on the other cores. :class:`CrateReader` chooses: processes when there are enough
crates and more than one CPU, on Linux, where the workers are forked — before any
download thread exists, so a fork never copies a lock some thread holds — from a process
that has already imported everything they need. Otherwise it reads in the calling thread,
as it always did.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..errors import NocargoError
from ..source import PackageId
from .crate_info import CrateInfo, read_crate_file

if TYPE_CHECKING:  # pragma: no cover
    from ..index.registries import Registries
    from ..lockfile import Lockfile
    from .download import CrateDownloader

__all__ = ["CrateReader", "fetch_and_read"]

#: Fewer crates than this are read in the calling thread (forking costs ~10 ms a worker).
MIN_CRATES_FOR_PROCESSES = 24
#: At most this many reader processes.
MAX_READERS = 4
#: What the workers use that this process may not have imported yet.
_WORKER_MODULES = ("tarfile", "nocargo_py.workspace", "nocargo_py.targets")


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _read(path: Path, package_id: PackageId, checksum: str | None) -> CrateInfo | NocargoError:
    """Read one crate (here or in a worker); its error as a value, a plain
    :class:`NocargoError` with message, location and notes (it crosses the process
    boundary by pickling)."""
    try:
        return read_crate_file(path, package_id, checksum)
    except NocargoError as err:
        return NocargoError(err.message, location=err.location, notes=err.notes)


def _ready() -> bool:
    return True


def _worker_init() -> None:
    """Ctrl-C is the main process's to handle (it stops the pool); a worker that took it
    too would print its own traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class CrateReader:
    """Reads ``.crate`` files as they are submitted; :meth:`results` waits for all of them.

    A context manager: leaving it stops the workers (queued reads are dropped on errors).
    """

    def __init__(self, expected: int, *, processes: bool | None = None) -> None:
        if processes is None:
            processes = (expected >= MIN_CRATES_FOR_PROCESSES and _usable_cpus() > 1
                         and sys.platform.startswith("linux"))
        self._pool = None
        # what each crate gave: its info or error, or (the worker's future, its arguments)
        self._futures: dict[PackageId, CrateInfo | NocargoError | tuple[Future, tuple]] = {}
        if processes:
            import importlib
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            for module in _WORKER_MODULES:  # imported once, before forking
                importlib.import_module(module)
            workers = max(1, min(MAX_READERS, _usable_cpus()))
            self._pool = ProcessPoolExecutor(max_workers=workers,
                                             mp_context=multiprocessing.get_context("fork"),
                                             initializer=_worker_init)
            # the first submit forks every worker, now, while this is the only thread
            self._pool.submit(_ready).result()

    @property
    def uses_processes(self) -> bool:
        return self._pool is not None

    def submit(self, package_id: PackageId, path: Path, checksum: str | None) -> None:
        """Read ``path`` (in a worker, or now)."""
        args = (path, package_id, checksum)
        if self._pool is not None:
            try:
                self._futures[package_id] = (self._pool.submit(_read, *args), args)
                return
            except BrokenProcessPool:
                pass  # read here, below
        self._futures[package_id] = _read(*args)

    def results(self) -> dict[PackageId, CrateInfo | NocargoError]:
        """Every submitted crate's info, or the error reading it. Crates a worker could not
        read because the pool broke (a worker was killed) are read here instead."""
        out: dict[PackageId, CrateInfo | NocargoError] = {}
        for pid, pending in self._futures.items():
            if isinstance(pending, tuple):
                future, args = pending
                try:
                    pending = future.result()
                except BrokenProcessPool:
                    pending = _read(*args)
            out[pid] = pending
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "CrateReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch_and_read(downloader: "CrateDownloader", lock: "Lockfile", registries: "Registries",
                   packages: Iterable[PackageId]) -> dict[PackageId, CrateInfo | NocargoError]:
    """Download (or find in the cache) the ``.crate`` of every registry package in
    ``packages`` and read each as soon as it is there, while the others download. A failed
    download raises (``fetch_all``'s error); a crate that cannot be read is its error in
    the result, so that callers report the first in their own order."""
    from .download import crate_requests

    wanted = list(packages)
    with CrateReader(len(wanted)) as reader:
        def read_file(pid: PackageId, path: Path) -> None:
            locked = lock.get(pid)
            reader.submit(pid, path, locked.checksum if locked is not None else None)

        downloader.fetch_all(crate_requests(lock, registries, packages=wanted),
                             on_file=read_file)
        return reader.results()
