"""Catalogue commands: offerings, zones, templates, hypervisor capabilities,
configuration, domains, accounts and keys, and listApis."""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import COMMANDS, Call, Obj, command, paged
from harness.api.vmsnapshots import LISTING, PAGING


@command("listServiceOfferings", P("id", T.UUID), P("name"), P("keyword"), *LISTING)
def list_service_offerings(c: Call) -> Obj:
    """Lists service offerings."""
    items = [
        o
        for o in c.manager.list_offerings()
        if c.get("id") in (None, o["id"])
        and c.get("name") in (None, o["name"])
        and (not c.get("keyword") or c["keyword"] in o["name"])
    ]
    return paged("serviceoffering", items, c)


@command(
    "createServiceOffering",
    P("name", required=True),
    P("displaytext"),
    P("cpunumber", T.INTEGER, True),
    P("cpuspeed", T.INTEGER, True),
    P("memory", T.INTEGER, True, "MiB"),
)
def create_service_offering(c: Call) -> Obj:
    """Creates a service offering (root admin)."""
    offering = c.manager.create_offering(c.caller, c["name"], c["cpunumber"], c["cpuspeed"], c["memory"])
    return {"serviceoffering": offering}


@command("listZones", P("id", T.UUID), P("available", T.BOOLEAN), *PAGING)
def list_zones(c: Call) -> Obj:
    """Lists zones."""
    return paged("zone", c.manager.list_zones(c.get("id")), c)


@command("listTemplates", P("templatefilter", required=True), P("id", T.UUID), P("zoneid", T.UUID), *LISTING)
def list_templates(c: Call) -> Obj:
    """Lists templates (a fixed Hyper-V catalogue)."""
    return paged("template", c.manager.list_templates(c["templatefilter"], c.get("id")), c)


@command("listHypervisorCapabilities", P("id", T.UUID), P("hypervisor"), *PAGING)
def list_hypervisor_capabilities(c: Call) -> Obj:
    """Lists hypervisor capabilities."""
    items = [
        x
        for x in c.manager.list_capabilities()
        if c.get("id") in (None, x["id"]) and c.get("hypervisor") in (None, x["hypervisor"])
    ]
    return paged("hypervisorCapabilities", items, c)


@command("updateHypervisorCapabilities", P("id", T.UUID), P("vmsnapshotenabled", T.BOOLEAN, True))
def update_hypervisor_capabilities(c: Call) -> Obj:
    """Enables or disables VM snapshots for a hypervisor (root admin)."""
    caps = c.manager.set_vm_snapshot_enabled(c.caller, c["vmsnapshotenabled"], c.get("id"))
    return {"hypervisorcapabilities": caps}


@command("listConfigurations", P("name"), P("keyword"), *PAGING)
def list_configurations(c: Call) -> Obj:
    """Lists configuration keys and values."""
    items = [x for x in c.manager.list_config(c.get("name")) if not c.get("keyword") or c["keyword"] in x["name"]]
    return paged("configuration", items, c)


@command("updateConfiguration", P("name", required=True), P("value", required=True))
def update_configuration(c: Call) -> Obj:
    """Sets a configuration value (root admin)."""
    return {"configuration": c.manager.set_config(c.caller, c["name"], c["value"])}


@command("createDomain", P("name", required=True), P("parentdomainid", T.UUID))
def create_domain(c: Call) -> Obj:
    """Creates a domain below the caller's domain, or below ``parentdomainid``."""
    return {"domain": c.manager.create_domain(c.caller, c["name"], c.get("parentdomainid"))}


@command("listDomains", P("id", T.UUID), P("name"), *LISTING)
def list_domains(c: Call) -> Obj:
    """Lists the domains the caller may see."""
    return paged("domain", c.manager.list_domains(c.caller, c.get("id"), c.get("name")), c)


@command(
    "createAccount",
    P("username", required=True),
    P("account", description="the account name (default: username)"),
    P("accounttype", T.INTEGER, description="0 user, 1 root admin, 2 domain admin"),
    P("domainid", T.UUID),
    P("password"),
    P("email"),
    P("firstname"),
    P("lastname"),
)
def create_account(c: Call) -> Obj:
    """Creates an account with one user."""
    name = c.get("account") or c["username"]
    return {
        "account": c.manager.create_account(c.caller, name, c.get("accounttype"), c.get("domainid"), c.get("password"))
    }


@command("listAccounts", P("id", T.UUID), P("name"), *LISTING)
def list_accounts(c: Call) -> Obj:
    """Lists the accounts the caller may see."""
    return paged("account", c.manager.list_accounts(c.caller, c.get("id"), c.get("name")), c)


@command("registerUserKeys", P("id", T.UUID, True, "the account's id (each account has one user)"))
def register_user_keys(c: Call) -> Obj:
    """Generates new API keys for an account's user."""
    return {"userkeys": c.manager.register_keys(c.caller, c["id"])}


@command("listApis", P("name"))
def list_apis(c: Call) -> Obj:
    """Lists the API commands this server answers."""
    wanted = c.get("name")
    items = [cmd.describe() for cmd in COMMANDS.values() if wanted is None or cmd.name.lower() == wanted.lower()]
    return paged("api", items, c)
