"""session.py's pipeline building: what goes on the wire is pypsrp's own serialisation."""

from __future__ import annotations

import copy
import uuid
import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any

import pytest
from pypsrp.complex_objects import Pipeline
from pypsrp.serializer import Serializer

from live_driver.session import pipeline
from live_driver.wire import SWITCH, Int64, Invocation, cmd
from tests.psrp_messages import create_pipeline

INVOCATION = Invocation(
    (
        (cmd("Get-VMSnapshot", Id=uuid.UUID(int=7)), cmd("Restore-VMSnapshot", Confirm=False)),
        (cmd("New-VHD", Path="C:\\v\\x'; whoami.vhdx", SizeBytes=Int64(8 * 2**30), Dynamic=SWITCH),),
        (cmd("Get-VMSnapshot", VMName=("a", "b")),),
        (cmd("Remove-VMHardDiskDrive", VMName="vm", ControllerNumber=0, ControllerLocation=1),),
    )
)


def wire(commands: list[Any]) -> bytes:
    """The Cmds/ExtraCmds CLIXML pypsrp sends for these commands."""
    element = Serializer().serialize(Pipeline(is_nested=False, cmds=commands, history=None, redirect_err_to_out=False))
    assert element is not None
    return ET.tostring(element)


def test_lean_commands_put_the_same_bytes_on_the_wire_as_pypsrps_deepcopy() -> None:
    pool: Any = SimpleNamespace(protocol_version="2.3")
    cheap = pipeline(pool, INVOCATION).commands
    plain = pipeline(pool, INVOCATION).commands
    for command in plain:
        del command.__deepcopy__  # back to pypsrp's own deep copy
    sent = wire(cheap)
    assert sent == wire(plain)
    # serialising twice (pypsrp reads the first statement twice) does not drift
    assert wire(cheap) == sent
    # the values arrive typed: Int64 as I64, the switch as a bool, lists as lists
    assert b'<I64 N="V">8589934592</I64>' in sent and b"<LST>" in sent
    assert b"x'; whoami.vhdx" in sent and b'<S N="Cmd">Restore-VMSnapshot</S>' in sent
    # the V3 merge instructions are left out (absent means "none" to a host); the V2 ones stay
    assert b"MergeError" not in sent and b"MergeInformation" not in sent
    assert sent.count(b'N="MergeMyResult"') == sent.count(b'N="Cmd"') > 0
    # and the copies are fresh: one copy's parameters are not another's
    twin = copy.deepcopy(cheap[2])
    assert twin.args is not cheap[2].args and twin.args[1] is not cheap[2].args[1]
    assert [(a.name, a.value) for a in twin.args] == [(a.name, a.value) for a in cheap[2].args]


def test_the_lean_serializer_writes_and_reads_what_pypsrps_does() -> None:
    from live_driver.session import LeanSerializer

    pool: Any = SimpleNamespace(protocol_version="2.3")
    lean_bytes = ET.tostring(
        LeanSerializer().serialize(
            Pipeline(is_nested=False, cmds=pipeline(pool, INVOCATION).commands, history=None, redirect_err_to_out=False)
        )  # type: ignore[arg-type]
    )
    assert lean_bytes == wire(pipeline(pool, INVOCATION).commands)
    # an object as a host returns it: typed properties, an enum, a list, a reference
    clixml = (
        '<Obj RefId="0"><TN RefId="0"><T>Microsoft.HyperV.PowerShell.VirtualMachine</T><T>System.Object</T></TN>'
        '<ToString>vm</ToString><Props><S N="Name">a_x0007_b</S><G N="Id">00000000-0000-0000-0000-000000000007</G>'
        '<I64 N="MemoryStartup">8589934592</I64><B N="IsDeleted">false</B><Nil N="ParentSnapshotName" />'
        '<Obj N="State" RefId="1"><TN RefId="1"><T>Microsoft.HyperV.PowerShell.VMState</T><T>System.Enum</T></TN>'
        "<ToString>Running</ToString><I32>2</I32></Obj>"
        '<Obj N="OperationalStatus" RefId="2"><TN RefId="2"><T>System.Object[]</T></TN><LST><S>Ok</S>'
        '<Ref RefId="1" /></LST></Obj></Props></Obj>'
    )
    mine, theirs = LeanSerializer().deserialize(clixml), Serializer().deserialize(clixml)
    assert str(mine) == str(theirs) == "vm"
    assert {k: str(v) for k, v in mine.adapted_properties.items()} == {
        k: str(v) for k, v in theirs.adapted_properties.items()
    }
    assert mine.adapted_properties["Name"] == "a\x07b" and mine.adapted_properties["MemoryStartup"] == 8589934592
    assert mine.adapted_properties["Id"] == uuid.UUID(int=7) and mine.adapted_properties["IsDeleted"] is False


