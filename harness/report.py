"""``hvsnap report [--open]``: the Allure results of a test run as one HTML file.

``pytest --alluredir reports/out/allure-results`` (``scripts/test.sh`` passes it) records
each scenario through allure-pytest-bdd: its Gherkin steps, its Examples values, and the
host commands it sent (with simulated time when the host keeps a clock). This command turns
those results into ``reports/out/allure-report/index.html`` with Allure 3 (the npm package
``allure``, pinned in ``package.json`` and installed under ``node_modules/`` by
``scripts/test.sh``), as a single self-contained file that opens from ``file://`` offline.
It never runs ``npx`` without that local install, which would hang without a network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import webbrowser
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("reports/out")
RESULTS = OUT / "allure-results"
REPORT = OUT / "allure-report"
ALLURE = Path("node_modules/.bin/allure")


def allure_config(name: str, output: Path) -> str:
    """An Allure 3 config (ES module): the "awesome" report as one HTML file."""
    options = {"singleFile": True, "reportLanguage": "en", "reportName": name}
    body = {"name": name, "output": str(output), "plugins": {"awesome": {"options": options}}}
    return f"export default {json.dumps(body, indent=2)};\n"


def generate(root: Path, results: Path, output: Path, name: str) -> Path:
    """Run Allure 3 over ``results`` into ``output``; returns the report's index.html."""
    allure = root / ALLURE
    if not allure.exists():
        raise click.ClickException(f"{ALLURE} is missing: run `npm ci` (or `npm install`) in {root}")
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise click.ClickException(f"no Allure results in {results}: run `pytest --alluredir {results}` first")
    if output.exists():
        shutil.rmtree(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    config = output.parent / "allurerc.mjs"
    config.write_text(allure_config(name, output))
    done = subprocess.run(
        [str(allure), "generate", str(results), "-o", str(output), "-c", str(config)],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    index = output / "index.html"
    if done.returncode != 0 or not index.exists():
        raise click.ClickException(f"allure generate failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return index


@click.command("report")
@click.option("--results", type=click.Path(path_type=Path), default=None, help=f"default: {RESULTS}")
@click.option("--output", type=click.Path(path_type=Path), default=None, help=f"default: {REPORT}")
@click.option("--name", default="hvsnap features", show_default=True, help="the report's title")
@click.option("--open", "open_", is_flag=True, help="open the report in a browser afterwards")
def report(results: Path | None, output: Path | None, name: str, open_: bool) -> None:
    """Turn the Allure results of a test run into one self-contained HTML report."""
    index = generate(ROOT, (results or ROOT / RESULTS).resolve(), (output or ROOT / REPORT).resolve(), name)
    click.echo(str(index))
    if open_ and not webbrowser.open(index.as_uri()):
        click.echo(f"no browser found; open {index.as_uri()}", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(report())
