"""The emulator's faster ``PSObject`` attribute lookup and setting answer as psrpcore's own do."""

from __future__ import annotations

import pytest
from psrpcore.types import PSObject, add_alias_property, add_note_property

from simulator.psrp_endpoint import objects


def _sample() -> PSObject:
    obj = PSObject()
    add_note_property(obj, "Name", "vm-1")
    add_note_property(obj, "Size", 42)
    add_alias_property(obj, "VMName", "Name")
    return obj


@pytest.mark.parametrize("name", ["Name", "Size", "VMName", "PSObject", "PSTypeNames", "__class__"])
def test_patched_lookup_matches_psrpcore(name: str) -> None:
    obj = _sample()
    assert PSObject.__getattribute__ is objects._getattribute  # installed on psrpcore 0.3.x
    assert objects._getattribute(obj, name) == objects._PS_GETATTRIBUTE(obj, name)


def test_missing_property_raises_like_psrpcore() -> None:
    obj = _sample()
    with pytest.raises(AttributeError):
        objects._PS_GETATTRIBUTE(obj, "Nope")
    with pytest.raises(AttributeError):
        objects._getattribute(obj, "Nope")


def test_a_later_note_of_the_same_name_wins() -> None:
    obj = _sample()
    add_note_property(obj, "Size", 43, force=True)
    assert objects._getattribute(obj, "Size") == objects._PS_GETATTRIBUTE(obj, "Size") == 43


def _meta_state(obj: PSObject) -> tuple[object, ...]:
    meta = obj.PSObject
    props = [
        [(type(p).__name__, p.name, p.ps_type, p.get_value(obj)) for p in group]
        for group in (meta.adapted_properties, meta.extended_properties)
    ]
    return (type(meta), meta.type_names, props, meta.rehydrate, meta._to_string, meta._instance is obj)


@pytest.mark.parametrize("cls", [PSObject, objects.VirtualMachine, objects.VirtualHardDisk, objects.FileInfo])
def test_patched_set_instance_matches_psrpcore(cls: type[PSObject]) -> None:
    theirs, ours = object.__new__(cls), object.__new__(cls)
    objects._PS_SET_INSTANCE(cls.PSObject, theirs)
    objects._set_instance(cls.PSObject, ours)
    assert _meta_state(ours) == _meta_state(theirs)
    assert type(PSObject.PSObject).set_instance is objects._set_instance  # installed on psrpcore 0.3.x
    # the instance's metadata is its own: nothing it changes reaches the class
    assert ours.PSObject is not cls.PSObject and ours.PSObject.type_names is not cls.PSObject.type_names
    assert all(
        a is not b for a, b in zip(ours.PSObject.adapted_properties, cls.PSObject.adapted_properties, strict=True)
    )


def _set_both(name: str, value: object, make: object = _sample) -> tuple[PSObject, PSObject]:
    ours, theirs = make(), make()  # type: ignore[operator]
    objects._setattr(ours, name, value)
    objects._PS_SETATTR(theirs, name, value)
    return ours, theirs


@pytest.mark.parametrize("name", ["Name", "Size", "Fresh", "command_text"])
def test_patched_setting_matches_psrpcore(name: str) -> None:
    assert PSObject.__setattr__ is objects._setattr  # installed on psrpcore 0.3.x
    ours, theirs = _set_both(name, "new")
    assert _meta_state(ours) == _meta_state(theirs)
    assert vars(ours).keys() - {"PSObject"} == vars(theirs).keys() - {"PSObject"}
    assert getattr(ours, name) == getattr(theirs, name) == "new"


def test_setting_a_typed_property_casts_as_psrpcore_does() -> None:
    def vm() -> PSObject:
        return objects.VirtualMachine(Name="vm", MemoryStartup=1)

    ours, theirs = _set_both("MemoryStartup", 2**33, vm)
    assert type(ours.MemoryStartup) is type(theirs.MemoryStartup) and ours.MemoryStartup == 2**33
    assert _meta_state(ours) == _meta_state(theirs)


@pytest.mark.parametrize("cls", [PSObject, objects.VirtualMachine, objects.FileInfo])
def test_patched_init_matches_psrpcore(cls: type[PSObject]) -> None:
    from psrpcore.types import PSString

    assert PSObject.__init__ is objects._init  # installed on psrpcore 0.3.x
    ours, theirs = object.__new__(cls), object.__new__(cls)
    cls.PSObject.set_instance(ours)
    cls.PSObject.set_instance(theirs)
    objects._init(ours)
    objects._PS_INIT(theirs)
    assert _meta_state(ours) == _meta_state(theirs)
    assert PSString("x") == "x" and PSString("x").PSObject.type_names == PSString.PSObject.type_names


def test_patched_init_still_checks_arguments() -> None:
    from psrpcore.types import PSNoteProperty, PSType

    @PSType(["Test.Mandatory"], extended_properties=[PSNoteProperty("Needed", mandatory=True)], rehydrate=False)
    class Mandatory(PSObject):
        pass

    with pytest.raises(TypeError, match="Needed"):
        Mandatory()
    assert Mandatory(Needed=1).Needed == 1
    with pytest.raises(TypeError, match="unexpected"):
        objects.FileInfo(Nope=1)
