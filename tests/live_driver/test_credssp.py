"""CredSSP end to end on loopback: the emulated host offers it (pyspnego's acceptor, NTLM
inside), the driver (``auth="credssp"``, requests-credssp) delegates the user's credentials,
and every message is sealed by the CredSSP TLS channel, in 16 KiB parts both ways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DiskSpec,
    GetInventory,
    HostUnreachable,
    Inventory,
    SnapshotRef,
    VMRef,
)
from live_driver.driver import PowerShellHyperVDriver
from simulator.psrp_endpoint.endpoint import EmulatedHost


@pytest.fixture
def credssp_host() -> Iterator[EmulatedHost]:
    with EmulatedHost(username="tester", password="S3cret-pass", credssp=True) as em:
        yield em


def test_the_driver_works_over_credssp_with_multi_part_sealing(credssp_host: EmulatedHost) -> None:
    big = "vm-" + "x" * 60  # long names: the pipelines and the replies outgrow 16 KiB
    with PowerShellHyperVDriver(**credssp_host.driver_config(auth="credssp")) as d:
        for i in range(30):
            d.execute(DeployVM(VMRef(f"{big}-{i:02d}"), 1024, 1, (DiskSpec(f"vol-{i}", 2**30),)))
        d.execute(CreateVMSnapshot(VMRef(f"{big}-07"), SnapshotRef("x'; Remove-VM *")))
        inventory = d.execute(GetInventory(VMRef("*")))
        d.execute(DeleteVMSnapshot(VMRef(f"{big}-07"), SnapshotRef("x'; Remove-VM *")))
    assert isinstance(inventory, Inventory) and len(inventory.vms) == 30
    assert [c.name for c in inventory.vms[7].checkpoints] == ["x'; Remove-VM *"]
    assert credssp_host.authenticated == ["credssp"]
    assert not credssp_host.host.vm(f"{big}-07").checkpoints


def test_a_wrong_password_is_an_authentication_failure(credssp_host: EmulatedHost) -> None:
    with PowerShellHyperVDriver(**credssp_host.driver_config(auth="credssp", password="Wrong-pass")) as d:
        with pytest.raises(HostUnreachable, match="authentication failed") as refused:
            d.execute(GetInventory(VMRef("*")))
        assert d.session.opened == 0
    assert "Wrong-pass" not in str(refused.value)
    assert credssp_host.authenticated == []


def test_credssp_is_refused_where_not_offered() -> None:
    with (
        EmulatedHost(username="tester", password="S3cret-pass") as em,
        PowerShellHyperVDriver(**em.driver_config(auth="credssp")) as d,
        pytest.raises(HostUnreachable, match="authentication failed"),
    ):
        d.execute(GetInventory(VMRef("*")))
