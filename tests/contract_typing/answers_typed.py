"""Checked by mypy (tests/test_contract.py): every way an answer travels keeps its type.
Each ``assert_type`` fails the check if mypy infers anything else."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, assert_type

import simpy

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    ExportAnswer,
    ExportVM,
    GetInventory,
    GuestDataAnswer,
    HyperVDriver,
    ImportVM,
    Inventory,
    ReadGuestData,
    RegisterVM,
    SnapshotAnswer,
    SnapshotRef,
    UnregisterAnswer,
    UnregisterVM,
    VMAnswer,
    VMRef,
)
from harness.jobs.runners import Workflow, ask
from simulator.operations import TimedDriver
from simulator.operations import ask as wait_for

VM = VMRef("i-2-7-VM")


def through_a_driver(driver: HyperVDriver) -> None:
    assert_type(driver.execute(CreateVMSnapshot(VM, SnapshotRef("A"))), SnapshotAnswer)
    assert_type(driver.execute(UnregisterVM(VM)), UnregisterAnswer)
    assert_type(driver.execute(GetInventory(VMRef("*"))), Inventory)
    assert_type(driver.execute(ExportVM(VM)), ExportAnswer)


def in_a_workflow(register: bool) -> Workflow[int]:
    created = yield from ask(CreateVMSnapshot(VM, SnapshotRef("A")))
    assert_type(created, SnapshotAnswer)
    kind = RegisterVM if register else ImportVM  # either command answers a VMAnswer
    assert_type((yield from ask(kind(VM, 512, 1, ()))), VMAnswer)
    deployed = yield from ask(DeployVM(VM, 512, 1, ()))
    assert_type(deployed, VMAnswer)
    yield DeleteVMSnapshot(VM, SnapshotRef("A"))  # an answer nobody reads needs no ask
    return len(created.volumes) + len(deployed.volumes)


def in_a_simpy_process(host: TimedDriver) -> Generator[simpy.Event, Any, None]:
    assert_type((yield from wait_for(host, GetInventory(VMRef("*")))), Inventory)
    assert_type((yield from wait_for(host, ReadGuestData(VM, "motd"))), GuestDataAnswer)
