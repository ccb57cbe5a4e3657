"""The notation the features write snapshot trees in, and its parser and renderer.

``A(B, C*)``: A is the parent of B and C, ``*`` marks the current snapshot, ``A, B`` is two
roots. :func:`render_tree` writes siblings in natural name order, so two trees are equal
when their renderings are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"\s*([^(),\s*]+)(\*?)\s*|\s*([(),])\s*")


@dataclass
class Node:
    name: str
    current: bool = False
    children: list[Node] = field(default_factory=list)


def parse_tree(text: str) -> list[Node]:
    """``A(B, C*)`` -> nodes; ``*`` marks the current snapshot; ``A, B`` is two roots."""
    tokens = [m.group(1) or m.group(3) for m in _TOKEN.finditer(text)]
    stars = [bool(m.group(2)) for m in _TOKEN.finditer(text)]
    pos = 0

    def forest(closing: str | None) -> list[Node]:
        nonlocal pos
        out: list[Node] = []
        while pos < len(tokens) and tokens[pos] != closing:
            if tokens[pos] == ",":
                pos += 1
                continue
            node = Node(tokens[pos], stars[pos])
            pos += 1
            if pos < len(tokens) and tokens[pos] == "(":
                pos += 1
                node.children = forest(")")
                pos += 1
            out.append(node)
        return out

    return forest(None)


def walk(nodes: list[Node], parent: str | None = None) -> Iterator[tuple[Node, str | None]]:
    """Pre-order: each node with its parent's name."""
    for node in nodes:
        yield node, parent
        yield from walk(node.children, node.name)


def _natural(name: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def render_tree(nodes: list[Node]) -> str:
    def one(n: Node) -> str:
        kids = ", ".join(one(c) for c in sorted(n.children, key=lambda c: _natural(c.name)))
        return n.name + ("*" if n.current else "") + (f"({kids})" if kids else "")

    return ", ".join(one(n) for n in sorted(nodes, key=lambda n: _natural(n.name)))


def tree_from(items: list[tuple[str, str | None, bool]]) -> list[Node]:
    """Nodes from (name, parent name, current) triples. A parent that is not among the
    items (a dangling reference) shows as a node of its own, so it never passes for a root."""
    nodes = {name: Node(name, current) for name, _, current in items}
    roots: list[Node] = []
    for name, parent, _ in items:
        if parent is not None and parent not in nodes:
            nodes[parent] = Node(parent)
            roots.append(nodes[parent])
        (nodes[parent].children if parent is not None else roots).append(nodes[name])
    return roots
