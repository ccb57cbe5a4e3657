"""Checked by mypy (tests/test_contract.py): every way an answer travels keeps its type.
Each ``assert_type`` fails the check if mypy infers anything else."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, assert_type

import simpy

from harness import drivers as hv
from harness.jobs.runners import Workflow, ask
from simulator.operations import TimedDriver
from simulator.operations import ask as wait_for

VM = hv.VMRef("i-2-7-VM")


def through_a_driver(driver: hv.HyperVDriver) -> None:
    assert_type(driver.execute(hv.CreateVMSnapshot(VM, hv.SnapshotRef("A"))), hv.SnapshotAnswer)
    assert_type(driver.execute(hv.UnregisterVM(VM)), hv.UnregisterAnswer)
    assert_type(driver.execute(hv.GetInventory(hv.VMRef("*"))), hv.Inventory)
    assert_type(driver.execute(hv.ExportVM(VM)), hv.ExportAnswer)


def in_a_workflow(register: bool) -> Workflow[int]:
    created = yield from ask(hv.CreateVMSnapshot(VM, hv.SnapshotRef("A")))
    assert_type(created, hv.SnapshotAnswer)
    kind = hv.RegisterVM if register else hv.ImportVM  # either command answers a VMAnswer
    assert_type((yield from ask(kind(VM, 512, 1, ()))), hv.VMAnswer)
    deployed = yield from ask(hv.DeployVM(VM, 512, 1, ()))
    assert_type(deployed, hv.VMAnswer)
    yield hv.DeleteVMSnapshot(VM, hv.SnapshotRef("A"))  # an answer nobody reads needs no ask
    return len(created.volumes) + len(deployed.volumes)


def in_a_simpy_process(host: TimedDriver) -> Generator[simpy.Event, Any, None]:
    assert_type((yield from wait_for(host, hv.GetInventory(hv.VMRef("*")))), hv.Inventory)
    assert_type((yield from wait_for(host, hv.ReadGuestData(VM, "motd"))), hv.GuestDataAnswer)
