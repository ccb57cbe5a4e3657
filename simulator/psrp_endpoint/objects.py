"""Hyper-V-shaped PowerShell objects and error records (``reference/hyperv.md`` §2, §6).

The classes are psrpcore ``PSType`` objects whose .NET properties sit in ``<Props>``
(adapted properties), as a real host serialises them, with the module's type names and
enum numbers. They are registered with ``rehydrate=False`` so a psrpcore-based client in
the same process is not handed the emulator's own classes back (``reference/psrp.md`` §8.10).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from psrpcore.types import (
    ErrorCategory,
    ErrorCategoryInfo,
    ErrorRecord,
    NETException,
    PSBool,
    PSDateTime,
    PSEnumBase,
    PSGuid,
    PSInt,
    PSInt64,
    PSNoteProperty,
    PSObject,
    PSPropertyInfo,
    PSString,
    PSType,
)

from harness.drivers import (
    HostError,
    HostUnreachable,
    InsufficientSpace,
    InvalidState,
    ObjectNotFound,
    OperationTimeout,
    StorageUnavailable,
)

_PS_GETATTRIBUTE = PSObject.__getattribute__
_PS_SET_INSTANCE = type(PSObject.PSObject).set_instance


def _getattribute(self: PSObject, item: str) -> Any:
    """psrpcore's ``PSObject.__getattribute__`` with the same answers, without the dict
    of every property it built on each attribute access (the emulator's top profile entry:
    its serializer reads a few attributes of every value it writes). Python attributes
    first, then the extended and the adapted properties, the last of a name winning."""
    if item != "__dict__":
        try:
            return super(PSObject, self).__getattribute__(item)
        except AttributeError:
            pass
        meta = super(PSObject, self).__getattribute__("PSObject")
        for props in (meta.extended_properties, meta.adapted_properties):
            for prop in reversed(props):
                if prop.name == item:
                    return prop.get_value(self)
    return _PS_GETATTRIBUTE(self, item)


_PS_SETATTR = PSObject.__setattr__


def _setattr(self: PSObject, key: str, value: Any) -> None:
    """psrpcore's ``PSObject.__setattr__`` with the same effect, without the attribute
    lookups it goes through for each list of properties (every property of every object
    the emulator builds, and each field of each received command, is set through it): a
    name not already a Python attribute sets the extended, else the adapted, property of
    that name, if there is one."""
    python = super(PSObject, self)
    if key != "PSObject" and key not in python.__getattribute__("__dict__"):
        meta = python.__getattribute__("PSObject")
        for props in (meta.extended_properties, meta.adapted_properties):
            for prop in props:
                if prop.name == key:
                    prop.set_value(value, self)
                    return
    python.__setattr__(key, value)


_PS_INIT = PSObject.__init__


def _init(self: PSObject, *args: Any, **kwargs: Any) -> None:
    """psrpcore's ``PSObject.__init__``, which for no arguments on an object with no
    properties does nothing (the primitives: every string and number of every object the
    emulator builds is one) after building a table of the properties it has not got."""
    if args or kwargs:
        _PS_INIT(self, *args, **kwargs)
        return
    meta = super(PSObject, self).__getattribute__("PSObject")
    if meta.adapted_properties or meta.extended_properties:
        _PS_INIT(self)


def _meta_has_property_lists() -> bool:
    """Whether this psrpcore keeps a PSObject's metadata as :func:`_getattribute` and
    :func:`_set_instance` read and write it (0.3.x does); another layout keeps psrpcore's
    own code, slower but right."""
    meta = PSObject().PSObject
    lists = all(isinstance(getattr(meta, n, None), list) for n in ("extended_properties", "adapted_properties"))
    return lists and set(vars(meta)) == {*LAYOUT}


LAYOUT = ("type_names", "adapted_properties", "extended_properties", "rehydrate", "_to_string", "_instance")


def _set_instance(self: Any, instance: Any) -> None:
    """psrpcore's ``PSObjectMeta.set_instance`` with the same result. Every value psrpcore
    builds (each string and number of a received pipeline) gets its own copy of its class's
    metadata through a constructor call with keyword arguments; for a value with no
    properties (the primitives, most of them) a bare copy does it in a fifth of the time.
    Objects with properties keep psrpcore's own copy (faster for them, as measured)."""
    if self.adapted_properties or self.extended_properties:
        _PS_SET_INSTANCE(self, instance)
        return
    meta = object.__new__(type(self))
    meta.type_names = list(self.type_names)
    meta.adapted_properties, meta.extended_properties = [], []
    meta.rehydrate = self.rehydrate
    meta._to_string = None
    meta._instance = instance if isinstance(instance, PSObject) else None
    instance.PSObject = meta


