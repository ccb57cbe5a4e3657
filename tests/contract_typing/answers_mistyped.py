"""Checked by mypy (tests/test_contract.py): each line marked ``# E: <code>`` must be an
error of that code, and no other line may be one. A wrong answer type is a type error."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from harness.drivers import (
    Answer,
    Capabilities,
    Command,
    CreateVMSnapshot,
    GetInventory,
    HyperVDriver,
    Inventory,
    ReadGuestData,
    SnapshotAnswer,
    SnapshotRef,
    VMAnswer,
    VMRef,
)
from harness.jobs.runners import ThreadRunner, Workflow, ask
from simulator.operations import TimedDriver
from simulator.operations import ask as wait_for

VM = VMRef("i-2-7-VM")


def wrong_answer_from_a_driver(driver: HyperVDriver) -> None:
    answer: VMAnswer = driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))  # E: assignment
    print(answer)


def wrong_answer_in_a_workflow() -> Workflow[None]:
    inventory: Inventory = yield from ask(ReadGuestData(VM, "motd"))  # E: assignment
    print(inventory)


def an_answer_read_without_ask() -> Workflow[None]:
    answer = yield CreateVMSnapshot(VM, SnapshotRef("A"))
    print(answer.volumes)  # E: attr-defined


def not_a_command() -> Workflow[None]:
    yield SnapshotAnswer  # E: misc


class UntypedDriver:
    """An execute that loses the answer's type does not implement the contract."""

    capabilities = Capabilities()

    def execute(self, command: Command[Any]) -> Answer:
        raise NotImplementedError

    def close(self) -> None: ...


def runs_an_untyped_driver() -> ThreadRunner:
    return ThreadRunner(UntypedDriver())  # E: arg-type


def wrong_answer_in_a_simpy_process(host: TimedDriver) -> Generator[simpy.Event, Any, None]:
    answer: VMAnswer = yield from wait_for(host, GetInventory(VMRef("*")))  # E: assignment
    print(answer)
