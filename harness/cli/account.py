"""``hvsnap account ...``: accounts and their API keys."""

from __future__ import annotations

import shlex
import sys

import click

from harness.cli.client import Api, ApiRefusal
from harness.cli.common import Listing, Obj, Output, card, command, group, printable
from harness.service import accounts, passwords

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


def user_id(api: Api, name: str) -> str:
    """The id of account ``name``'s (one) user; 431 when the caller sees no such account."""
    found = [a for a in api.list("listAccounts", "account", name=name, listall=True) if a.get("name") == name]
    if not found or not found[0].get("user"):
        raise ApiRefusal({"errorcode": 431, "errortext": f"Unable to find account {name}"})
    return str(found[0]["user"][0]["id"])


@command(
    account,
    "password",
    "hvsnap account password alice --password-stdin < alice-password.txt",
    short_help="Set an account's console password",
)
@click.argument("name")
@click.option("--password-stdin", "from_stdin", is_flag=True, help="Read the password from standard input")
def account_password(api: Api, name: str, from_stdin: bool) -> Obj:
    """Set the console password of account NAME's user (prompted for unless --password-stdin).

    Your own is reset without the current one: this CLI holds the home's database."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = user_id(api, name)
    if name == api.caller.name:
        passwords.set_password(api.store, api.caller, user, password, home_owner=True)
        return {"account": name, "password": "set"}
    shown = api.call("updateUser", id=user, password=password)["user"]
    return {"account": name, "password": "set", "userid": shown.get("id")}


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
    if register:
        keys = dict(api.call("registerUserKeys", id=found[0]["user"][0]["id"])["userkeys"])
    else:
        keys = _stored_keys(api, name)
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