if _meta_has_property_lists():
    PSObject.__getattribute__ = _getattribute  # type: ignore[method-assign]
    PSObject.__setattr__ = _setattr  # type: ignore[method-assign]
    PSObject.__init__ = _init  # type: ignore[method-assign]
    type(PSObject.PSObject).set_instance = _set_instance  # type: ignore[method-assign]

HV = "Microsoft.HyperV.PowerShell"
_BASE = [f"{HV}.VirtualMachineBase", f"{HV}.VirtualizationObject"]
_NS = uuid.UUID("6d1c1b38-51a5-4f55-9d8e-0a6f3a1d9c11")
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def guid(*parts: str) -> uuid.UUID:
    """A stable Hyper-V-like Id for a model object that has none (VMs, checkpoints)."""
    return uuid.uuid5(_NS, "\x00".join(parts))


@PSType([f"{HV}.VMState"], rehydrate=False)
class VMState(PSEnumBase):
    Other = 1
    Running = 2
    Off = 3
    Stopping = 4
    Saved = 6
    Paused = 9
    Starting = 10


@PSType([f"{HV}.SnapshotType"], rehydrate=False)
class SnapshotType(PSEnumBase):
    Standard = 0
    Recovery = 1
    Planned = 2


@PSType([f"{HV}.CheckpointType"], rehydrate=False)
class CheckpointType(PSEnumBase):
    Disabled = 2
    Production = 3
    ProductionOnly = 4
    Standard = 5


@PSType([f"{HV}.VMOperationalStatus"], rehydrate=False)
class VMOperationalStatus(PSEnumBase):
    Ok = 2
    Degraded = 3
    DeletingSnapshot = 32770
    MergingDisks = 32772
    ExportingVirtualMachine = 32773


@PSType([f"{HV}.ControllerType"], rehydrate=False)
class ControllerType(PSEnumBase):
    IDE = 0
    SCSI = 1


@PSType(["Microsoft.Vhd.PowerShell.VhdType"], rehydrate=False)
class VhdType(PSEnumBase):
    Fixed = 2
    Dynamic = 3
    Differencing = 4


def _props(*spec: tuple[str, Any]) -> list[PSPropertyInfo]:
    return [PSNoteProperty(name, ps_type=t) for name, t in spec]


@PSType(
    [f"{HV}.VirtualMachine", *_BASE],
    adapted_properties=_props(
        ("Name", PSString),
        ("Id", PSGuid),
        ("VMId", PSGuid),
        ("VMName", PSString),
        ("State", VMState),
        ("OperationalStatus", None),
        ("PrimaryOperationalStatus", VMOperationalStatus),
        ("CheckpointType", CheckpointType),
        ("ParentSnapshotId", PSGuid),
        ("ParentSnapshotName", PSString),
        ("MemoryStartup", PSInt64),
        ("ProcessorCount", PSInt64),
        ("Generation", PSInt),
        ("Path", PSString),
        ("ComputerName", PSString),
        ("IsDeleted", PSBool),
    ),
    rehydrate=False,
)
class VirtualMachine(PSObject):
    pass


@PSType(
    [f"{HV}.VMSnapshot", *_BASE],
    adapted_properties=_props(
        ("Name", PSString),
        ("Id", PSGuid),
        ("VMId", PSGuid),
        ("VMName", PSString),
        ("SnapshotType", SnapshotType),
        ("State", VMState),
        ("IsAutomaticCheckpoint", PSBool),
        ("ParentSnapshotId", PSGuid),
        ("ParentSnapshotName", PSString),
        ("CreationTime", PSDateTime),
        ("Path", PSString),
        ("MemoryStartup", PSInt64),
        ("ProcessorCount", PSInt64),
        ("ComputerName", PSString),
        ("IsDeleted", PSBool),
    ),
    rehydrate=False,
)
class VMSnapshot(PSObject):
    pass


@PSType(
    [
        f"{HV}.HardDiskDrive",
        f"{HV}.Drive",
        f"{HV}.VMDevice",
        f"{HV}.VirtualizationObject",
        "System.Object",
    ],
    adapted_properties=_props(
        ("Path", PSString),
        ("ControllerType", ControllerType),
        ("ControllerNumber", PSInt),
        ("ControllerLocation", PSInt),
        ("VMId", PSGuid),
        ("VMName", PSString),
        ("ComputerName", PSString),
    ),
    rehydrate=False,
)
class HardDiskDrive(PSObject):
    pass


