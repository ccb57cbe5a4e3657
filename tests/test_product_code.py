"""Product code never uses ``assert`` for control flow: ``python -O`` strips it, and what it
guarded then fails later with an error no user should see. Tests, benchmarks and the
feature steps may assert; the packages a user runs may not."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("harness", "simulator", "live_driver", "reports")


def asserts_in(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]


def test_product_code_has_no_assert_statements() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in asserts_in(path)
    ]
    assert found == [], f"assert in product code (raise a CloudError or an explicit exception): {found}"


def test_the_check_finds_an_assert(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f(x):\n    if x:\n        assert x > 1\n    return x\n", encoding="utf-8")
    assert asserts_in(sample) == [3]
