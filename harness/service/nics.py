"""VMs' NICs on the zone's guest network (a Basic zone: one shared guest network).

Each VM gets one default NIC when it is deployed, with the lowest free address of the
guest range (``guest.network.cidr``; the first address is the gateway) and a MAC derived
from that address; the address goes back to the range when the VM is expunged. The host
learns the address through the contract (``ip_address`` of ``DeployVM``/``RegisterVM``/
``ImportVM``), as Hyper-V would hand it out by DHCP.
"""

from __future__ import annotations

import ipaddress
import uuid

from harness.domain import config
from harness.domain.errors import CloudRuntimeError
from harness.domain.model import VM, Nic, Zone
from harness.store.ports import UnitOfWork


def guest_network(uow: UnitOfWork) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(config.parse(config.GUEST_NETWORK_CIDR, uow.config.get(config.GUEST_NETWORK_CIDR)))


def network_uuid(zone: Zone) -> str:
    """The id of the zone's guest network (a Basic zone has exactly one)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hvsnap:guest-network:{zone.uuid}"))


def network_name(zone: Zone) -> str:
    return f"guestNetworkForBasicZone-{zone.name}"


def allocate(uow: UnitOfWork, vm: VM) -> Nic:
    """The VM's default NIC with the lowest free address of the guest range (530 when the
    range is full). Call inside the unit of work that records the VM."""
    network = guest_network(uow)
    gateway = network.network_address + 1
    first, last = network.network_address, network.broadcast_address
    if network.num_addresses > 2:  # as network.hosts(): neither the network nor the broadcast address
        first, last = first + 1, last - 1
    address = uow.nics.lowest_free(first, last, reserved=(gateway,))
    if address is not None:
        mac = "02:00:" + ":".join(f"{b:02x}" for b in address.packed)
        return uow.nics.add(Nic(0, str(uuid.uuid4()), vm.id, str(address), str(network.netmask), str(gateway), mac))
    raise CloudRuntimeError(f"Insufficient address capacity: the guest network {network} has no free address")


def default_address(uow: UnitOfWork, vm_id: int) -> str | None:
    """The address of the VM's default NIC, for the host commands that place it."""
    for nic in uow.nics.of_vms([vm_id]):
        if nic.default_nic:
            return nic.ip4_address
    return None


def release(uow: UnitOfWork, vm_id: int) -> None:
    uow.nics.release(vm_id)
