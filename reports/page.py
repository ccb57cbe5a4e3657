"""The HTML of a report page: one self-contained file (inline CSS, inline SVG, no scripts,
no external resources), so it opens offline from ``file://``.

Every piece of text that comes from a result (scenario names, fault lines, sync lines) goes
through :func:`esc`; :class:`Page` builds the document from sections, tables and charts.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from reports.charts import Chart, svg

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px;
  border-bottom: 1px solid #d0d7de; padding-bottom: 4px; } h3 { font-size: 15px; margin: 20px 0 6px; }
p.lead { color: #57606a; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #d8dee4; padding: 4px 10px; text-align: right; vertical-align: top; }
td { white-space: nowrap; } td.text { white-space: normal; min-width: 8em; }
.scroll { overflow-x: auto; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
th { background: #f6f8fa; font-weight: 600; }
figure.chart { margin: 12px 0 20px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 0 16px; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: #57606a; font-size: 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card b { display: block; font-size: 20px; } .card span { color: #57606a; font-size: 12px; }
.answer { border-left: 4px solid #1f6feb; padding: 4px 12px; margin: 10px 0; background: #f6f8fa; }
.answer .q { font-weight: 600; } .verdict { font-weight: 600; }
.ok { color: #1a7f37; } .bad { color: #d1242f; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
ul.lines { font-family: ui-monospace, monospace; font-size: 12px; margin: 4px 0 12px; }
"""


class Raw(str):
    """HTML made by this module's helpers, put into a table cell as it is (not escaped)."""


def esc(text: object) -> str:
    return text if isinstance(text, Raw) else html.escape(str(text), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], text_cols: int = 1) -> str:
    """A table; the first ``text_cols`` columns are left-aligned text, the rest numbers."""

    def cell(tag: str, i: int, value: object) -> str:
        return f"<{tag}{' class=text' if i < text_cols else ''}>{esc(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def figure(chart: Chart, small: bool = False) -> str:
    """A chart as an inline SVG figure; ``small`` ones sit two to a row inside :func:`grid`."""
    caption = f"<figcaption>{esc(chart.caption)}</figcaption>" if chart.caption else ""
    n = sum(len(s.x) for s in chart.series)
    drawing = svg(chart, 4.9, 2.6) if small else svg(chart)
    return f'<figure class="chart" id="{esc(chart.id)}" data-points="{n}">{drawing}{caption}</figure>'


def grid(fragments: Iterable[str]) -> str:
    return '<div class="grid">' + "".join(fragments) + "</div>"


def cards(items: Iterable[tuple[str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for k, v in items)
        + "</div>"
    )


def lines(items: Iterable[object]) -> str:
    return '<ul class="lines">' + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


class Page:
    """A report document built in order: ``add`` raw HTML fragments made by the helpers."""

    def __init__(self, title: str, lead: str = "") -> None:
        self.title, self.lead = title, lead
        self.parts: list[str] = []

    def h2(self, text: str) -> None:
        self.parts.append(f"<h2>{esc(text)}</h2>")

    def h3(self, text: str) -> None:
        self.parts.append(f"<h3>{esc(text)}</h3>")

    def p(self, text: str) -> None:
        self.parts.append(f"<p>{esc(text)}</p>")

    def add(self, fragment: str) -> None:
        self.parts.append(fragment)

    def html(self) -> str:
        lead = f'<p class="lead">{esc(self.lead)}</p>' if self.lead else ""
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f"<title>{esc(self.title)}</title><style>{CSS}</style></head>"
            f"<body><main><h1>{esc(self.title)}</h1>{lead}{''.join(self.parts)}</main></body></html>\n"
        )
