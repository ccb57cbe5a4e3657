"""What one hvsnap scenario costs, against a bare pytest-bdd scenario in the same run.

    .venv/bin/python benchmarks/features.py [--rows 300] [--json reports/out/bench-features.json]

One pytest process runs ``features/`` (on the simulator) and a generated bare feature: a
Scenario Outline with ``--rows`` rows of ``--steps`` steps (about the features' mean), each
step parsed with ``parsers.parse`` and doing nothing. Each test's wall time (setup, call, teardown)
is recorded; the ratio is the mean hvsnap scenario over the mean bare one (target: <= 20).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BARE = ROOT / "reports" / "out" / "bench-features-bare"

BARE_STEPS = '''
from pytest_bdd import given, parsers, scenarios, then, when

scenarios("{feature}")


@given(parsers.parse('a bare thing "{{name}}"'), target_fixture="thing")
def _(name: str) -> dict[str, str]:
    return {{"name": name}}


@when(parsers.parse('the bare step {{n:d}} runs on "{{name}}"'))
def _(thing: dict[str, str], n: int, name: str) -> None:
    thing[str(n)] = name


@then(parsers.parse('the bare thing is "{{name}}"'))
def _(thing: dict[str, str], name: str) -> None:
    assert thing["name"] == name
'''


def bare_feature(rows: int, steps: int) -> str:
    whens = "\n".join(f'    When the bare step {i} runs on "<name>"' for i in range(max(steps - 2, 1)))
    table = "\n".join(f"      | n{i:05d} |" for i in range(rows))
    return (
        "Feature: Bare\n\n  Scenario Outline: Bare <name>\n"
        f'    Given a bare thing "<name>"\n{whens}\n    Then the bare thing is "<name>"\n\n'
        f"    Examples:\n      | name |\n{table}\n"
    )


class Timer:
    """A pytest plugin: wall time per test, and Gherkin steps per test."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.steps: dict[str, int] = {}
        self.failed: list[str] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, Any, None]:
        t0 = time.perf_counter()
        yield
        self.seconds[item.nodeid] = time.perf_counter() - t0

    def pytest_bdd_after_step(self, request: pytest.FixtureRequest, **_: Any) -> None:
        nodeid = request.node.nodeid
        self.steps[nodeid] = self.steps.get(nodeid, 0) + 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=300, help="rows of the bare Scenario Outline")
    ap.add_argument("--steps", type=int, default=7, help="steps per bare scenario (about the features' mean)")
    ap.add_argument("--json", type=Path, default=ROOT / "reports" / "out" / "bench-features.json")
    args = ap.parse_args(argv)

    steps = args.steps
    BARE.mkdir(parents=True, exist_ok=True)
    feature = BARE / "bare.feature"
    feature.write_text(bare_feature(args.rows, steps))
    (BARE / "test_bare.py").write_text(BARE_STEPS.format(feature=feature))

    timer = Timer()
    t0 = time.perf_counter()
    code = pytest.main(
        ["-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT), str(ROOT / "features"), str(BARE)],
        plugins=[timer],
    )
    total = time.perf_counter() - t0
    ours = {k: v for k, v in timer.seconds.items() if not k.startswith("reports/")}
    bare = {k: v for k, v in timer.seconds.items() if k.startswith("reports/")}
    if code != 0 or not ours or not bare:
        print(f"pytest exited {code}; failed: {timer.failed[:5]}", file=sys.stderr)
        return 1
    our_steps = statistics.mean(timer.steps.get(k, 0) for k in ours)
    bare_steps = statistics.mean(timer.steps.get(k, 0) for k in bare)
    result = {
        "scenarios": len(ours),
        "features_seconds": round(sum(ours.values()), 3),
        "run_seconds": round(total, 3),
        "mean_ms": round(1000 * statistics.mean(ours.values()), 3),
        "median_ms": round(1000 * statistics.median(ours.values()), 3),
        "p95_ms": round(1000 * sorted(ours.values())[int(0.95 * (len(ours) - 1))], 3),
        "mean_steps": round(our_steps, 2),
        "bare_scenarios": len(bare),
        "bare_mean_ms": round(1000 * statistics.mean(bare.values()), 3),
        "bare_steps": round(bare_steps, 2),
    }
    result["ratio"] = round(result["mean_ms"] / result["bare_mean_ms"], 1)
    result["ratio_per_step"] = round((result["mean_ms"] / our_steps) / (result["bare_mean_ms"] / bare_steps), 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"hvsnap scenario {result['mean_ms']:.1f} ms vs bare pytest-bdd scenario {result['bare_mean_ms']:.2f} ms: "
        f"{result['ratio']}x (target <= 20x); per step {result['ratio_per_step']}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
