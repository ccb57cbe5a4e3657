"""apache-libcloud's CloudStack driver against ``hvsnap serve``: locations, sizes,
images, nodes (created and destroyed), volumes and volume snapshots, and the VM snapshot
commands through the driver's own request helpers."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import pytest
from libcloud.compute.drivers.cloudstack import CloudStackNodeDriver
from libcloud.compute.providers import Provider, get_driver
from libcloud.compute.types import NodeState

from harness.api.server import Serving


@pytest.fixture
def driver(server: Serving) -> CloudStackNodeDriver:
    url = urlsplit(server.endpoint)
    admin = server.cloud.admin
    cls: Any = get_driver(Provider.CLOUDSTACK)
    drv: CloudStackNodeDriver = cls(
        admin.api_key, admin.secret_key, host=url.hostname, port=url.port, path=url.path, secure=False
    )
    drv.connection.poll_interval = 0.02  # the instant host needs no second between polls
    return drv


def test_libcloud_lists_creates_snapshots_and_destroys(driver: CloudStackNodeDriver) -> None:
    (location,) = driver.list_locations()
    assert location.name == "zone1"
    sizes = {s.name: s for s in driver.list_sizes()}
    assert sizes["small"].ram == 512
    images = driver.list_images()
    assert {i.extra["hypervisor"] for i in images} == {"Hyperv"}
    assert {i.extra["format"] for i in images} == {"VHDX"}

    stopped = driver.create_node(name="lc-off", size=sizes["small"], image=images[0], location=location)
    assert stopped.state == NodeState.STOPPED  # libcloud asks startvm=false by default
    node = driver.create_node(name="lc-node", size=sizes["small"], image=images[0], location=location, ex_start_vm=True)
    assert node.state == NodeState.RUNNING
    listed = {n.id: n for n in driver.list_nodes()}
    assert {node.id, stopped.id} <= set(listed)
    # libcloud files the loopback guest address among the public ones (not an RFC 1918 range)
    (address,) = listed[node.id].public_ips + listed[node.id].private_ips
    assert ipaddress.IPv4Address(address) in ipaddress.IPv4Network("127.10.0.0/16")

    (root,) = [v for v in driver.list_volumes() if v.extra.get("instance_id") == node.id]
    snapshot = driver.create_volume_snapshot(root, name="root-copy")
    assert snapshot.extra["volume_id"] == root.id

    made = driver._async_request("createVMSnapshot", params={"virtualmachineid": node.id, "name": "lc"})
    snap = made["vmsnapshot"]
    assert (snap["displayname"], snap["state"]) == ("lc", "Ready")
    listed_snaps = driver._sync_request("listVMSnapshot", params={"virtualmachineid": node.id})
    assert [s["id"] for s in listed_snaps["vmSnapshot"]] == [snap["id"]]
    reverted = driver._async_request("revertToVMSnapshot", params={"vmsnapshotid": snap["id"]})
    assert reverted["virtualmachine"]["id"] == node.id
    assert driver._async_request("deleteVMSnapshot", params={"vmsnapshotid": snap["id"]})["success"] is True

    assert driver.destroy_node(node) is True
    assert node.id not in {n.id for n in driver.list_nodes() if n.state != NodeState.TERMINATED}