@PSType(
    [f"{HV}.VMNetworkAdapter", f"{HV}.VMNetworkAdapterBase", f"{HV}.VMDevice", f"{HV}.VirtualizationObject"],
    adapted_properties=_props(
        ("Name", PSString),
        ("VMName", PSString),
        ("VMId", PSGuid),
        ("SwitchName", PSString),
        ("MacAddress", PSString),
        ("IPAddresses", None),
        ("ComputerName", PSString),
    ),
    rehydrate=False,
)
class VMNetworkAdapter(PSObject):
    pass


@PSType(
    ["Microsoft.Vhd.PowerShell.VirtualHardDisk"],
    adapted_properties=_props(
        ("Path", PSString),
        ("ParentPath", PSString),
        ("VhdType", VhdType),
        ("FileSize", PSInt64),
        ("Size", PSInt64),
        ("Attached", PSBool),
        ("ComputerName", PSString),
    ),
    rehydrate=False,
)
class VirtualHardDisk(PSObject):
    pass


@PSType(
    ["System.IO.FileInfo", "System.IO.FileSystemInfo", "System.MarshalByRefObject"],
    adapted_properties=_props(("Name", PSString), ("FullName", PSString), ("Length", PSInt64)),
    rehydrate=False,
)
class FileInfo(PSObject):
    pass


@PSType(
    ["System.IO.DirectoryInfo", "System.IO.FileSystemInfo", "System.MarshalByRefObject"],
    adapted_properties=_props(("Name", PSString), ("FullName", PSString)),
    rehydrate=False,
)
class DirectoryInfo(PSObject):
    pass


@PSType(
    ["System.Management.Automation.CmdletInfo", "System.Management.Automation.CommandInfo"],
    adapted_properties=_props(("Name", PSString), ("CommandType", PSString), ("ModuleName", PSString)),
    rehydrate=False,
)
class CmdletInfo(PSObject):
    pass


@PSType([f"{HV}.VirtualizationException"], rehydrate=False)
class VirtualizationException(NETException):
    pass


@PSType(["System.Management.Automation.ParameterBindingException"], rehydrate=False)
class ParameterBindingException(NETException):
    pass


@PSType(["System.Management.Automation.PSSecurityException"], rehydrate=False)
class SecurityException(NETException):
    pass


@PSType(["Microsoft.PowerShell.Commands.WriteErrorException", "System.SystemException"], rehydrate=False)
class WriteErrorException(NETException):
    pass


@PSType(["System.Management.Automation.ItemNotFoundException"], rehydrate=False)
class ItemNotFoundException(NETException):
    pass


def with_string(obj: PSObject, text: str) -> PSObject:
    obj.PSObject.to_string = text
    return obj


# HRESULTs a driver may key on: the message text is localised, these are not.
HRESULTS: dict[type[HostError], str] = {
    InsufficientSpace: "0x80070070",
    StorageUnavailable: "0x80070015",
    HostUnreachable: "0x800706BA",
}
_CATEGORY = {
    ObjectNotFound: ErrorCategory.ObjectNotFound,
    InvalidState: ErrorCategory.InvalidOperation,
    OperationTimeout: ErrorCategory.OperationTimeout,
}
_REASON = {ObjectNotFound: "ObjectNotFound", InvalidState: "InvalidState", OperationTimeout: "OperationTimeout"}


def host_error_record(err: HostError, cmdlet: str, target: str | None) -> ErrorRecord:
    """A Hyper-V ``VirtualizationException`` for a model error, with a
    ``<Reason>,Microsoft.HyperV.PowerShell.Commands.<CmdletClass>`` error id."""
    kind = type(err)
    reason = next((r for k, r in _REASON.items() if issubclass(kind, k)), "OperationFailed")
    category = next((c for k, c in _CATEGORY.items() if issubclass(kind, k)), ErrorCategory.NotSpecified)
    message = err.message
    hresult = next((h for k, h in HRESULTS.items() if issubclass(kind, k)), None)
    if hresult:
        message = f"{message} ({hresult})"
    klass = cmdlet.replace("-", "")
    return error_record(
        VirtualizationException(Message=message),
        f"{reason},{HV}.Commands.{klass}Command",
        category,
        reason,
        target,
        klass,
    )


def error_record(
    exc: NETException,
    fq_id: str,
    category: ErrorCategory,
    reason: str,
    target: str | None,
    activity: str,
) -> ErrorRecord:
    return ErrorRecord(
        Exception=exc,
        CategoryInfo=ErrorCategoryInfo(Category=category, Activity=activity, Reason=reason, TargetName=target or ""),
        TargetObject=target,
        FullyQualifiedErrorId=fq_id,
    )
