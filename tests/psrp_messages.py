"""PSRP messages as the live driver sends them, for tests of the driver's and the emulator's
CLIXML against pypsrp's and psrpcore's own."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pypsrp.complex_objects import ApartmentState, HostInfo, Pipeline, RemoteStreamOptions
from pypsrp.messages import CreatePipeline

from live_driver.session import pipeline
from live_driver.wire import Invocation


def create_pipeline(invocation: Invocation) -> Any:
    """The CREATE_PIPELINE message pypsrp's ``PowerShell.begin_invoke`` sends for it."""
    pool: Any = SimpleNamespace(protocol_version="2.3")
    commands = pipeline(pool, invocation).commands
    return CreatePipeline(
        True,
        ApartmentState(value=2),
        RemoteStreamOptions(value=15),
        False,
        HostInfo(host=None),
        Pipeline(is_nested=False, cmds=commands, history=None, redirect_err_to_out=False),
        False,
    )
