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
