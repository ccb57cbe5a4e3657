"""The Allure 3 report of a test run, as one self-contained HTML file.

``pytest --alluredir DIR`` (``scripts/test.sh`` passes ``reports/out/allure-results``)
records each scenario through allure-pytest-bdd; :func:`generate` turns those results into
``OUTPUT/index.html`` with Allure 3 (the npm package ``allure``, pinned in ``package.json``
and installed under ``node_modules/`` by ``scripts/test.sh``). It never runs ``npx``
without a local install, which would hang without a network.

Where things are, so an installed package works as well as a checkout:

- the ``allure`` binary: ``$HVSNAP_ALLURE``, else ``node_modules/.bin/allure`` in the
  current folder or any folder above it, else in the source checkout this package sits
  in, else ``allure`` on ``PATH`` (:func:`find_allure`);
- results and output: what the caller names; the defaults (:func:`default_out`) are
  ``$HVSNAP_REPORTS``, else ``reports/out`` of the checkout, else ``./reports/out``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

#: the folder holding this package's parent, when it is a source checkout
CHECKOUT = Path(__file__).resolve().parents[1]
ALLURE_BIN = Path("node_modules/.bin/allure")


class AllureError(RuntimeError):
    """Allure is missing, the results are missing, or ``allure generate`` failed."""


def _is_checkout(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "reports").is_dir()


def default_out() -> Path:
    """Where reports go unless told: ``$HVSNAP_REPORTS``, the checkout's ``reports/out``,
    or ``./reports/out``."""
    env = os.environ.get("HVSNAP_REPORTS")
    if env:
        return Path(env).resolve()
    base = CHECKOUT if _is_checkout(CHECKOUT) else Path.cwd()
    return (base / "reports" / "out").resolve()


def find_allure(start: Path | None = None) -> Path | None:
    """The Allure 3 binary (module doc), or None."""
    env = os.environ.get("HVSNAP_ALLURE")
    if env:
        return Path(env) if Path(env).is_file() else None
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents, CHECKOUT):
        candidate = folder / ALLURE_BIN
        if candidate.is_file():
            return candidate
    found = shutil.which("allure")
    return Path(found) if found else None


def allure_config(name: str, output: Path) -> str:
    """An Allure 3 config (ES module): the "awesome" report as one HTML file."""
    options = {"singleFile": True, "reportLanguage": "en", "reportName": name}
    body = {"name": name, "output": str(output), "plugins": {"awesome": {"options": options}}}
    return f"export default {json.dumps(body, indent=2)};\n"


def generate(results: Path, output: Path, name: str, allure: Path | None = None) -> Path:
    """Run Allure 3 over ``results`` into ``output``; returns the report's index.html."""
    allure = allure or find_allure()
    if allure is None:
        raise AllureError(
            "the allure binary is missing: run `npm ci` in the source checkout (package.json pins Allure 3), "
            "or set HVSNAP_ALLURE to its path"
        )
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise AllureError(f"no Allure results in {results}: run `pytest --alluredir {results}` first")
    if output.exists():
        shutil.rmtree(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    config = output.parent / "allurerc.mjs"
    config.write_text(allure_config(name, output))
    # run beside node_modules, where Allure resolves its plugins from
    home = allure.parents[2] if allure.parent.parent.name == "node_modules" else output.parent
    done = subprocess.run(
        [str(allure), "generate", str(results), "-o", str(output), "-c", str(config)],
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    index = output / "index.html"
    if done.returncode != 0 or not index.exists():
        raise AllureError(f"allure generate failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return index
