"""Domain, account and user commands: createDomain / listDomains, createAccount (the
account with its ``user`` list) / listAccounts / deleteAccount, listUsers and
registerUserKeys (by user id, as CloudStack's), and listProjects (hvsnap has none)."""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command, job, paged
from harness.api.shapes import ACCOUNT, DOMAIN, PROJECT, SUCCESS, USER, USER_KEYS
from harness.api.vmsnapshots import LISTING, PAGING, TAGGED


@command(
    "createDomain",
    P("name", required=True, description="creates domain with this name"),
    P("parentdomainid", T.UUID, description="assigns new domain a parent domain by domain ID", entity="domain"),
    response=DOMAIN,
)
def create_domain(c: Call) -> Obj:
    """Creates a domain below the caller's domain, or below ``parentdomainid``."""
    return {"domain": c.manager.create_domain(c.caller, c["name"], c.get("parentdomainid"))}


@command(
    "listDomains",
    P("id", T.UUID, description="List domain by domain ID.", entity="domain"),
    P("name", description="List domain by domain name."),
    P("listall", T.BOOLEAN, description="If set to false, list only resources belonging to the command's caller"),
    *PAGING,
    response=DOMAIN,
)
def list_domains(c: Call) -> Obj:
    """Lists domains and provides detailed information for listed domains."""
    return paged("domain", c.manager.list_domains(c.caller, c.get("id"), c.get("name")), c)


@command(
    "createAccount",
    P("username", required=True, description="Unique username."),
    P("account", description="Name of the account to be created. The user will be added to this newly created account"),
    P("accounttype", T.SHORT, description="Type of the account: 0 user, 1 root admin, 2 domain admin"),
    P("domainid", T.UUID, description="Creates the user under the specified domain.", entity="domain"),
    P("password", description="Clear text password", length=255),
    P("email", description="email"),
    P("firstname", description="firstname"),
    P("lastname", description="lastname"),
    response=ACCOUNT,
)
def create_account(c: Call) -> Obj:
    """Creates an account with one user."""
    name = c.get("account") or c["username"]
    account = c.manager.create_account(
        c.caller,
        name,
        c.get("accounttype"),
        c.get("domainid"),
        c.get("password"),
        firstname=c.get("firstname"),
        lastname=c.get("lastname"),
        email=c.get("email"),
    )
    return {"account": account}


@command(
    "listAccounts",
    P("id", T.UUID, description="list account by account ID", entity="account"),
    P("name", description="list account by account name"),
    *LISTING[:2],
    P("domainid", T.UUID, description="list only resources belonging to the domain specified", entity="domain"),
    *PAGING,
    response=ACCOUNT,
)
def list_accounts(c: Call) -> Obj:
    """Lists accounts and provides detailed account information for listed accounts."""
    items = c.manager.list_accounts(c.caller, c.get("id"), c.get("name"))
    if c.get("domainid"):
        items = [a for a in items if a["domainid"] == c["domainid"]]
    return paged("account", items, c)


@command(
    "deleteAccount",
    P("id", T.UUID, True, "Account id", entity="account"),
    response=SUCCESS,
    isasync=True,
)
def delete_account(c: Call) -> Obj:
    """Deletes an account and all its resources: its Instances are expunged (their
    snapshots deleted first), then the account and its users are removed."""
    return job(c.manager.delete_account(c.caller, c["id"]))


@command(
    "listUsers",
    P("id", T.UUID, description="List user by ID.", entity="user"),
    P("username", description="List user by the username"),
    P("accounttype", T.INTEGER, description="List users by account type."),
    P("state", description="List users by state of the user account."),
    *LISTING,
    response=USER,
)
def list_users(c: Call) -> Obj:
    """Lists user accounts."""
    wanted = {k: c.get(k) for k in ("id", "username", "accounttype", "state", "account", "domainid")}
    return paged("user", c.manager.list_users(c.caller, c.get("keyword"), **wanted), c)


@command(
    "registerUserKeys",
    P("id", T.UUID, True, "User id", entity="user"),
    response=USER_KEYS,
)
def register_user_keys(c: Call) -> Obj:
    """This command allows a user to register for the developer API, returning a secret key
    and an API key. The user's earlier keys stop working."""
    return {"userkeys": c.manager.register_keys(c.caller, c["id"])}


@command(
    "listProjects",
    P("id", T.UUID, description="list projects by project ID", entity="project"),
    P("name", description="list projects by name"),
    *TAGGED[:1],
    *LISTING,
    response=PROJECT,
    since="3.0.0",
)
def list_projects(c: Call) -> Obj:
    """Lists projects and provides detailed information for listed projects (hvsnap has none)."""
    return {}
