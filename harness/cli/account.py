"""``hvsnap account ...``: accounts and their API keys."""

from __future__ import annotations

import shlex

import click

from harness.cli.client import Api, ApiRefusal
from harness.cli.common import Listing, Obj, Output, card, command, group, printable
from harness.service import accounts

account = group("account", "Accounts and their API keys", "hvsnap account create alice\nhvsnap account keys alice")
TYPES = {"user": 0, "admin": 1, "domain-admin": 2}


@command(account, "create", "hvsnap account create alice --type user")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(list(TYPES)), default="user", show_default=True)
@click.option("--domain-id", "domainid", help="Its domain (default: yours)")
def account_create(api: Api, name: str, kind: str, domainid: str | None) -> Obj:
    """Create an account with one user and API keys."""
    reply = api.call("createAccount", username=name, account=name, accounttype=TYPES[kind], domainid=domainid)
    return dict(reply["account"])


@command(account, "list", "hvsnap account list")
def account_list(api: Api) -> Listing:
    """List the accounts you can see."""
    return Listing("accounts", api.list("listAccounts", "account", listall=True))


@command(account, "keys", "hvsnap account keys alice --json")
@click.argument("name")
@click.option("--register", is_flag=True, help="Generate new keys (the old ones stop working)")
@click.option("--env", "as_env", is_flag=True, help="Print them as CLOUDSTACK_* exports for a shell, for cs")
def account_keys(api: Api, name: str, register: bool, as_env: bool) -> Output:
    """Show an account's API keys, or register new ones.

    The keys are what cs or cloudmonkey need; --env prints them as shell exports."""
    found = [a for a in api.list("listAccounts", "account", name=name, listall=True) if a.get("name") == name]
    if not found:
        raise ApiRefusal({"errorcode": 431, "errortext": f"Unable to find account {name}"})
    keys = dict(api.call("registerUserKeys", id=found[0]["user"][0]["id"])["userkeys"]) if register else _stored_keys(api, name)
    data = {"account": name, "apikey": keys["apikey"], "secretkey": keys["secretkey"]}
    if as_env:
        exports = {
            "CLOUDSTACK_ENDPOINT": api.endpoint or "http://127.0.0.1:8080/client/api",
            "CLOUDSTACK_KEY": keys["apikey"],
            "CLOUDSTACK_SECRET": keys["secretkey"],
        }
        return Output(data, "\n".join(f"export {k}={shlex.quote(printable(v))}" for k, v in exports.items()))
    return Output(data, card(data))


def _stored_keys(api: Api, name: str) -> Obj:
    """The keys as stored (listAccounts has shown the caller may see the account). The API
    has no command that shows a user's secret key yet; the CLI reads the home's database."""
    found = accounts.account_named(api.store, name)
    return {"apikey": found.api_key, "secretkey": found.secret_key}
