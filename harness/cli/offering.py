"""``hvsnap offering ...``: service offerings."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.common import Obj, command
from harness.service.cloud import Cloud


@click.group("offering")
def offering() -> None:
    """Service offerings."""


@command(offering, "list")
def offering_list(cloud: Cloud, caller: Any) -> list[Obj]:
    return cloud.manager.list_offerings()
