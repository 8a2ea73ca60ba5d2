"""The README stays true: every setting and every CLI command is documented."""

import click

from pipeline.settings import SETTINGS
from tests.conftest import ROOT
from webapp.cli import main

README = (ROOT / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "clinex") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_setting_is_in_the_readme():
    missing = [f"CLINEX_{s.name}" for s in SETTINGS if f"`CLINEX_{s.name}`" not in README]
    assert not missing


def test_every_cli_command_is_in_the_readme():
    missing = [c for c in _commands(main) if f"`{c}" not in README]
    assert not missing


def test_quick_start_comes_first():
    first_code = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "make run" in first_code and "make test" in first_code
