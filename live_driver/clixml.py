"""The CLIXML of a CREATE_PIPELINE message written straight as text: the bytes pypsrp's
serializer writes for the same message (tests/live_driver/test_session.py compares them),
without the element tree it builds, the deep copy of every command it takes (the first
statement's twice) and the tree's rendering, which were most of the client's time per
cmdlet.

It writes the messages :func:`live_driver.session.pipeline` builds: no host, default
apartment and stream options, commands carrying only the V2 merge instructions, all
``None``, and parameter values as :func:`live_driver.session` converts them (strings,
booleans, Int32, tagged Int64, Guids, lists of strings). For any other message
:func:`create_pipeline` returns ``None`` and pypsrp serialises it. No pypsrp import: the
message's objects are read by their attribute names (pypsrp 0.9.x).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

_LIST_OF_PSOBJECT = (
    "System.Collections.Generic.List`1[[System.Management.Automation.PSObject, System.Management.Automation, "
    "Version=1.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
)
_ENUM = "<T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN>"
_HEAD = (
    '<Obj RefId="0"><MS><B N="NoInput">{no_input}</B><Obj RefId="1" N="ApartmentState"><TN RefId="0">'
    f"<T>System.Management.Automation.Runspaces.ApartmentState</T>{_ENUM}<ToString>UNKNOWN</ToString><I32>2</I32>"
    '</Obj><Obj RefId="2" N="RemoteStreamOptions"><TN RefId="1"><T>System.Management.Automation.Runspaces.'
    f"RemoteStreamOptions</T>{_ENUM}<ToString>AddInvocationInfo</ToString><I32>15</I32></Obj>"
    '<B N="AddToHistory">false</B><Obj RefId="3" N="HostInfo"><MS><B N="_isHostNull">true</B>'
    '<B N="_isHostUINull">true</B><B N="_isHostRawUINull">true</B><B N="_useRunspaceHost">true</B></MS></Obj>'
    '<Obj RefId="4" N="PowerShell"><MS><B N="IsNested">false</B>'
)
_TAIL = (
    '<Nil N="History" /><B N="RedirectShellErrorOutputPipe">false</B></MS></Obj><B N="IsNested">false</B></MS></Obj>'
)
_MERGE_TYPE = f"<T>System.Management.Automation.Runspaces.PipelineResultTypes</T>{_ENUM}"
_MERGES = ("MergeMyResult", "MergeToResult", "MergePreviousResults")
_V3_MERGES = ("merge_error", "merge_warning", "merge_verbose", "merge_debug", "merge_information")
# a superset of what pypsrp's _serialize_string rewrites (control characters, C1, astral, ``_x``)
_ESCAPED = re.compile("(?i)_x|[^\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd]")
_LIST_TN = f"<T>{_LIST_OF_PSOBJECT}</T><T>System.Object</T></TN>"
_ARRAY_TN = "<T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN>"


class _Unsupported(Exception):
    """A message outside the shape written here: pypsrp writes it."""


class _Writer:
    """RefIds in document order, type names by TNRef after their first use: as pypsrp."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.refs = 0
        self.types: dict[str, int] = {}

    def obj(self, name: str | None = None) -> None:
        self.refs += 1
        self.out.append(f'<Obj RefId="{self.refs - 1}"' + (f' N="{name}">' if name else ">"))

    def type_names(self, key: str, names: str) -> None:
        if key in self.types:
            self.out.append(f'<TNRef RefId="{self.types[key]}" />')
        else:
            self.types[key] = len(self.types)
            self.out.append(f'<TN RefId="{self.types[key]}">{names}')

    def command_list(self, name: str, commands: Sequence[Any]) -> None:
        self.obj(name)
        self.type_names("list", _LIST_TN)
        self.out.append("<LST>")
        for command in commands:
            self.command(command)
        self.out.append("</LST></Obj>")

    def command(self, command: Any) -> None:
        if command.is_script or command.use_local_scope is not None:
            raise _Unsupported
        if any(getattr(command, m, None) is not None for m in _V3_MERGES):
            raise _Unsupported
        self.obj()
        self.out.append(f'<MS>{string("Cmd", command.cmd)}<B N="IsScript">false</B><Nil N="UseLocalScope" />')
        for merge, value in zip(
            _MERGES, (command.merge_my_result, command.merge_to_result, command.merge_previous), strict=True
        ):
            if getattr(value, "value", None) != 0:
                raise _Unsupported
            self.obj(merge)
            self.type_names("merge", _MERGE_TYPE)
            self.out.append("<ToString>None</ToString><I32>0</I32></Obj>")
        self.obj("Args")
        self.type_names("list", _LIST_TN)
        self.out.append("<LST>")
        for arg in command.args:
            self.obj()
            self.out.append(f"<MS>{string('N', arg.name)}")
            self.value(arg.value)
            self.out.append("</MS></Obj>")
        self.out.append("</LST></Obj></MS></Obj>")

    def value(self, value: Any) -> None:
        if isinstance(value, bool):
            self.out.append(f'<B N="V">{"true" if value else "false"}</B>')
        elif type(value) is int:
            if not -(2**31) <= value < 2**31:
                raise _Unsupported
            self.out.append(f'<I32 N="V">{value}</I32>')
        elif type(value) is str:
            self.out.append(string("V", value))
        elif type(value) is uuid.UUID:
            self.out.append(f'<G N="V">{value}</G>')
        elif getattr(value, "tag", None) == "I64" and type(getattr(value, "value", None)) is int:
            self.out.append(f'<I64 N="V">{value.value}</I64>')
        elif type(value) is list and all(type(v) is str for v in value):
            self.obj("V")
            self.type_names("array", _ARRAY_TN)
            self.out.append("<LST>" + "".join(string(None, v) for v in value) + "</LST></Obj>")
        else:
            raise _Unsupported


