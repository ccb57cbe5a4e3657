"""The command table against CloudStack's own definitions.

``tests/api/cloudstack/commands.json`` and ``responses.json`` hold facts transcribed from
apache/cloudstack's ``*Cmd.java`` (``@APICommand``, ``@Parameter``) and ``*Response.java``
(``@SerializedName`` and the Java field types). Every command hvsnap implements under a
CloudStack name must match them: async or not, ``since``, the response class, and each
parameter's name, type, ``since``, ``length`` and ``required``; every response field must
exist in the CloudStack class with the same type. Where hvsnap knowingly differs, the
difference and its reason are listed here; hvsnap's own commands and fields are marked in
the table (``extension``) and skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.api import app  # noqa: F401  (registers every command)
from harness.api.params import DEFAULT_LENGTH, Param
from harness.api.registry import COMMANDS, ApiCommand
from harness.api.shapes import Shape

FACTS = Path(__file__).parent / "cloudstack"
COMMAND_FACTS: dict[str, Any] = json.loads((FACTS / "commands.json").read_text())
RESPONSE_FACTS: dict[str, Any] = json.loads((FACTS / "responses.json").read_text())

#: (command, parameter) -> why hvsnap's ``required`` or ``type`` differs from CloudStack's
DEVIATIONS = {
    ("createAccount", "email"): "optional: hvsnap keeps no mail",
    ("createAccount", "firstname"): "optional: hvsnap keeps the names when given",
    ("createAccount", "lastname"): "optional: hvsnap keeps the names when given",
    ("createAccount", "password"): "optional: passwords and login belong to the console",
    ("createServiceOffering", "cpunumber"): "required: hvsnap has no custom (dynamic) offerings",
    ("createServiceOffering", "cpuspeed"): "required: hvsnap has no custom (dynamic) offerings",
    ("createServiceOffering", "memory"): "required: hvsnap has no custom (dynamic) offerings",
    ("createServiceOffering", "displaytext"): "optional: defaults to the name, as CloudStack 4.20 does",
    ("createVolume", "name"): "required: hvsnap creates volumes by name and size only",
    ("createVolume", "size"): "required: hvsnap has no disk offerings",
    ("detachVolume", "id"): "required: hvsnap detaches by volume id only",
    ("updateConfiguration", "value"): "required: hvsnap has no reset-by-update",
    ("updateHypervisorCapabilities", "vmsnapshotenabled"): "required: the one capability hvsnap changes",
    ("updateResourceLimit", "resourcetype"): "string: 100 or vmsnapshot, hvsnap's VM snapshot resource type",
    ("listResourceLimits", "resourcetype"): "string: 100 or vmsnapshot, hvsnap's VM snapshot resource type",
}


def inherited(command: str) -> dict[str, Any]:
    """The parameters a command's CloudStack base classes add."""
    facts = COMMAND_FACTS[command]
    bases = COMMAND_FACTS["_bases"]
    base = facts.get("base")
    out: dict[str, Any] = {}
    if base is not None:
        for name in (base, *bases["_chain"][base]):
            out.update(bases[name])
    return out


def cloudstack_commands() -> list[ApiCommand]:
    return sorted((c for c in COMMANDS.values() if not c.extension), key=lambda c: c.name)


def test_every_command_named_as_cloudstack_names_one_is_transcribed() -> None:
    missing = [c.name for c in cloudstack_commands() if c.name not in COMMAND_FACTS]
    assert missing == []
    own = [c.name for c in COMMANDS.values() if c.extension]
    assert own and not set(own) & set(COMMAND_FACTS), "an extension must not take a CloudStack name"


@pytest.mark.parametrize("cmd", cloudstack_commands(), ids=lambda c: c.name)
def test_command_matches_cloudstack(cmd: ApiCommand) -> None:
    facts = COMMAND_FACTS[cmd.name]
    assert cmd.isasync == facts["async"]
    assert cmd.since == facts.get("since")
    assert cmd.response.java == facts["response"]
    declared = {**inherited(cmd.name), **facts["params"]}
    for p in cmd.params:
        if p.extension:
            assert p.name not in declared, f"{cmd.name}.{p.name} is CloudStack's: it is no extension"
            continue
        check_param(cmd.name, p, declared)


def check_param(command: str, p: Param, declared: dict[str, Any]) -> None:
    assert p.name in declared, f"{command} has no parameter {p.name} in CloudStack"
    fact = declared[p.name]
    deviation = DEVIATIONS.get((command, p.name))
    if deviation is None or not deviation.startswith("string"):
        assert p.type.value == fact["type"], f"{command}.{p.name}"
    if deviation is None or not deviation.startswith(("required", "optional")):
        assert p.required == fact.get("required", False), f"{command}.{p.name} required"
    assert p.since == fact.get("since"), f"{command}.{p.name} since"
    assert p.length == fact.get("length", DEFAULT_LENGTH), f"{command}.{p.name} length"


def test_every_deviation_is_a_real_one() -> None:
    """A listed deviation that no longer differs must leave the list."""
    for (command, name), why in DEVIATIONS.items():
        cmd = COMMANDS[command.lower()]
        p = next(p for p in cmd.params if p.name == name)
        fact = {**inherited(command), **COMMAND_FACTS[command]["params"]}[name]
        if why.startswith("string"):
            assert p.type.value != fact["type"]
        else:
            assert p.required != fact.get("required", False), (command, name)


def shapes() -> list[Shape]:
    found: dict[str, Shape] = {}
    for cmd in COMMANDS.values():
        stack = [cmd.response]
        while stack:
            shape = stack.pop()
            if shape.java is not None and shape.key not in found:
                found[shape.key] = shape
                stack.extend(f.shape for f in shape.fields if f.shape is not None)
    return sorted(found.values(), key=lambda s: s.key)


@pytest.mark.parametrize("shape", shapes(), ids=lambda s: s.key)
def test_response_fields_match_cloudstack(shape: Shape) -> None:
    assert shape.java in RESPONSE_FACTS, f"{shape.java} is not transcribed"
    facts = {**RESPONSE_FACTS["BaseResponse"], **RESPONSE_FACTS[shape.java]}
    for f in shape.fields:
        if f.extension:
            assert f.name not in facts, f"{shape.java}.{f.name} is CloudStack's: not an extension"
            continue
        assert f.name in facts, f"{shape.java} has no field {f.name}"
        assert f.type == facts[f.name], f"{shape.java}.{f.name}"
