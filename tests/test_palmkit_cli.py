"""The command line: help texts, and user errors as one line with exit code 2."""

import subprocess
import sys

import pytest

from palmkit import cli


def test_top_level_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "curate -> tokenizer train" in out
    for name in cli._available_commands():
        assert name in out


@pytest.mark.parametrize("name", cli._available_commands())
def test_every_subcommand_explains_itself(name, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: palmkit {name}" in out
    assert len(out.splitlines()) > 5


def test_no_subcommand_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "usage: palmkit" in capsys.readouterr().out


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "palmkit.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.startswith("palmkit ")