def string(name: str | None, value: Any) -> str:
    """An ``<S>`` as pypsrp writes it (XML-escaped; empty, a short tag). A string pypsrp
    would ``_xHHHH_``-escape (``_x`` in it, control characters: rare) is left to pypsrp."""
    if type(value) is not str or _ESCAPED.search(value):
        raise _Unsupported
    attr = f' N="{name}"' if name else ""
    if not value:
        return f"<S{attr} />"
    return f"<S{attr}>" + value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</S>"


def create_pipeline(message: Any) -> bytes | None:
    """The CLIXML of a pypsrp ``CreatePipeline``, or ``None`` outside the shape written here."""
    pipeline = message.pipeline
    host = getattr(message.host_info, "host", True)
    defaults = (
        getattr(message.apartment_state, "value", None) == 2
        and getattr(message.remote_stream_options, "value", None) == 15
        and message.add_to_history is False
        and message.is_nested is False
        and isinstance(message.no_input, bool)
        and host is None
        and pipeline.is_nested is False
        and pipeline.history is None
        and pipeline.redirect_err_to_out is False
        and bool(pipeline.commands)
    )
    if not defaults:
        return None
    statements: list[list[Any]] = [[]]
    commands = pipeline.commands
    commands[-1].end_of_statement = True  # as pypsrp's Pipeline does
    for command in commands:
        statements[-1].append(command)
        if command.end_of_statement:
            statements.append([])
    statements.pop()
    writer = _Writer()
    writer.refs = 5
    writer.types = {"apartment": 0, "streams": 1}
    writer.out.append(_HEAD.format(no_input="true" if message.no_input else "false"))
    try:
        if len(statements) > 1:
            writer.obj("ExtraCmds")
            writer.type_names("list", f"<T>{_LIST_OF_PSOBJECT}</T><T>System.Object</T></TN>")
            writer.out.append("<LST>")
            for statement in statements:
                writer.obj()
                writer.out.append("<MS>")
                writer.command_list("Cmds", statement)
                writer.out.append("</MS></Obj>")
            writer.out.append("</LST></Obj>")
        else:
            writer.out.append('<Nil N="ExtraCmds" />')
        writer.command_list("Cmds", statements[0])
    except _Unsupported:
        return None
    writer.out.append(_TAIL)
    return "".join(writer.out).encode()
