"""The PowerShell utility cmdlets a driver uses to check a condition on the host inside the
pipeline that acts on it, as Windows runs them (``Microsoft.PowerShell.Core`` and
``.Utility``): ``Where-Object`` in its comparison form (``-Property -EQ|-NE|-CEQ|-CNE
-Value``, no script block), ``Select-Object -ExpandProperty``, and ``Write-Error``; and
``Get-Command -Name``, which a JEA endpoint always exposes, to say which cmdlets this
endpoint serves (a name it does not serve is left out under ``-ErrorAction
SilentlyContinue``, else a CommandNotFoundException).

Pipeline semantics follow PowerShell's: a cmdlet after the first runs once per input
object, so one that receives nothing does nothing; ``Write-Error`` takes its message from
the pipeline (``-Message`` is ``ValueFromPipeline``) and, with ``-ErrorAction Stop``,
ends the whole pipeline with its ``-ErrorId`` as the FullyQualifiedErrorId.

Comparisons convert the value to the property's type, as ``-eq`` does: an enum property
compares by name (case-insensitively, as an enum parse does), a string property with
``-EQ``/``-NE`` case-insensitively and with ``-CEQ``/``-CNE`` exactly, anything else by
equality.
"""

from __future__ import annotations

import enum
from typing import Any

from psrpcore.types import ErrorCategory

from simulator.psrp_endpoint import objects as o
from simulator.psrp_endpoint.binding import Bound, Cmdlet, CmdletError, binding_error

_OPERATORS = ("eq", "ne", "ceq", "cne")
_MODULES = {
    **dict.fromkeys(("Where-Object", "Get-Command"), "Microsoft.PowerShell.Core"),
    **dict.fromkeys(("Select-Object", "Write-Error"), "Microsoft.PowerShell.Utility"),
    **dict.fromkeys(("Get-ChildItem", "Test-Path", "Remove-Item"), "Microsoft.PowerShell.Management"),
    **dict.fromkeys(("Get-ClusterGroup", "Start-ClusterGroup", "Stop-ClusterGroup"), "FailoverClusters"),
    "Get-Module": "Microsoft.PowerShell.Core",
}


def _equal(left: Any, right: Any, case_sensitive: bool) -> bool:
    if isinstance(left, enum.Enum):
        return left.name.lower() == str(right).lower()
    if isinstance(left, str):
        return left == str(right) if case_sensitive else left.lower() == str(right).lower()
    return bool(left == right)


class Utility:
    """Where-Object, Select-Object, Write-Error and Get-Command; mixed into the cmdlet table."""

    table: dict[str, Cmdlet]

    def utility_table(self) -> list[Cmdlet]:
        s = "str"
        where = {"property": s, "value": "any", **dict.fromkeys(_OPERATORS, "switch")}
        return [
            Cmdlet("Where-Object", where, self.where_object),
            Cmdlet("Select-Object", {"expandproperty": s}, self.select_object),
            Cmdlet("Get-Command", {"name": "strs"}, self.get_command),
            Cmdlet(
                "Write-Error",
                {"message": s, "errorid": s, "category": s, "targetobject": "any"},
                self.write_error,
                {"msg": "message"},
            ),
        ]

    def where_object(self, b: Bound) -> list[Any]:
        ops = [op for op in _OPERATORS if b.switch(op)]
        if len(ops) != 1 or "property" not in b.args:
            raise binding_error(
                "Where-Object", "AmbiguousParameterSet,Where-Object", "Parameter set cannot be resolved."
            )
        op, prop, value = ops[0], str(b.get("property")), b.get("value")
        keep = []
        for item in b.input:
            left = getattr(item, prop, None)
            equal = left is not None and _equal(left, value, op.startswith("c"))
            if equal == op.endswith("eq"):
                keep.append(item)
        return keep

    def select_object(self, b: Bound) -> list[Any]:
        prop = str(b.get("expandproperty"))
        out = []
        for item in b.input:
            value = getattr(item, prop, None)
            if value is None:
                exc = o.NETException(Message=f'Property "{prop}" cannot be found.')
                fq = "ExpandPropertyNotFound,Microsoft.PowerShell.Commands.SelectObjectCommand"
                raise CmdletError(o.error_record(exc, fq, ErrorCategory.InvalidArgument, fq, prop, "Select-Object"))
            out.append(value)
        return out

    def get_command(self, b: Bound) -> list[Any]:
        silent = str(b.get("erroraction", "Continue")).lower() in ("silentlycontinue", "ignore")
        found = []
        for name in b.names("name"):
            cmdlet = self.table.get(name.lower())
            if cmdlet is None:
                if silent:
                    continue
                exc = o.NETException(Message=f"The term '{name}' is not recognized as the name of a cmdlet.")
                fq = "CommandNotFoundException,Microsoft.PowerShell.Commands.GetCommandCommand"
                raise CmdletError(o.error_record(exc, fq, ErrorCategory.ObjectNotFound, fq, name, "Get-Command"))
            module = _MODULES.get(cmdlet.name, "Hyper-V")
            found.append(o.CmdletInfo(Name=cmdlet.name, CommandType="Cmdlet", ModuleName=module))
        return found

    def write_error(self, b: Bound) -> list[Any]:
        messages = [str(i) for i in b.input] if b.downstream else [str(b.get("message", ""))]
        if not messages:
            return []
        category = str(b.get("category", "NotSpecified"))
        if category not in ErrorCategory.__members__:
            raise binding_error(
                "Write-Error", "CannotConvertArgumentNoMessage,Write-Error", f"Invalid Category {category}"
            )
        exc = o.WriteErrorException(Message=messages[0])
        fq = str(b.get("errorid") or "Microsoft.PowerShell.Commands.WriteErrorException")
        target = b.get("targetobject")
        record = o.error_record(
            exc, fq, ErrorCategory[category], "WriteErrorException", str(target) if target else None, "Write-Error"
        )
        raise CmdletError(record)
