"""Guest addresses: one IPv4 address per VM, from the host's guest range on loopback.

A VM's default NIC gets its address when it is first defined on the host (deploy or
register) and keeps it across stop (unregister) and start; :meth:`HyperVHost.destroy`
releases it. The manager may name the address itself (the ``ip_address`` of
:class:`~harness.drivers.DeployVM`, :class:`~harness.drivers.RegisterVM` and
:class:`~harness.drivers.ImportVM`, from the zone's NIC allocation); when it does not, the
host takes the lowest free address of its range. The simulated guests bind their SSH servers
to these addresses, so only addresses inside ``127.0.0.0/8`` are ever bound
(:func:`bindable`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection

from harness.drivers import OperationFailed

#: The default guest range (CloudStack's zone guest CIDR, here on loopback).
DEFAULT_GUEST_RANGE = "127.10.0.0/16"
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


def guest_range(cidr: str) -> ipaddress.IPv4Network:
    """Parse a guest range; it must lie inside ``127.0.0.0/8`` and hold at least one host."""
    try:
        net = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError as err:
        raise ValueError(f"not an IPv4 network: {cidr!r}") from err
    if not net.subnet_of(LOOPBACK) or net.num_addresses < 4:
        raise ValueError(f"the guest range must be a network of 4 or more addresses inside 127.0.0.0/8: {cidr!r}")
    return net


def checked(address: str) -> str:
    """A manager-given address in its canonical form, or :class:`OperationFailed`."""
    try:
        return str(ipaddress.IPv4Address(address))
    except ValueError:
        raise OperationFailed(f"The IP address '{address}' is not a valid IPv4 address.") from None


def next_free(cidr: str, taken: Collection[str]) -> str:
    """A host address of ``cidr`` not in ``taken``: the one after the ``len(taken)`` first
    when that is free (O(1) while nothing was released), else the lowest free one.
    :class:`OperationFailed` when the range is exhausted."""
    net = guest_range(cidr)
    first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1
    hint = first + len(taken)
    if hint <= last and (text := _dotted(hint)) not in taken:
        return text
    used = set(taken)
    for a in range(first, last + 1):
        if (text := _dotted(a)) not in used:
            return text
    raise OperationFailed(f"No free guest address is left in {cidr}.")


def _dotted(a: int) -> str:
    return f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"


def bindable(address: str) -> bool:
    """Whether a simulated guest may listen on ``address`` (loopback only)."""
    try:
        return ipaddress.IPv4Address(address) in LOOPBACK
    except ValueError:
        return False
