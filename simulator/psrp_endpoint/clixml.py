"""A cheaper CLIXML reader and writer for the emulator: psrpcore's ``_Serializer``
``deserialize`` and ``serialize`` with the same results, minus their cost on the
primitive values that make up most of a message (a pipeline's command names, parameter
names and values, their flags; an output object's properties).

psrpcore reads every element through one long chain of type tests, and every string
through a regex over its UTF-16 encoding. Here the common primitives are read from a
table by tag; a string with no ``_xHHHH_`` escape (almost all of them) is used as it is,
and a ``PSString`` is built without the generic constructor (it has no properties to
set). An object made of properties only (each command of a pipeline, each parameter) is
built as psrpcore builds it, minus the throwaway ``PSObject`` each of its note properties
cost; so are lists and enums, and an enum read before is the same instance. Dicts,
queues and extended primitives go to psrpcore. Primitives are written by exact type
(:func:`serialize`), strings by :func:`serialize_string`, the same way.
tests/simulator/test_psrp_clixml.py holds both directions to psrpcore's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

from psrpcore.types import (
    PSEnumBase,
    PSFlagBase,
    PSGuid,
    PSIEnumerable,
    PSInt,
    PSInt64,
    PSList,
    PSNoteProperty,
    PSObject,
    PSStack,
    PSString,
)
from psrpcore.types import _serializer as psrpcore_serializer
from psrpcore.types._base import TypeRegistry
from psrpcore.types._collection import _PSListBase

_PSRPCORE_DESERIALIZE = psrpcore_serializer._Serializer.deserialize
_PSRPCORE_SERIALIZE = psrpcore_serializer._Serializer.serialize
_PSRPCORE_SERIALIZE_STRING = psrpcore_serializer._serialize_string


def serialize_string(value: str) -> str:
    """psrpcore's ``_serialize_string`` (the text of a string written to CLIXML), without
    its two regex passes for printable ASCII with no ``_x``: nothing in it is escaped."""
    if value.isascii() and value.isprintable() and "_x" not in value and "_X" not in value:
        return value
    return _PSRPCORE_SERIALIZE_STRING(value)


_STRING_META = PSString.PSObject


def string(text: str | None) -> PSString:
    """``PSString(_deserialize_string(text))`` as psrpcore builds it, cheaper when the text
    holds no escape."""
    if text is None:
        text = ""
    elif "_x" in text:
        text = psrpcore_serializer._deserialize_string(text)
    value = str.__new__(PSString, text)
    _STRING_META.set_instance(value)
    return value


def note(name: str, value: Any) -> PSNoteProperty:
    """``PSNoteProperty(name, value)`` as psrpcore builds it, without the throwaway
    ``PSObject`` its constructor makes to set the value through."""
    prop: PSNoteProperty = object.__new__(PSNoteProperty)
    prop.name, prop.ps_type, prop.mandatory = name, None, False
    prop._value, prop._getter, prop._setter = value, None, None
    return prop


_REGISTRY = TypeRegistry()  # a singleton
_OBJECT_META = PSObject.PSObject


def rehydrate(type_names: list[str]) -> Any:
    """``TypeRegistry().rehydrate``: a registered class's blank instance (or the enum
    class), else a ``PSObject`` named ``Deserialized.<type>``, built without the generic
    constructor (a bare ``PSObject`` has no properties to set)."""
    if type_names and type_names[0] in _REGISTRY.type_registry:
        return _REGISTRY.rehydrate(type_names)
    obj = object.__new__(PSObject)
    _OBJECT_META.set_instance(obj)
    obj.PSObject.type_names = [f"Deserialized.{tn}" for tn in type_names]
    return obj


_LISTS = {"LST": PSList, "IE": PSIEnumerable, "STK": PSStack}
_READ_HERE = frozenset(("TN", "TNRef", "ToString", "Props", "MS", *_LISTS))


def plain_object(self: Any, element: Element) -> Any:
    """An ``<Obj>`` of properties, a list (``LST``, ``IE``, ``STK``) or an enum, read as
    psrpcore reads it; ``None`` for any other (a dict, a queue, an extended primitive),
    which psrpcore reads, before anything of it is read here."""
    entries = list(element)
    type_names = _type_names(self, entries)
    rehydrated = rehydrate(type_names)
    enum_class = isinstance(rehydrated, type) and issubclass(rehydrated, PSEnumBase | PSFlagBase)
    others = len([e for e in entries if e.tag not in _READ_HERE])
    if others != (1 if enum_class else 0) or not (enum_class or isinstance(rehydrated, PSObject)):
        return None
    ref_id = element.attrib.get("RefId")
    key = _enum_key(rehydrated, entries) if enum_class else None
    if key is not None and (shared := _ENUMS.get(key)) is not None:
        if ref_id is not None:
            self._obj_ref_map[ref_id] = shared
        return shared
    value: Any = None
    if isinstance(rehydrated, PSObject):
        value = rehydrated
        if ref_id is not None:
            self._obj_ref_map[ref_id] = value
    original = rehydrated.PSObject.type_names
    groups: dict[str, Element | None] = {"adapted_properties": None, "extended_properties": None}
    to_string = None
    for entry in entries:
        tag = entry.tag
        if tag == "Props":
            groups["adapted_properties"] = entry
        elif tag == "MS":
            groups["extended_properties"] = entry
        elif tag == "ToString":
            to_string = self.deserialize(entry)
        elif tag in _LISTS:
            value = type(value)() if isinstance(value, _PSListBase) else _LISTS[tag]()
            if ref_id is not None:
                self._obj_ref_map[ref_id] = value
            for item in entry:
                value.append(self.deserialize(item))
        elif tag not in ("TN", "TNRef"):  # the enum's value
            value = rehydrated(self.deserialize(entry))
            if ref_id is not None and value is not None:
                self._obj_ref_map[ref_id] = value
    if to_string is not None:
        value.PSObject.to_string = to_string
    if isinstance(value, PSObject):
        meta = value.PSObject
        if original:
            meta.type_names = original
        for group, xml in groups.items():
            if xml is None:
                continue
            props: list[Any] = getattr(meta, group)
            # add_note_property(force=True): a name seen before is replaced where it stood
            at: dict[str, int] = {}
            for i, p in enumerate(props):
                at.setdefault(p.name, i)
            for entry in xml:
                name = entry.attrib["N"]
                name = psrpcore_serializer._deserialize_string(name) if "_x" in name else name
                prop = note(name, self.deserialize(entry))
                if name in at:
                    props[at[name]] = prop
                else:
                    at[name] = len(props)
                    props.append(prop)
    from_override = getattr(type(value), "FromPSObjectForRemoting", None)
    if from_override:
        value = from_override(value, **self._kwargs)
        if ref_id is not None and value is not None:
            self._obj_ref_map[ref_id] = value
    elif key is not None and len(_ENUMS) < _ENUMS_KEPT:
        _ENUMS[key] = value
    return value


#: enum values read before, one instance per (class, value, text): every command of a
#: pipeline carries three (its merge instructions), and an enum is a value nothing changes
_ENUMS: dict[tuple[Any, ...], Any] = {}
_ENUMS_KEPT = 256


def _enum_key(enum_class: Any, entries: list[Element]) -> tuple[Any, ...] | None:
    """What makes an enum element's value: its class, value and text; ``None`` for one
    that carries properties of its own (not shared)."""
    parts: list[Any] = [enum_class]
    for entry in entries:
        tag = entry.tag
        if tag in ("Props", "MS"):
            return None
        if tag not in ("TN", "TNRef"):
            parts += (tag, entry.text)
    return tuple(parts)


def _type_names(self: Any, entries: list[Element]) -> list[str]:
    """The object's type names, from its ``<TN>`` (remembered by RefId) or ``<TNRef>``."""
    for entry in entries:
        if entry.tag == "TN":
            names = [t.text or "" for t in entry if t.tag == "T"]
            if names:
                self._tn_ref_map[entry.attrib["RefId"]] = names
                return names
    for entry in entries:
        if entry.tag == "TNRef":
            return self._tn_ref_map[entry.attrib["RefId"]]
    return []


