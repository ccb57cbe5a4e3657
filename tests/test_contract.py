"""The typed host contract: each command names its answer class (``Command[A]``), mypy
holds every caller to it, and every driver answers each command with exactly that class."""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ForwardRef, get_args, get_origin

import pytest
import simpy
from mypy import api

import harness.drivers as contract
from live_driver.driver import PowerShellHyperVDriver
from simulator.costs import Costs
from simulator.driver import SimulatedHyperVDriver
from simulator.host import HyperVHost
from simulator.psrp_endpoint.endpoint import EmulatedHost
from simulator.timed import EventLog, TimedHost

ROOT_DIR = Path(__file__).resolve().parents[1]
CHECKS = Path(__file__).resolve().parent / "contract_typing"
VM = contract.VMRef("i-2-7-VM")
ROOT = contract.DiskSpec("vol-root", 8 * 2**30)
DATA = contract.DiskSpec("vol-data", 2**30)


def mypy(path: Path) -> tuple[int, list[str]]:
    """mypy's exit status and error lines for ``path``, under the project's configuration."""
    out, err, status = api.run(
        [str(path), "--config-file", str(ROOT_DIR / "pyproject.toml"), "--no-pretty", "--show-error-codes"]
    )
    assert not err, err
    return status, [line for line in out.splitlines() if ": error: " in line]


def test_mypy_accepts_every_typed_way_an_answer_travels() -> None:
    status, errors = mypy(CHECKS / "answers_typed.py")
    assert (status, errors) == (0, [])


def test_mypy_rejects_a_wrong_answer_type_and_an_untyped_driver() -> None:
    path = CHECKS / "answers_mistyped.py"
    marked = {
        (n, m.group(1))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if (m := re.search(r"# E: ([\w-]+)$", line))
    }
    status, errors = mypy(path)
    found = {(int(m.group(1)), m.group(2)) for e in errors if (m := re.search(r":(\d+): error: .*\[([\w-]+)\]$", e))}
    assert status == 1
    assert len(marked) == 7
    assert found == marked


# --------------------------------------------------------------------------- at run time


def declared_answer(command: type[contract.Command[Any]]) -> type:
    """The answer class a command class names as its type argument."""
    (base,) = (b for b in command.__orig_bases__ if get_origin(b) is contract.Command)  # type: ignore[attr-defined]
    (arg,) = get_args(base)
    answer = getattr(contract, arg.__forward_arg__) if isinstance(arg, ForwardRef) else arg
    assert isinstance(answer, type) and issubclass(answer, contract.Answer)
    return answer


def every_command() -> set[type[contract.Command[Any]]]:
    return {
        c
        for c in vars(contract).values()
        if isinstance(c, type) and issubclass(c, contract.Command) and c is not contract.Command
    }


def lifecycle(
    execute: Callable[[contract.Command[Any]], Any], guest_data: bool
) -> list[tuple[contract.Command[Any], object]]:
    """Every command of the contract at least once, in an order a host accepts; returns each
    command with its answer."""
    done: list[tuple[contract.Command[Any], object]] = []

    def do(command: contract.Command[Any]) -> Any:
        answer = execute(command)
        done.append((command, answer))
        return answer

    do(contract.DeployVM(VM, 512, 1, (ROOT,)))
    if guest_data:
        do(contract.WriteGuestData(VM, "motd", "hello"))
        do(contract.ReadGuestData(VM, "motd"))
    do(contract.CreateVMSnapshot(VM, contract.SnapshotRef("A")))
    do(contract.CreateVMSnapshot(VM, contract.SnapshotRef("B"), memory=True))
    do(contract.RevertToVMSnapshot(VM, contract.SnapshotRef("B")))
    do(contract.AttachVolume(VM, DATA))
    do(contract.DetachVolume(VM, DATA))
    do(contract.CreateVolumeSnapshot(VM, ROOT))
    do(contract.DeleteVMSnapshot(VM, contract.SnapshotRef("B")))
    do(contract.SaveVM(VM))
    do(contract.StartVM(VM))
    do(contract.PowerOffVM(VM))
    do(contract.ExportVM(VM))
    do(contract.GetInventory(contract.VMRef("*")))
    gone = do(contract.UnregisterVM(VM))
    disks = tuple(contract.DiskSpec(v.volume_uuid, ROOT.size, v.path) for v in gone.volumes)
    do(contract.ImportVM(VM, 512, 1, disks))
    do(contract.UnregisterVM(VM))
    do(contract.RegisterVM(VM, 512, 1, disks))
    do(contract.UnregisterVM(VM))
    do(contract.ReclaimStorage(VM, disks))
    do(contract.DestroyVM(VM))
    return done


def test_every_command_names_an_answer_class_and_the_lifecycle_sends_each() -> None:
    sent = {type(c) for c, _ in lifecycle(SimulatedHyperVDriver().execute, guest_data=True)}
    assert sent == every_command()
    assert {declared_answer(c) for c in every_command()} == {
        contract.VMAnswer,
        contract.SnapshotAnswer,
        contract.UnregisterAnswer,
        contract.ExportAnswer,
        contract.ReclaimAnswer,
        contract.VolumeSnapshotAnswer,
        contract.GuestDataAnswer,
        contract.Inventory,
    }


def timed() -> tuple[Callable[[contract.Command[Any]], Any], Callable[[], None]]:
    env = simpy.Environment()
    host = TimedHost(env, Costs(), random.Random(7), EventLog())

    def execute(command: contract.Command[Any]) -> Any:
        process = host.execute(command)
        env.run(until=process)
        return process.value

    return execute, host.close


@pytest.mark.parametrize("kind", ["instant", "timed", "live"])
def test_every_driver_answers_each_command_with_the_class_it_declares(kind: str) -> None:
    with contextlib.ExitStack() as stack:
        if kind == "instant":
            execute: Callable[[contract.Command[Any]], Any] = stack.enter_context(SimulatedHyperVDriver()).execute
        elif kind == "timed":
            execute, close = timed()
            stack.callback(close)
        else:
            endpoint = stack.enter_context(EmulatedHost(HyperVHost(), username="tester", password="S3cret-pass"))
            live = PowerShellHyperVDriver(**endpoint.driver_config(merge_poll_seconds=0.01, operation_timeout=5))
            execute = stack.enter_context(live).execute
        done = lifecycle(execute, guest_data=kind != "live")
    wrong = [(type(c).__name__, type(a).__name__) for c, a in done if type(a) is not declared_answer(type(c))]
    assert len(done) >= 20
    assert wrong == []