@pytest.mark.parametrize("text", ["", "vm", "a_x0007_b", "_x_ alone", "_xD83C__xDFB5_ note", "C:\\s\\x_1.avhdx"])
def test_the_lean_serializer_reads_strings_as_pypsrp_does(text: str) -> None:
    from live_driver.session import LeanSerializer

    for tag in ("S", "ToString"):
        xml = f"<{tag}>{text}</{tag}>" if text else f"<{tag} />"
        assert LeanSerializer().deserialize(xml) == Serializer().deserialize(xml)


@pytest.mark.parametrize(
    "invocation",
    [
        INVOCATION,
        Invocation(((cmd("Get-VM", Name="", Names=("a", ""), Count=2**31 - 1, Low=-(2**31)),),)),
        Invocation(
            ((cmd("Get-VM"), cmd("Stop-VM")), (cmd("Get-ChildItem", LiteralPath="C:\\a&b <c> \"d\" 'e' é 中"),))
        ),
    ],
)
def test_the_create_pipeline_text_is_pypsrps_bytes(invocation: Invocation) -> None:
    from live_driver.session import LeanSerializer

    theirs = ET.tostring(Serializer().serialize(create_pipeline(invocation)), encoding="utf-8", method="xml")  # type: ignore[arg-type]
    mine = LeanSerializer().serialize(create_pipeline(invocation))
    assert isinstance(mine, bytes)  # written as text, not by pypsrp
    assert mine == theirs


@pytest.mark.parametrize("name", ["a_x0041_b", "a_X0041_b", "tab\there", "\x7f", "astral \U0001f3b5"])
def test_strings_pypsrp_escapes_are_left_to_pypsrp(name: str) -> None:
    from live_driver import clixml
    from live_driver.session import LeanSerializer

    message = create_pipeline(Invocation(((cmd("Get-VM", Name=name),),)))
    assert clixml.create_pipeline(message) is None
    mine = LeanSerializer().serialize(message)
    theirs = Serializer().serialize(create_pipeline(Invocation(((cmd("Get-VM", Name=name),),))))
    assert isinstance(mine, ET.Element) and theirs is not None
    assert ET.tostring(mine) == ET.tostring(theirs)


OBJECT = (
    '<Obj RefId="0"><TN RefId="0"><T>Microsoft.HyperV.PowerShell.VirtualMachine</T><T>System.Object</T></TN>'
    '<Props><S N="Name">a_x0007_b &amp; c</S><Obj RefId="1" N="State"><I32>2</I32><TN RefId="1">'
    "<T>Microsoft.HyperV.PowerShell.VMState</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN>"
    '<ToString>Running</ToString></Obj><Obj RefId="2" N="OperationalStatus"><TN RefId="2">'
    '<T>System.Collections.ArrayList</T><T>System.Object</T></TN><LST><Obj RefId="3"><I32>2</I32>'
    '<TNRef RefId="1" /><ToString>Ok</ToString></Obj></LST></Obj><Ref RefId="3" N="PrimaryOperationalStatus" />'
    '<Obj RefId="4" N="Host"><MS><S N="Name">hv</S></MS></Obj><Nil N="ParentSnapshotName" /></Props>'
    '<MS><I64 N="Extra">8589934592</I64></MS><ToString>vm</ToString></Obj>'
)


@pytest.mark.parametrize("text", [True, False])
def test_the_lean_serializer_reads_objects_as_pypsrp_does(text: bool) -> None:
    from pypsrp.complex_objects import GenericComplexObject

    from live_driver.session import LeanSerializer, to_psobj

    def source() -> Any:
        return OBJECT if text else ET.fromstring(OBJECT)

    mine, theirs = LeanSerializer().deserialize(source()), Serializer().deserialize(source())
    assert type(theirs) is GenericComplexObject and isinstance(mine, GenericComplexObject)
    assert to_psobj(mine) == to_psobj(theirs)
    assert mine.types == theirs.types and str(mine) == str(theirs) == "vm"
    for name in ("State", "Host"):
        ours, pypsrps = mine.adapted_properties[name], theirs.adapted_properties[name]
        assert (ours.types, ours.property_sets, str(ours)) == (pypsrps.types, pypsrps.property_sets, str(pypsrps))
    ours, pypsrps = mine.adapted_properties["OperationalStatus"], theirs.adapted_properties["OperationalStatus"]
    assert [(o.types, str(o)) for o in ours] == [(o.types, str(o)) for o in pypsrps] == [(ours[0].types, "Ok")]
    assert ours[0] is mine.adapted_properties["PrimaryOperationalStatus"]  # a <Ref> is the object it names
    assert mine._xml == theirs._xml  # rendered when asked for
    # an object of a class pypsrp knows is pypsrp's to read
    fault = '<Obj RefId="0"><TN RefId="0"><T>System.Collections.ArrayList</T></TN><LST><S>x</S></LST></Obj>'
    assert LeanSerializer().deserialize(fault) == Serializer().deserialize(fault) == ["x"]
