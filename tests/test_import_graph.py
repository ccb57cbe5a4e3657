"""The import graph of the source tree: no circles, and the arrows of ARCHITECTURE.md.

The graph is read from the source with :mod:`ast`, never by importing: one node per module
of the packages below, one edge per ``import`` or ``from ... import`` anywhere in a module
(top level, inside functions, under ``if TYPE_CHECKING:``; a circle hidden from the
interpreter is still a circle in the design). ``from package import name`` is an edge to
the submodule ``package.name`` when there is one, else to the package. Only explicit
imports count: the parent packages Python runs on the way to a module, and imports by
string (``importlib``, as ``load_driver`` does), are not edges.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "simulator", "live_driver", "reports", "features")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` (the file ``path``) imports."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                if f"{source}.{alias.name}" in known:
                    found.add(f"{source}.{alias.name}")
                elif source in known:
                    found.add(source)
    found.discard(module)
    return found


@cache
def import_graph() -> nx.DiGraph:
    files = {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for module, path in files.items():
        graph.add_edges_from((module, target) for target in imported(module, path, set(files)))
    return graph


def circles(graph: nx.DiGraph) -> list[list[str]]:
    """Every elementary circle of ``graph``, each as its modules in import order."""
    return sorted(nx.simple_cycles(graph))


def within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in prefixes)


# ARCHITECTURE.md, "The house": features, api, cli, campaigns -> service + jobs -> domain +
# store + drivers; simulator and live_driver import harness.drivers (the contract) and nothing
# else of harness; nothing imports features; reports only by the front ends that render them.
SERVICE = ("harness.domain", "harness.store", "harness.drivers", "harness.service", "harness.jobs")
LOWER = {
    "harness.domain": ("harness.domain",),
    "harness.store": ("harness.domain", "harness.store"),
    "harness.drivers": ("harness.domain",),
    "harness.service": SERVICE,
    "harness.jobs": SERVICE,
}
HOSTS = ("simulator", "live_driver")
HOST_FRONT_ENDS = ("simulator.campaigns",)  # campaigns drive the manager's service, as the CLI does
REPORT_FRONT_ENDS = ("reports", "harness.cli", "harness.report", "simulator.campaigns.cli")


def layering_breaches(graph: nx.DiGraph) -> list[str]:
    breaches = []
    for source, target in sorted(graph.edges):
        host = within(source, *HOSTS) and not within(source, *HOST_FRONT_ENDS)
        if host and within(target, "harness") and not within(target, "harness.drivers"):
            breaches.append(f"{source} -> {target}: a host imports only harness.drivers of harness")
        for layer, allowed in LOWER.items():
            if within(source, layer) and within(target, "harness") and not within(target, *allowed):
                breaches.append(f"{source} -> {target}: {layer} imports only {', '.join(allowed)}")
        if within(target, "features") and not within(source, "features"):
            breaches.append(f"{source} -> {target}: nothing imports features")
        if within(target, "reports") and not within(source, *REPORT_FRONT_ENDS):
            breaches.append(f"{source} -> {target}: reports are imported by the front ends only")
    return breaches


def test_the_source_tree_has_no_import_circles() -> None:
    found = circles(import_graph())
    assert not found, f"{len(found)} import circle(s):\n" + "\n".join(" -> ".join([*c, c[0]]) for c in found)


def test_imports_follow_the_layers_of_the_architecture() -> None:
    breaches = layering_breaches(import_graph())
    assert not breaches, "\n".join(breaches)


def test_the_pytest_plugin_opens_clouds_through_the_service_only() -> None:
    store = [t for t in import_graph().successors("harness.pytest_plugin") if within(t, "harness.store")]
    assert not store, f"harness.pytest_plugin imports {store}: open clouds through harness.service.cloud"


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        pytest.param({"a": "import b\n", "b": "def f():\n    from a import x\n"}, [["a", "b"]], id="function-level"),
        pytest.param(
            {"a": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b\n", "b": "import a\n"},
            [["a", "b"]],
            id="type-checking",
        ),
        pytest.param({"p/__init__.py": "", "p/a": "from . import b\n", "p/b": "from .a import x\n"}, [["p.a", "p.b"]]),
        pytest.param({"a": "import b\n", "b": "import c\n", "c": "import os\n"}, [], id="a-chain-is-no-circle"),
    ],
)
def test_the_checker_finds_circles_through_every_kind_of_import(
    tmp_path: Path, sources: dict[str, str], expected: list[list[str]]
) -> None:
    paths = {}
    for name, text in sources.items():
        path = tmp_path / (name if name.endswith(".py") else f"{name}.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        parts = list(path.relative_to(tmp_path).with_suffix("").parts)
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = nx.DiGraph()
    for module, path in paths.items():
        graph.add_edges_from((module, t) for t in imported(module, path, set(paths)))
    assert [sorted(c) for c in circles(graph)] == expected


def test_the_checker_finds_a_host_reaching_past_the_contract() -> None:
    graph = nx.DiGraph([("simulator.host", "harness.service.sync"), ("simulator.campaigns.run", "harness.service")])
    graph.add_edges_from([("live_driver.driver", "harness.drivers"), ("harness.store.uow", "harness.service.sync")])
    assert layering_breaches(graph) == [
        "harness.store.uow -> harness.service.sync: harness.store imports only harness.domain, harness.store",
        "simulator.host -> harness.service.sync: a host imports only harness.drivers of harness",
    ]
