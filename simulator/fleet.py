"""Several timed hosts behind one ``execute``, as a campaign's manager sees its fleet.

A :class:`Fleet` is the timed driver interface (``execute`` returns a SimPy process) over a
list of :class:`~simulator.timed.TimedHost` s that share nothing: each VM is placed on one
host when it is first named (its deploy), round robin, and every later command for it goes to
that host; an inventory is every host's, merged and sorted by VM name, so the manager's sync
sees one host. A host that is down fails the inventory with its ``HostUnreachable``, as a
fleet-wide sync would.
"""

from __future__ import annotations

from collections.abc import Iterable

import simpy

from harness.drivers import GetInventory, Inventory, VMInventory, VMRef
from simulator.operations import Operation, ask
from simulator.timed import Proc, TimedHost


class Fleet:
    """Several timed hosts behind one ``execute``: a VM lives on the host it was deployed
    to (round robin); an inventory merges every host's."""

    def __init__(self, hosts: Iterable[TimedHost]) -> None:
        self.hosts = list(hosts)
        self.capabilities = self.hosts[0].capabilities if self.hosts else TimedHost.capabilities
        self.placement: dict[str, TimedHost] = {}
        self._next = 0

    def host_of(self, vm: str) -> TimedHost:
        host = self.placement.get(vm)
        if host is None:
            host = self.placement[vm] = self.hosts[self._next % len(self.hosts)]
            self._next += 1
        return host

    def execute(self, command: Operation) -> simpy.Process:
        return self.hosts[0].env.process(self.steps(command))

    def steps(self, command: Operation) -> Proc:
        if isinstance(command, GetInventory):
            return self._inventory()
        return self.host_of(command.vm.name).steps(command)

    def _inventory(self) -> Proc:
        vms: list[VMInventory] = []
        exported: list[str] = []
        for host in self.hosts:
            inv = yield from ask(host, GetInventory(VMRef("*")))
            vms.extend(inv.vms)
            exported.extend(inv.exported)
        return Inventory(tuple(sorted(vms, key=lambda v: v.name)), tuple(sorted(exported)))

    def close(self) -> None:
        """Nothing to release."""
