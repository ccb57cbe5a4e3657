"""A cheaper CLIXML reader for the emulator: psrpcore's ``_Serializer.deserialize`` with
the same results, minus its cost on the primitive values that make up most of a received
message (a pipeline's command names, parameter names and values, their flags).

psrpcore reads every element through one long chain of type tests, and every string
through a regex over its UTF-16 encoding. Here the common primitives are read from a
table by tag; a string with no ``_xHHHH_`` escape (almost all of them) is used as it is,
and a ``PSString`` is built without the generic constructor (it has no properties to
set). Everything else, and any string with an escape, goes to psrpcore's own code.
tests/simulator/test_psrp_clixml.py holds the reader to psrpcore's output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

from psrpcore.types import PSInt, PSInt64, PSString
from psrpcore.types import _serializer as psrpcore_serializer

_PSRPCORE_DESERIALIZE = psrpcore_serializer._Serializer.deserialize
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


def _integer(cls: type) -> Callable[[Any, Element], Any]:
    return lambda _s, e: cls(e.text)


_READERS: dict[str, Callable[[Any, Element], Any]] = {
    "S": lambda _s, e: string(e.text),
    "Nil": lambda _s, e: None,
    "B": lambda _s, e: (e.text or "").lower() == "true",
    "Ref": lambda s, e: s._obj_ref_map[e.attrib["RefId"]],
    "I32": _integer(PSInt),
    "I64": _integer(PSInt64),
}


def deserialize(self: Any, element: Element) -> Any:
    """psrpcore's ``_Serializer.deserialize``, by table for the common primitives."""
    reader = _READERS.get(element.tag)
    if reader is not None:
        return reader(self, element)
    return _PSRPCORE_DESERIALIZE(self, element)


def _string_has_no_properties() -> bool:
    """Whether ``PSString`` is as :func:`string` builds it (psrpcore 0.3.x): no properties
    its constructor would set. Another psrpcore keeps its own reader."""
    meta = PSString.PSObject
    return not meta.adapted_properties and not meta.extended_properties


if _string_has_no_properties():
    psrpcore_serializer._Serializer.deserialize = deserialize  # type: ignore[method-assign]
