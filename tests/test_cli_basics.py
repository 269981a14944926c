"""The CLI's contract: help, version, usage errors, exit codes."""

from __future__ import annotations

from conftest import run_cli


def test_help_lists_commands_and_exit_codes():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "exit status" in result.stdout
    assert "101" in result.stdout


def test_no_command_is_usage_error():
    result = run_cli()
    assert result.returncode == 2


def test_unknown_command_is_usage_error():
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("nocargo-py ")


def test_only_the_named_command_is_loaded():
    """A run loads the one command module it needs (start-up time); the word after a
    value-taking global flag is that flag's value, not the command."""
    from nocargo_py.cli import _command_in, build_parser

    assert _command_in(["-q", "--offline", "gen", "--check"]) == "gen"
    assert _command_in(["--manifest-path", "gen", "metadata"]) == "metadata"
    assert _command_in(["--manifest", "gen", "metadata"]) == "metadata"   # abbreviation
    assert _command_in(["--color=never", "cfg"]) == "cfg"
    assert _command_in(["bogus"]) is None and _command_in(["--help"]) is None
    sub = next(a for a in build_parser(only="cfg")._actions if a.dest == "command")
    assert list(sub.choices) == ["cfg"]
    proc = run_cli("--color", "never", "cfg", "--target", "x86_64-unknown-linux-gnu", "cfg(unix)")
    assert proc.returncode == 0, proc.stderr


def test_status_lines_from_threads_never_run_into_each_other():
    """Download threads report at the same time: every line is written whole, in one
    write (``print`` wrote text and newline apart, and lines ran together)."""
    import io
    import threading
    import time

    from nocargo_py.shell import Shell

    class SlowStream(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.writes: list[str] = []

        def write(self, text: str) -> int:
            self.writes.append(text)
            time.sleep(0)  # let another thread in, as a slow terminal would
            return super().write(text)

    stream = SlowStream()
    shell = Shell(verbosity=1, color="never", stream=stream)

    def report(i: int) -> None:
        for j in range(50):
            shell.status("Downloaded", f"crate{i} v{j}.0.0")
            shell.warn(f"w{i}.{j}")
            shell.verbose(f"v{i}.{j}")

    threads = [threading.Thread(target=report, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(w.endswith("\n") and w.count("\n") == 1 for w in stream.writes)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 8 * 50 * 3
    assert sorted(line for line in lines if "Downloaded" in line) == sorted(
        f"  Downloaded crate{i} v{j}.0.0" for i in range(8) for j in range(50))


def test_locking_loads_neither_the_feature_resolver_nor_unit_graphs(tmp_path):
    """`nocargo_py.resolve` loads its parts on first use: `lock` needs the version
    resolver only. Every exported name still resolves, to what its module defines."""
    import importlib
    import subprocess
    import sys

    import nocargo_py.resolve as resolve

    assert sorted(resolve.__all__) == sorted(resolve._EXPORTS)
    for name, module in resolve._EXPORTS.items():
        assert getattr(resolve, name) is getattr(
            importlib.import_module(module, "nocargo_py.resolve"), name)
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "a"\nversion = "0.1.0"\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    code = ("import sys; from nocargo_py.cli import main\n"
            "sys.argv = ['nocargo-py', '-q', '--offline', 'lock']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m in ('nocargo_py.resolve.units', "
            "'nocargo_py.resolve.features', 'nocargo_py.profiles', 'nocargo_py.resolve.versions')))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "Cargo.lock").is_file()
    assert proc.stdout.strip() == "['nocargo_py.resolve.versions']"
