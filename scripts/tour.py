"""The README's tour, run as printed: each ``hvsnap`` line of "A short tour of the CLI", in
order, on ``$HVSNAP_HOME``, in this one process (``bash scripts/run.sh`` runs it)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from harness.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def tour_lines(readme: str) -> list[str]:
    body = readme.split("## A short tour of the CLI\n", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in body.splitlines() if line.startswith("    hvsnap ")]


def main_tour() -> int:
    for line in tour_lines(README.read_text()):
        argv = shlex.split(line, comments=True)
        click.secho(f"\n$ {shlex.join(argv)}", bold=True)
        try:
            main.main(argv[1:], prog_name="hvsnap", standalone_mode=False)
        except click.ClickException as err:
            err.show()
            return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main_tour())
