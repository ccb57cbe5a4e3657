"""``hvsnap account ...``: accounts."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.common import Obj, command
from harness.domain.model import AccountType
from harness.service import accounts
from harness.service.cloud import Cloud


@click.group("account")
def account() -> None:
    """Accounts."""


@command(account, "create")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(["user", "domain-admin", "admin"]), default="user")
@click.option("--domain-id", "domain_uuid")
def account_create(cloud: Cloud, caller: Any, name: str, kind: str, domain_uuid: str | None) -> Obj:
    types = {"user": AccountType.User, "domain-admin": AccountType.DomainAdmin, "admin": AccountType.Admin}
    from harness.service import views

    created = accounts.create_account(cloud.manager.uow_factory, caller, name, types[kind], domain_uuid)
    with cloud.manager.uow_factory(readonly=True) as uow:
        return views.account(uow, created)
