"""The FailoverClusters cmdlets of an emulated host that is a cluster node (``EmulatedHost(
cluster_nodes=...)``): ``Get-ClusterNode``, ``Get-ClusterGroup``, ``Stop-ClusterGroup``,
``Start-ClusterGroup`` and ``Move-ClusterVirtualMachineRole``, over the same ``HyperVHost``
model (the nodes share Cluster Shared Volumes, so every VM is in the one model; each
registered VM is a role named after it, owned by one node).

Objects have the module's shapes: ``ClusterGroup`` (Name, OwnerNode, State, GroupType,
Priority, IsCoreGroup, Cluster, Id) and ``ClusterNode`` (Name, NodeName, State, Id,
Cluster), with ``ClusterGroupState`` (Online 0, Offline 1, Failed 2, PartialOnline 3,
Pending 4), ``ClusterNodeState`` (Up 0, Down 1, Paused 2, Joining 3) and ``GroupType``
(VirtualMachine 111) numbers. Errors are ``ClusterCmdletException`` records with
``<Cmdlet>,Microsoft.FailoverClusters.PowerShell.<Class>Command`` ids.

The spec's failure case is modelled too: a ``Restore-VMSnapshot`` or ``Save-VM`` that turns a
running clustered VM Saved or Off behind the cluster's back is a failed role: the cluster
fails it over to another node and starts it cold (:meth:`Clustering.role_failed`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psrpcore.types import ErrorCategory, PSEnumBase, PSGuid, PSInt, PSNoteProperty, PSObject, PSString, PSType

from harness.drivers import Command, PowerOffVM, PowerState, SaveVM, StartVM, VMRef
from simulator.host import HyperVHost, VirtualMachine
from simulator.psrp_endpoint import objects as o
from simulator.psrp_endpoint.binding import Bound, Cmdlet, CmdletError

FC = "Microsoft.FailoverClusters.PowerShell"


@PSType([f"{FC}.ClusterGroupState"], rehydrate=False)
class ClusterGroupState(PSEnumBase):
    Online = 0
    Offline = 1
    Failed = 2
    PartialOnline = 3
    Pending = 4


@PSType([f"{FC}.ClusterNodeState"], rehydrate=False)
class ClusterNodeState(PSEnumBase):
    Up = 0
    Down = 1
    Paused = 2
    Joining = 3


@PSType([f"{FC}.GroupType"], rehydrate=False)
class GroupType(PSEnumBase):
    VirtualMachine = 111


@PSType(
    [f"{FC}.ClusterNode", f"{FC}.ClusterObject"],
    adapted_properties=[
        PSNoteProperty("Name", ps_type=PSString),
        PSNoteProperty("NodeName", ps_type=PSString),
        PSNoteProperty("State", ps_type=ClusterNodeState),
        PSNoteProperty("Id", ps_type=PSString),
        PSNoteProperty("Cluster", ps_type=PSString),
    ],
    rehydrate=False,
)
class ClusterNode(PSObject):
    pass


@PSType(
    [f"{FC}.ClusterGroup", f"{FC}.ClusterObject"],
    adapted_properties=[
        PSNoteProperty("Name", ps_type=PSString),
        PSNoteProperty("OwnerNode", ps_type=None),
        PSNoteProperty("State", ps_type=ClusterGroupState),
        PSNoteProperty("GroupType", ps_type=GroupType),
        PSNoteProperty("Priority", ps_type=PSInt),
        PSNoteProperty("IsCoreGroup", ps_type=None),
        PSNoteProperty("Cluster", ps_type=PSString),
        PSNoteProperty("Id", ps_type=PSGuid),
    ],
    rehydrate=False,
)
class ClusterGroup(PSObject):
    pass


@PSType([f"{FC}.ClusterCmdletException"], rehydrate=False)
class ClusterCmdletException(o.NETException):
    pass


class Clustering:
    """FailoverClusters cmdlets, mixed into the cmdlet table; inert without nodes."""

    host: HyperVHost
    computer: str
    act: Callable[[Command], None]  # Cmdlets.act: a state change, at once or in simulated time

    def _init_cluster(self) -> None:
        self.cluster_name = f"{self.computer}-CL"
        self.cluster_up: dict[str, bool] = {}
        self.role_owner: dict[str, str] = {}
        self.role_failovers = 0

    def cluster_table(self, nodes: tuple[str, ...]) -> list[Cmdlet]:
        """The cmdlets, when this host is a node of a cluster of ``nodes`` (its own name first)."""
        self._init_cluster()
        if not nodes:
            return []
        self.cluster_up = dict.fromkeys(nodes, True)
        s, strs = "str", "strs"
        return [
            Cmdlet("Get-ClusterNode", {"name": strs}, self.get_cluster_node),
            Cmdlet("Get-ClusterGroup", {"name": strs}, self.get_cluster_group),
            Cmdlet("Stop-ClusterGroup", {"name": strs}, self.stop_cluster_group),
            Cmdlet("Start-ClusterGroup", {"name": strs}, self.start_cluster_group),
            Cmdlet("Move-ClusterVirtualMachineRole", {"name": s, "node": s}, self.move_vm_role),
        ]

    @property
    def clustered(self) -> bool:
        return bool(self.cluster_up)

    # ------------------------------------------------------------------ the spec's failure case

    def role_failed(self, vm: str) -> None:
        """A running clustered VM went Saved or Off behind the cluster's back: the cluster
        fails its role over to another node and starts it cold there."""
        others = [n for n, up in self.cluster_up.items() if up and n != self.owner_of(vm)]
        if not others:
            return
        self.role_owner[vm] = others[0]
        self.role_failovers += 1
        self.act(PowerOffVM(VMRef(vm)))  # the failed instance is gone, and its memory
        self.act(StartVM(VMRef(vm)))

    def owner_of(self, vm: str) -> str:
        return self.role_owner.get(vm) or next(iter(self.cluster_up))

    # ------------------------------------------------------------------ objects

    def _node(self, name: str) -> PSObject:
        node = ClusterNode(
            Name=name,
            NodeName=name,
            State=ClusterNodeState.Up if self.cluster_up[name] else ClusterNodeState.Down,
            Id=str(list(self.cluster_up).index(name) + 1),
            Cluster=self.cluster_name,
        )
        return o.with_string(node, name)

    def _group(self, vm: VirtualMachine) -> PSObject:
        online = vm.power_state in (PowerState.Running, PowerState.Paused)
        group = ClusterGroup(
            Name=vm.name,
            OwnerNode=self._node(self.owner_of(vm.name)),
            State=ClusterGroupState.Online if online else ClusterGroupState.Offline,
            GroupType=GroupType.VirtualMachine,
            Priority=2000,
            IsCoreGroup=False,
            Cluster=self.cluster_name,
            Id=o.guid("cluster-group", vm.name),
        )
        return o.with_string(group, vm.name)

    def _cluster_not_found(self, cmdlet: str, what: str, name: str) -> CmdletError:
        exc = ClusterCmdletException(Message=f"The cluster {what} '{name}' could not be found.")
        fq = f"{cmdlet},{FC}.{cmdlet.replace('-', '')}Command"
        record = o.error_record(exc, fq, ErrorCategory.ObjectNotFound, "ClusterCmdletException", name, cmdlet)
        return CmdletError(record)

    def _groups(self, b: Bound) -> list[VirtualMachine]:
        names = b.names("name")
        if not names:
            return sorted(self.host.vms.values(), key=lambda v: v.name)
        out = []
        for name in names:
            vm = self.host.vms.get(name)
            if vm is None:
                raise self._cluster_not_found(b.cmdlet, "group", name)
            out.append(vm)
        return out

    # ------------------------------------------------------------------ cmdlets

    def get_cluster_node(self, b: Bound) -> list[Any]:
        names = b.names("name") or list(self.cluster_up)
        for name in names:
            if name not in self.cluster_up:
                raise self._cluster_not_found(b.cmdlet, "node", name)
        return [self._node(n) for n in names]

    def get_cluster_group(self, b: Bound) -> list[Any]:
        return [self._group(vm) for vm in self._groups(b)]

    def stop_cluster_group(self, b: Bound) -> list[Any]:
        """The VM role's offline action saves a running VM (the cluster's default)."""
        vms = self._groups(b)
        for vm in vms:
            if vm.power_state == PowerState.Running:
                self.act(SaveVM(VMRef(vm.name), through_cluster=True))
        return [self._group(vm) for vm in vms]

    def start_cluster_group(self, b: Bound) -> list[Any]:
        vms = self._groups(b)
        for vm in vms:
            if vm.power_state in (PowerState.Off, PowerState.Saved):
                self.act(StartVM(VMRef(vm.name)))
        return [self._group(vm) for vm in vms]

    def move_vm_role(self, b: Bound) -> list[Any]:
        """A live migration: the VM keeps running, its role changes owner."""
        [vm] = self._groups(b)
        node = b.get("node")
        if node not in self.cluster_up:
            raise self._cluster_not_found(b.cmdlet, "node", str(node))
        self.role_owner[vm.name] = node
        return [self._group(vm)]
