"""The emulator's CLIXML reader (simulator.psrp_endpoint.clixml) gives psrpcore's own
values: same types, values, type names and properties, for the primitives it reads by
table and for the objects around them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from psrpcore.types import ErrorCategory, PSInt, PSInt64, PSList, PSNoteProperty, PSObject, PSString
from psrpcore.types import _serializer as ser

from simulator.psrp_endpoint import clixml
from simulator.psrp_endpoint import objects as o

HOSTILE = "x*'; Remove-VM -Name * -Force; '$(whoami)"
TEXTS = ["", "vm", HOSTILE, "line\nbreak", "tab\tand _x_ alone", "\U0001f3b5 note", "_x0041_ literal", "C:\\s\\vm"]


def message() -> ET.Element:
    """A pipeline-shaped object, written by psrpcore: commands with named parameters."""
    obj = PSObject()
    args = PSList()
    for i, text in enumerate(TEXTS):
        arg = PSObject()
        arg.PSObject.type_names = ["Selected.Arg", "System.Object"]
        for name, value in (("N", PSString(f"P{i}")), ("V", PSString(text)), ("Size", PSInt64(2**40 + i))):
            arg.PSObject.extended_properties.append(PSNoteProperty(name, value))
        args.append(arg)
    args.append(args[0])  # the same object twice: a <Ref>
    folder = o.DirectoryInfo(Name="vm", FullName="C:\\s\\vm")  # adapted properties, a ToString
    o.with_string(folder, "vm")
    for name, value in (
        ("Cmd", PSString("Get-VM")),
        ("Args", args),
        ("Flag", True),
        ("Count", PSInt(7)),
        ("Category", ErrorCategory.ObjectNotFound),  # an enum: psrpcore's own reading
        ("Folder", folder),
        ("Also", folder),
    ):
        obj.PSObject.extended_properties.append(PSNoteProperty(name, value))
    obj.PSObject.extended_properties.append(PSNoteProperty("Nothing", None))
    return ser.serialize(obj, None)


def shape(value: Any) -> Any:
    if isinstance(value, PSObject) and not isinstance(value, str | int | float):
        meta = value.PSObject
        props = [(p.name, shape(p.get_value(value))) for p in [*meta.adapted_properties, *meta.extended_properties]]
        items = [shape(v) for v in value] if isinstance(value, list) else None
        return (type(value), list(meta.type_names), props, items)
    names = list(value.PSObject.type_names) if isinstance(value, PSObject) else None
    return (type(value), value, names)


def read(element: ET.Element) -> Any:
    return ser._Serializer(None).deserialize(element)


@pytest.mark.parametrize(
    "xml",
    [f"<S>{ser._serialize_string(t)}</S>" for t in TEXTS]
    + ["<S />", "<Nil />", "<B>true</B>", "<B>False</B>", "<I32>-7</I32>", "<I64>1099511627776</I64>"],
)
def test_a_primitive_reads_as_psrpcore_reads_it(xml: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = read(ET.fromstring(xml))
    monkeypatch.setattr(ser._Serializer, "deserialize", clixml._PSRPCORE_DESERIALIZE)
    assert shape(fast) == shape(read(ET.fromstring(xml)))


def test_an_object_of_primitives_reads_as_psrpcore_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ser._Serializer.deserialize is clixml.deserialize  # installed
    element = message()
    fast = read(element)
    monkeypatch.setattr(ser._Serializer, "deserialize", clixml._PSRPCORE_DESERIALIZE)
    slow = read(element)
    assert shape(fast) == shape(slow)
    assert [str(a.V) for a in fast.Args[: len(TEXTS)]] == TEXTS
    assert fast.Args[-1] is fast.Args[0]  # the <Ref> is the object read before
    assert fast.Also is fast.Folder and fast.Folder.FullName == "C:\\s\\vm" and str(fast.Folder) == "vm"


def test_a_string_is_a_psstring_of_its_own() -> None:
    one, two = clixml.string("vm"), clixml.string("vm")
    assert type(one) is PSString and one == "vm" and one.PSObject is not two.PSObject
    assert one.PSObject.type_names == ["System.String", "System.Object"]


@pytest.mark.parametrize(
    "text", [*TEXTS, "a_X0041_b", "_x", "caf\u00e9", "\x7f", "\x85", "\ud83c", "bell\x07", "Production", " "]
)
def test_a_string_is_written_as_psrpcore_writes_it(text: str) -> None:
    assert clixml.serialize_string(text) == clixml._PSRPCORE_SERIALIZE_STRING(text)


def sent_pipeline() -> ET.Element:
    """A CREATE_PIPELINE as pypsrp writes it: statements of piped cmdlets, every parameter
    type a client sends (strings, a switch, Int32, Int64, a Guid, a list)."""
    import uuid

    from pypsrp.serializer import Serializer

    from live_driver.wire import SWITCH, Int64, Invocation, cmd
    from tests.psrp_messages import create_pipeline

    invocation = Invocation(
        (
            (cmd("Get-VMSnapshot", Id=uuid.UUID(int=7)), cmd("Restore-VMSnapshot", Confirm=False)),
            (cmd("New-VHD", Path=HOSTILE, SizeBytes=Int64(2**33), Dynamic=SWITCH),),
            (cmd("Get-VMSnapshot", VMName=("a", "b_x0041_")), cmd("Where-Object", Property="Name", CEQ=SWITCH)),
            (cmd("Remove-VMHardDiskDrive", VMName="vm", ControllerNumber=0, ControllerLocation=1),),
        )
    )
    element = Serializer().serialize(create_pipeline(invocation))
    assert element is not None
    return element


def test_a_pipeline_a_client_sends_reads_as_psrpcore_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from psrpcore._pipeline import PowerShell

    element = sent_pipeline()
    fast, again = read(element), read(element)
    monkeypatch.setattr(ser._Serializer, "deserialize", clixml._PSRPCORE_DESERIALIZE)
    slow = read(element)
    assert shape(fast) == shape(slow) == shape(again)

    def commands(value: Any) -> list[Any]:
        return [
            (c.command_text, [(n, shape(v)) for n, v in c.parameters], c.merge_my, c.merge_to, c.end_of_statement)
            for c in PowerShell.FromPSObjectForRemoting(value).commands
        ]

    assert commands(fast) == commands(slow)
    assert [c[0] for c in commands(fast)][:2] == ["Get-VMSnapshot", "Restore-VMSnapshot"]
    # the merge instructions (enums) read again are the same value, shared
    first, second = (PowerShell.FromPSObjectForRemoting(v).commands[0] for v in (fast, again))
    assert first.merge_my is second.merge_my and int(first.merge_my) == 0


def _written(value: Any) -> list[bytes]:
    """The CLIXML psrpcore's serializer writes for ``value``: a value alone and inside an object."""
    holder = PSObject()
    holder.PSObject.extended_properties.append(PSNoteProperty("Value", value))
    return [ET.tostring(ser.serialize(v, None)) for v in (value, holder)]


