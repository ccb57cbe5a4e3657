"""Sharded campaigns: `hvsnap simulate --shards N` on the process pool, a Dask LocalCluster
and a Dask scheduler give one JSON; the merge is exact."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from simulator.campaigns.run import Simulation, percentiles, simulate
from simulator.campaigns.scenario import Scenario, Shard
from simulator.campaigns.shards import RELATIVE_ACCURACY, run_sharded

distributed = pytest.importorskip("dask.distributed")

SCENARIOS = Path(__file__).resolve().parents[2] / "simulator" / "scenarios"


def _scenario_file(tmp_path: Path) -> Path:
    text = (SCENARIOS / "export-on-stop.yaml").read_text().replace("duration: 1d", "duration: 3h")
    path = tmp_path / "fleet.yaml"
    path.write_text(text.replace("hosts: 2, vms: 20", "hosts: 3, vms: 12"))
    return path


def _sharded_json(path: Path, *extra: str) -> dict[str, object]:
    out = CliRunner().invoke(main, ["simulate", str(path), "--shards", "3", "--json", *extra])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result.pop("wall_seconds") >= 0
    return result


def test_the_merged_json_is_the_same_on_the_pool_on_local_dask_and_on_a_scheduler(tmp_path: Path) -> None:
    path = _scenario_file(tmp_path)
    pool = _sharded_json(path, "--workers", "2")
    local = _sharded_json(path, "--scheduler", "local:2")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0", host="127.0.0.1"
    )
    try:
        remote = _sharded_json(path, "--scheduler", cluster.scheduler_address)
    finally:
        cluster.close()
    assert pool == local == remote
    assert [s["vms"] for s in pool["shards"]] == [4, 4, 4]  # type: ignore[index]
    assert pool["invariants"]["ok"] and pool["invariants"]["shards_ok"] == [True, True, True]  # type: ignore[index]


def test_counts_sum_and_percentiles_merge_within_the_sketch_accuracy() -> None:
    scenario = Scenario.load(SCENARIOS / "export-on-stop.yaml").with_values({"duration_s": 4 * 3600})
    shards = Shard.split(scenario.fleet, 2)
    sims = [Simulation(scenario, 7, shard=s) for s in shards]
    singles = [sim.run() for sim in sims]
    with ThreadPoolExecutor(1) as one:
        merged, _ = run_sharded(scenario, 7, 2, one)
    assert merged["workflows"] == sum(r["workflows"] for r in singles)
    assert merged["bytes"]["exported"] == sum(r["bytes"]["exported"] for r in singles)
    joined = "".join(f"{r['event_log_sha256']}\n" for r in singles)
    assert merged["event_log_sha256"] == hashlib.sha256(joined.encode()).hexdigest()
    for op in ("create", "delete", "stop", "export"):
        exact = percentiles([v for sim in sims for v in sim.latencies[op]])
        got = merged["operations"][op]
        assert got["count"] == exact["count"] > 0
        for q in ("p50", "p95", "p99"):
            assert got[q] == pytest.approx(exact[q], rel=2 * RELATIVE_ACCURACY)
    depths = percentiles([d for sim in sims for d in sim.samples["depth"]])
    assert merged["chain_depth"] == depths  # few distinct values: counted exactly


def test_one_shard_is_the_unsharded_run() -> None:
    scenario = Scenario.load(SCENARIOS / "export-on-stop.yaml").with_values({"duration_s": 3 * 3600})
    with ThreadPoolExecutor(1) as one:
        merged, outputs = run_sharded(scenario, 7, 1, one)
    whole = simulate(scenario, 7)
    assert outputs[0].result["event_log_sha256"] == whole["event_log_sha256"]
    assert merged["workflows"] == whole["workflows"]
    assert merged["operations"]["create"]["count"] == whole["operations"]["create"]["count"]


def test_a_report_renders_from_a_merged_result(tmp_path: Path) -> None:
    report = tmp_path / "report"
    out = CliRunner().invoke(
        main, ["simulate", str(_scenario_file(tmp_path)), "--shards", "2", "--report", str(report)]
    )
    assert out.exit_code == 0, out.output
    result = json.loads((report / "result.json").read_text())
    page = (report / "index.html").read_text()
    assert result["event_log_sha256"] in page
    assert result["series"]["t"] and len(result["series"]["storage_used"]) == 3
    for shard in result["shards"]:  # each shard's log is written beside it and hashes to its hash
        log = (report / f"events-{shard['shard']}.log").read_bytes()
        assert hashlib.sha256(log).hexdigest() == shard["event_log_sha256"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shards", "4"], "splits into 1 to 3 shards"),
        (["--shards", "0"], "0 is not in the range"),
        (["--shards", "2", "--sweep", "strategy=on-stop,none"], "does not combine with --sweep"),
    ],
)
def test_a_bad_shard_request_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    out = CliRunner().invoke(main, ["simulate", str(_scenario_file(tmp_path)), *args])
    assert out.exit_code == 2
    assert message in out.output
    assert "Traceback" not in out.output


def test_a_bad_local_scheduler_is_refused_without_a_traceback(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        main, ["simulate", str(_scenario_file(tmp_path)), "--shards", "2", "--scheduler", "local:x"]
    )
    assert out.exit_code == 1
    assert "worker count" in out.output
    assert "Traceback" not in out.output


def test_the_readme_shard_and_soak_commands_run_as_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (SCENARIOS.parents[1] / "README.md").read_text()
    body = readme.split("## Simulate\n", 1)[1].split("\n## ", 1)[0]
    lines = [
        line[4:] for line in body.splitlines() if line.startswith("    ") and ("--shards" in line or "soak" in line)
    ]
    assert len(lines) == 3
    monkeypatch.chdir(SCENARIOS.parents[1])
    outputs = []
    for line in lines[:2]:
        out = CliRunner().invoke(main, shlex.split(line, comments=True)[1:])
        assert out.exit_code == 0, f"$ {line}\n{out.output}"
        outputs.append(out.output)
    assert json.loads(outputs[0])["shards"][1]["hosts"] == [1, 1]
    assert "invariants" in outputs[1] and "ok" in outputs[1]
    done = subprocess.run(["bash", "-c", lines[2]], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["outcome"]["ok"] is True
