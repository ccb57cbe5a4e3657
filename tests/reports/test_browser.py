"""The reports opened in headless Chromium (Debian's, through Playwright): no console
error, every plot drawn, from file:// with the network off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports import files
from tests.chromium import ARGS, CHROMIUM, require

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require()
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser: Any, page_file: Path) -> tuple[Any, list[str]]:
    context = browser.new_context(offline=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(page_file.resolve().as_uri())
    return page, problems


def _drawn(page: Any) -> list[dict[str, Any]]:
    figures: list[dict[str, Any]] = page.eval_on_selector_all(
        "figure.chart",
        """els => els.map(f => {
            const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : null;
            return {id: f.id, paths: svg ? svg.querySelectorAll('path').length : 0,
                    width: box ? box.width : 0, height: box ? box.height : 0};
        })""",
    )
    return figures


def test_simulation_report_draws_every_plot_without_errors(
    browser: Any, tmp_path: Path, outage: dict[str, Any]
) -> None:
    index = files.write_simulation(tmp_path / "run", outage, "simulator/scenarios/outage.yaml")
    page, problems = _open(browser, index)
    figures = _drawn(page)
    assert [f["id"] for f in figures][:3] == ["cdf-create", "cdf-delete", "cdf-stop"] and len(figures) == 14
    assert all(f["paths"] > 5 and f["width"] > 200 and f["height"] > 100 for f in figures), figures
    assert page.title() == "Simulation: outage"
    assert problems == []


def test_sweep_and_decision_pages_draw_every_plot_without_errors(
    browser: Any, tmp_path: Path, outage: dict[str, Any], small_decision: dict[str, Any]
) -> None:
    runs = [{**outage, "point": {"costs.export_bps": bps}} for bps in (1e8, 4e8)]
    pages = [files.write_sweep(tmp_path / "sweep", runs), files.write_decision(tmp_path / "decide", small_decision)]
    for index, expected in zip(pages, (6, 3), strict=True):
        page, problems = _open(browser, index)
        figures = _drawn(page)
        assert len(figures) == expected and all(f["paths"] > 5 and f["width"] > 200 for f in figures), figures
        assert problems == []
    link = tmp_path / "sweep" / "runs" / "001.html"
    page, problems = _open(browser, link)
    assert len(_drawn(page)) == 14 and problems == []
