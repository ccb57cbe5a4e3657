"""``hvsnap config ...``: configuration keys."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.common import Obj, command
from harness.service.cloud import Cloud


@click.group("config")
def config() -> None:
    """Configuration keys."""


@command(config, "get")
@click.argument("name", required=False)
def config_get(cloud: Cloud, caller: Any, name: str | None) -> list[Obj]:
    return cloud.manager.list_config(name)


@command(config, "set")
@click.argument("name")
@click.argument("value")
def config_set(cloud: Cloud, caller: Any, name: str, value: str) -> Obj:
    return cloud.manager.set_config(caller, name, value)
