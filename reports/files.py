"""Report folders: the saved results and the pages rebuilt from them.

A report folder holds the result it was made from and its pages, so ``hvsnap report
--simulation DIR`` rebuilds the pages without running anything:

- a run: ``result.json`` (and ``events.log``) -> ``index.html``;
- a sweep: ``campaign.json`` -> ``index.html`` (the comparison) and ``runs/NNN.html``;
- the decision: ``decision.json`` -> ``index.html``.

Every function writes inside the folder it is given and returns the page it wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports import decision, simulation, sweep

RESULT, CAMPAIGN, DECISION, INDEX = "result.json", "campaign.json", "decision.json", "index.html"


class NoResults(ValueError):
    """The folder holds no result a report can be built from (or one that is not JSON)."""


def write_simulation(folder: Path, result: dict[str, Any], scenario_path: str | None = None) -> Path:
    """``result.json`` (with the scenario file it came from, for the page's reproduction
    line) and ``index.html``."""
    folder.mkdir(parents=True, exist_ok=True)
    if scenario_path is not None:
        result = {**result, "scenario_file": scenario_path}
    (folder / RESULT).write_text(json.dumps(result, indent=2))
    return _page(folder / INDEX, simulation.render(result))


def write_sweep(folder: Path, results: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CAMPAIGN).write_text(json.dumps(results, indent=2))
    return _sweep_pages(folder, results)


def write_decision(folder: Path, data: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DECISION).write_text(json.dumps(data, indent=2))
    return _page(folder / INDEX, decision.render(data))


def rebuild(folder: Path) -> Path:
    """Rebuild the pages of a report folder from the result it holds."""
    for name, kind, build in (
        (DECISION, dict, lambda d: _page(folder / INDEX, decision.render(d))),
        (CAMPAIGN, list, lambda d: _sweep_pages(folder, d)),
        (RESULT, dict, lambda d: _page(folder / INDEX, simulation.render(d))),
    ):
        if (folder / name).is_file():
            data = _load(folder / name, kind)
            try:
                page: Path = build(data)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
                raise NoResults(f"{folder / name} is not a campaign result (missing or malformed: {err})") from err
            return page
    raise NoResults(
        f"{folder} holds no {RESULT}, {CAMPAIGN} or {DECISION}: run `hvsnap simulate ... --report {folder}`"
    )


def _sweep_pages(folder: Path, results: list[dict[str, Any]]) -> Path:
    links: dict[int, str] = {}
    if any("series" in r for r in results):
        (folder / "runs").mkdir(exist_ok=True)
        for i, r in enumerate(results):
            links[i] = f"runs/{i:03d}.html"
            _page(folder / links[i], simulation.render(r))
    return _page(folder / INDEX, sweep.render(results, links))


def _load(path: Path, kind: type) -> Any:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NoResults(f"{path} is not a readable result: {err}") from err
    if not isinstance(data, kind):
        raise NoResults(f"{path} is not a {'list of runs' if kind is list else 'result object'}")
    return data


def _page(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