def _object(self: Any, element: Element) -> Any:
    value = plain_object(self, element)
    return _PSRPCORE_DESERIALIZE(self, element) if value is None else value


def _text(text: str) -> str:
    """A ``<ToString>``: a plain str, as psrpcore reads it."""
    return psrpcore_serializer._deserialize_string(text) if "_x" in text else text


def _integer(cls: type) -> Callable[[Any, Element], Any]:
    return lambda _s, e: cls(e.text)


_READERS: dict[str, Callable[[Any, Element], Any]] = {
    "S": lambda _s, e: string(e.text),
    "Nil": lambda _s, e: None,
    "B": lambda _s, e: (e.text or "").lower() == "true",
    "Ref": lambda s, e: s._obj_ref_map[e.attrib["RefId"]],
    "I32": _integer(PSInt),
    "I64": _integer(PSInt64),
    "Obj": _object,
    "ToString": lambda _s, e: _text(e.text or ""),
}


def deserialize(self: Any, element: Element) -> Any:
    """psrpcore's ``_Serializer.deserialize``, by table for the common primitives."""
    reader = _READERS.get(element.tag)
    if reader is not None:
        return reader(self, element)
    return _PSRPCORE_DESERIALIZE(self, element)


def _layout_is_known() -> bool:
    """Whether psrpcore builds values as :func:`string`, :func:`rehydrate` and :func:`note`
    do (0.3.x): ``PSString`` and ``PSObject`` have no properties their constructors would
    set, ``TypeRegistry`` is a singleton, and a note property holds
    exactly these attributes. Another psrpcore keeps its own reader."""
    meta = PSString.PSObject
    attrs = {"name", "ps_type", "mandatory", "_value", "_getter", "_setter"}
    if TypeRegistry() is not _REGISTRY:
        return False
    bare = not _OBJECT_META.adapted_properties and not _OBJECT_META.extended_properties
    return (
        bare
        and not meta.adapted_properties
        and not meta.extended_properties
        and set(vars(PSNoteProperty("n", 1))) == attrs
    )


