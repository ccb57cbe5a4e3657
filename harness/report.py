"""``hvsnap report``: a test run's Allure results, or a saved simulation, as HTML.

``hvsnap report [--results DIR] [--output DIR] [--open]`` builds the single-file Allure
report of a test run (:mod:`reports.allure`); ``hvsnap report --simulation DIR`` rebuilds
the pages of a simulation report folder from the result it holds (``result.json``,
``campaign.json`` or ``decision.json``; :mod:`reports.files`) without running anything.
"""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path

import click

from reports import allure


@click.command("report")
@click.option("--results", type=click.Path(path_type=Path), default=None, help="default: reports/out/allure-results")
@click.option("--output", type=click.Path(path_type=Path), default=None, help="default: reports/out/allure-report")
@click.option("--name", default="hvsnap features", show_default=True, help="the report's title")
@click.option(
    "--simulation",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="rebuild the simulation report in DIR from its saved result instead",
)
@click.option("--open", "open_", is_flag=True, help="open the report in a browser afterwards")
def report(results: Path | None, output: Path | None, name: str, simulation: Path | None, open_: bool) -> None:
    """Turn the Allure results of a test run (or a saved simulation) into self-contained HTML."""
    from reports import files  # draws charts with matplotlib: imported only when asked

    try:
        if simulation is not None:
            index = files.rebuild(simulation)
        else:
            out = allure.default_out()
            index = allure.generate(
                (results or out / "allure-results").resolve(), (output or out / "allure-report").resolve(), name
            )
    except (allure.AllureError, files.NoResults) as err:
        raise click.ClickException(str(err)) from err
    click.echo(str(index))
    if open_ and not webbrowser.open(index.resolve().as_uri()):
        click.echo(f"no browser found; open {index.resolve().as_uri()}", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(report())
