"""The command table: each API command's name, parameters, response object and handler.

The table is declarative data (CloudStack's ``@APICommand`` and ``@Parameter``): request
validation (:func:`harness.api.params.parse`), serialisation (:func:`harness.api.shapes.prune`)
and ``listApis`` (:meth:`ApiCommand.describe`) are derived from it, and a test holds it
against facts transcribed from CloudStack's own definitions.

A handler receives a :class:`Call` (the manager, the authenticated caller and the parsed
arguments), makes one manager call and returns the inner response object, the value under
``<command>response``. Response modules register their handlers with :func:`command`.

``related`` is derived as CloudStack derives it: a command is related to the other
commands that answer with the same response object; a parameter naming an entity
(``entity=``) is related to the list commands that answer with that entity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.api.params import Param
from harness.api.shapes import SUCCESS, Shape
from harness.domain.model import Account, AsyncJob
from harness.service.manager import Manager

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    manager: Manager
    caller: Account
    args: dict[str, Any] = field(default_factory=dict)
    exchange: Any = None  # the request's session side (harness.api.sessions.Exchange)

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)


Handler = Callable[[Call], Obj]


@dataclass(frozen=True, slots=True)
class ApiCommand:
    name: str
    handler: Handler
    params: tuple[Param, ...]
    isasync: bool
    description: str
    response: Shape
    since: str | None = None
    #: hvsnap's own command (CloudStack has none by this name): the definitions test skips it
    extension: bool = False
    public: bool = False  # answered without a caller (login, logout)

    def related(self) -> list[str]:
        if self.response is SUCCESS:
            return []
        return [c.name for c in COMMANDS.values() if c.response is self.response and c is not self]

    def describe(self) -> Obj:
        """The command's entry in listApis (CloudStack's ``ApiDiscoveryResponse``)."""
        out: Obj = {"name": self.name, "description": self.description, "isasync": self.isasync}
        if self.since:
            out["since"] = self.since
        related = self.related()
        if related:
            out["related"] = ",".join(related)
        params = []
        for p in self.params:
            entry = p.describe()
            if p.entity is not None and "related" not in entry:
                lists = [c.name for c in COMMANDS.values() if c.response.key == p.entity and c.name.startswith("list")]
                if lists:
                    entry["related"] = ",".join(lists)
            params.append(entry)
        out["params"] = params
        out["response"] = self.response.describe()
        return out


#: Lower-cased command name -> command.
COMMANDS: dict[str, ApiCommand] = {}


def command(
    name: str,
    *params: Param,
    response: Shape,
    isasync: bool = False,
    since: str | None = None,
    extension: bool = False,
    public: bool = False,
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as ``name``, answering with ``response`` objects."""

    def register(fn: Handler) -> Handler:
        doc = (fn.__doc__ or "").strip()
        COMMANDS[name.lower()] = ApiCommand(name, fn, params, isasync, doc, response, since, extension, public)
        return fn

    return register


def listing_scope(c: Call) -> dict[str, object]:
    """The list commands' scope parameters (``listall``, ``domainid``, ``isrecursive``,
    ``account``) as the service's listing functions take them."""
    return {
        "listall": bool(c.get("listall")),
        "domain_uuid": c.get("domainid"),
        "isrecursive": bool(c.get("isrecursive")),
        "account_name": c.get("account"),
    }


def listing(key: str, count: int, items: list[Obj]) -> Obj:
    """A list response: ``{"count": N, key: [...]}``; no key for an empty page, ``{}`` for none."""
    out: Obj = {}
    if count:
        out["count"] = count
    if items:
        out[key] = items
    return out


def keyword_match(items: list[Obj], call: Call) -> list[Obj]:
    """BaseListCmd's ``keyword``: the items whose name (or display name) contains it."""
    keyword = (call.get("keyword") or "").lower()
    if not keyword:
        return items
    return [i for i in items if keyword in str(i.get("name") or i.get("displayname") or "").lower()]


def paged(key: str, items: list[Obj], call: Call) -> Obj:
    """A list response over a short in-memory catalogue, filtered by ``keyword`` and paged
    as CloudStack pages."""
    items = keyword_match(items, call)
    page, size = call.get("page"), call.get("pagesize")
    shown = items
    if size is not None and size > 0:
        start = (max(page or 1, 1) - 1) * size
        shown = items[start : start + size]
    return listing(key, len(items), shown)


def job(j: AsyncJob, entity_uuid: str | None = None) -> Obj:
    """An async command's immediate answer: ``{"jobid"}``, or ``{"id", "jobid"}`` for a create."""
    return {"jobid": j.uuid} if entity_uuid is None else {"id": entity_uuid, "jobid": j.uuid}