def _leaves() -> list[Any]:
    import uuid

    from psrpcore.types import PSGuid

    extended = PSString("with a note")
    extended.PSObject.extended_properties.append(PSNoteProperty("Note", 1))
    return [
        *TEXTS,
        *(PSString(t) for t in TEXTS),
        None,
        True,
        False,
        0,
        -7,
        2**31 - 1,
        2**31,
        2**40,
        -(2**40),
        PSInt(3),
        PSInt64(2**40),
        uuid.UUID(int=7),
        PSGuid(int=9),
        extended,
        o.VMState.Running,
        [PSString("a"), 1, None],
    ]


@pytest.mark.parametrize("value", _leaves(), ids=repr)
def test_a_value_is_written_as_psrpcore_writes_it(value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ser._Serializer.serialize is clixml.serialize  # installed
    fast = _written(value)
    monkeypatch.setattr(ser._Serializer, "serialize", clixml._PSRPCORE_SERIALIZE)
    assert fast == _written(value)


def test_an_emulated_object_is_written_as_psrpcore_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    status = o.VMOperationalStatus.Ok
    vm = o.VirtualMachine(
        Name=HOSTILE,
        Id=o.guid("vm"),
        State=o.VMState.Running,
        OperationalStatus=[status],
        PrimaryOperationalStatus=status,  # the same object twice: a <Ref>
        ParentSnapshotName=None,
        MemoryStartup=PSInt64(2**33),
        Generation=2,
        IsDeleted=False,
    )
    o.with_string(vm, "VirtualMachine (Name = 'vm')")
    fast = ET.tostring(ser.serialize(vm, None))
    monkeypatch.setattr(ser._Serializer, "serialize", clixml._PSRPCORE_SERIALIZE)
    assert fast == ET.tostring(ser.serialize(vm, None))
    assert b"<Ref " in fast