_LEAVES: dict[type, str] = {
    bool: "B",
    str: "S",
    PSString: "S",
    int: "I32",
    PSInt: "I32",
    PSInt64: "I64",
    uuid.UUID: "G",
    PSGuid: "G",
}


def serialize(self: Any, value: Any) -> Element:
    """psrpcore's ``_Serializer.serialize``, by exact type for the values most of an
    output object is made of (its strings, numbers, Guids, flags and nulls): psrpcore
    tests each value against a chain of types, and every failed ``isinstance`` on a
    PSObject reads its ``__class__`` through the PSObject's attribute lookup. A PSObject
    primitive with properties of its own (an extended primitive), and every other value,
    is psrpcore's to write."""
    if value is None:
        return Element("Nil")
    kind = type(value)
    tag = _LEAVES.get(kind)
    if tag is None:
        return _PSRPCORE_SERIALIZE(self, value)
    if isinstance(value, PSObject):
        meta = value.PSObject
        if meta.adapted_properties or meta.extended_properties:
            return _PSRPCORE_SERIALIZE(self, value)
    if kind is bool:
        text = "true" if value else "false"
    elif tag == "S":
        text = psrpcore_serializer._serialize_string(value)
    elif kind is int:
        tag, text = ("I64" if value > PSInt.MaxValue else "I32"), str(value)
    elif tag != "G":
        text = str(int(value))
    else:
        text = str(value)
    element = Element(tag)
    element.text = text
    return element


if _layout_is_known():
    psrpcore_serializer._Serializer.deserialize = deserialize  # type: ignore[method-assign]
    psrpcore_serializer._Serializer.serialize = serialize  # type: ignore[method-assign]
psrpcore_serializer._serialize_string = serialize_string
