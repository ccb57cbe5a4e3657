"""Checked by mypy (tests/test_contract.py): each line marked ``# E: <code>`` must be an
error of that code, and no other line may be one. A wrong answer type is a type error."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from harness import drivers as hv
from harness.jobs.runners import ThreadRunner, Workflow, ask
from simulator.operations import RestoreCheckpoint, TimedDriver
from simulator.operations import ask as wait_for

VM = hv.VMRef("i-2-7-VM")


def wrong_answer_from_a_driver(driver: hv.HyperVDriver) -> None:
    answer: hv.VMAnswer = driver.execute(hv.CreateVMSnapshot(VM, hv.SnapshotRef("A")))  # E: assignment
    print(answer)


def wrong_answer_in_a_workflow() -> Workflow[None]:
    inventory: hv.Inventory = yield from ask(hv.ReadGuestData(VM, "motd"))  # E: assignment
    print(inventory)


def an_answer_read_without_ask() -> Workflow[None]:
    answer = yield hv.CreateVMSnapshot(VM, hv.SnapshotRef("A"))
    print(answer.volumes)  # E: attr-defined


def not_a_command() -> Workflow[None]:
    yield hv.SnapshotAnswer  # E: misc


def a_simulator_operation_sent_to_a_driver(driver: hv.HyperVDriver) -> None:
    driver.execute(RestoreCheckpoint(VM, hv.SnapshotRef("A")))  # E: arg-type


class UntypedDriver:
    """An execute that loses the answer's type does not implement the contract."""

    capabilities = hv.Capabilities()

    def execute(self, command: hv.Command[Any]) -> hv.Answer:
        raise NotImplementedError

    def close(self) -> None: ...


def runs_an_untyped_driver() -> ThreadRunner:
    return ThreadRunner(UntypedDriver())  # E: arg-type


def wrong_answer_in_a_simpy_process(host: TimedDriver) -> Generator[simpy.Event, Any, None]:
    answer: hv.VMAnswer = yield from wait_for(host, hv.GetInventory(hv.VMRef("*")))  # E: assignment
    print(answer)
