"""The command-line options of the processes that own a simulated host and run its guests
(``hvsnap serve``, ``hvsnap emulate-host``): one definition, shared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from simulator.guests.addresses import DEFAULT_GUEST_RANGE, guest_range

F = TypeVar("F", bound=Callable[..., Any])


def _range(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        guest_range(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None
    return value


def _keys(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    import asyncssh

    try:
        lines = Path(value).read_text().splitlines()
    except OSError as err:
        raise click.BadParameter(f"cannot read {value}: {err.strerror}") from None
    keys = tuple(ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))
    for number, line in enumerate(keys, 1):
        try:
            asyncssh.import_public_key(line)
        except (asyncssh.KeyImportError, ValueError):
            raise click.BadParameter(f"key {number} of {value} is not an OpenSSH public key") from None
    return keys


def guest_options(f: F) -> F:
    """``--guests/--no-guests``, ``--guest-port``, ``--guest-range`` and
    ``--guest-authorized-keys``."""
    f = click.option(
        "--guest-authorized-keys",
        "guest_keys",
        type=click.Path(dir_okay=False),
        callback=_keys,
        help="OpenSSH public keys (one a line) every guest accepts for root, as a deploy's key pair",
    )(f)
    f = click.option(
        "--guest-range",
        default=DEFAULT_GUEST_RANGE,
        show_default=True,
        callback=_range,
        help="loopback network the VMs' addresses come from (inside 127.0.0.0/8)",
    )(f)
    f = click.option(
        "--guest-port",
        default=22,
        show_default=True,
        type=click.IntRange(0, 65535),
        help="SSH port of every guest (2222 where it cannot be bound; 0: any free port per VM)",
    )(f)
    return click.option(
        "--guests/--no-guests", default=True, show_default=True, help="run an SSH server per running simulated VM"
    )(f)


def guest_config(enabled: bool, port: int, keys: tuple[str, ...] = ()) -> Any:
    """The ``guests`` argument of a simulated driver or emulated host: a GuestConfig, or None."""
    if not enabled:
        return None
    from simulator.guests.network import GuestConfig

    return GuestConfig(port=port, authorized_keys=keys)
