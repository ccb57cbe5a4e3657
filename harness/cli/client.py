"""The CloudStack API as the CLI uses it: every command is one or more API calls.

There is one path for every rule: a CLI command builds the API request a ``cs`` user would
send, signs it with the caller's keys, and reads CloudStack's answer. Only the transport
differs:

- **beside a server**: when ``hvsnap serve`` serves the home (``harness.api.discovery``),
  the request goes over HTTP to that server, which owns the home's host. Nothing waits on
  the host's lock; the server's job queue keeps one operation per VM;
- **alone**: otherwise the CLI opens the home itself and hands the request to the same
  :class:`~harness.api.app.ApiApp` in-process. Jobs then run inline: the CLI is the
  manager, so a job has finished when the command returns (``--no-wait`` prints its id).

Parameters are sent as strings, so the API converts and checks them (an integer out of
range is its 431, not a Python overflow). The caller's keys are read from the home's
database, as ``hvsnap admin-keys`` reads the admin's: whoever can read the home can act as
any of its accounts, as before.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from harness.api.app import ApiApp
from harness.api.signing import sign
from harness.domain.model import Account
from harness.service.cloud import Cloud
from harness.store.ports import UowFactory

Obj = dict[str, Any]
PENDING = 0
FAILED = 2
HTTP_TIMEOUT = 120.0
#: queryAsyncJobResult polling: the first poll soon, then at most every half second.
POLL_FIRST, POLL_MAX = 0.02, 0.5


class ApiRefusal(Exception):
    """The API's refusal ``{"errorcode", "errortext"}`` (or a transport failure as 530)."""

    def __init__(self, error: Obj) -> None:
        super().__init__(str(error.get("errortext")))
        self.error = {"errorcode": int(error.get("errorcode") or 530), "errortext": str(error.get("errortext"))}


class Transport(Protocol):
    def send(self, params: dict[str, str]) -> tuple[int, Obj]:
        """Send signed parameters; the HTTP status and the decoded JSON body."""


class InProcess:
    """The API of a cloud this process opened (nothing serves the home)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.app = ApiApp(cloud.manager)

    def send(self, params: dict[str, str]) -> tuple[int, Obj]:
        response = self.app.handle(params)
        return response.status, json.loads(response.body)


class OverHttp:
    """The API of the ``hvsnap serve`` serving the home."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def send(self, params: dict[str, str]) -> tuple[int, Obj]:
        request = urllib.request.Request(
            self.endpoint,
            data=urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as refused:
            with refused:
                body = refused.read()
            try:
                return refused.code, json.loads(body)
            except ValueError:
                return refused.code, {"errorresponse": {"errorcode": refused.code, "errortext": refused.reason}}
        except (OSError, ValueError) as err:
            raise ApiRefusal(
                {
                    "errorcode": 530,
                    "errortext": f"hvsnap serve at {self.endpoint} does not answer ({err}); "
                    "stop it, or remove serve.json from the home if it is gone",
                }
            ) from None


class Api:
    """API calls as the caller, over a transport. ``wait``: async commands wait for their job.
    ``store``: the home's database, where the callers' keys are read."""

    def __init__(self, transport: Transport, caller: Account, store: UowFactory, wait: bool = True) -> None:
        self.transport = transport
        self.caller = caller
        self.store = store
        self.wait = wait

    @property
    def cloud(self) -> Cloud | None:
        """The cloud when the CLI runs it in-process; None beside a server."""
        return self.transport.cloud if isinstance(self.transport, InProcess) else None

    @property
    def endpoint(self) -> str | None:
        return self.transport.endpoint if isinstance(self.transport, OverHttp) else None

    def call(self, command: str, **params: Any) -> Obj:
        """The inner response object of ``command``; a refusal raises :class:`ApiRefusal`."""
        if not self.caller.api_key or not self.caller.secret_key:
            raise ApiRefusal(
                {
                    "errorcode": 531,
                    "errortext": f"Account {self.caller.name} has no API keys: "
                    f"hvsnap account keys {self.caller.name} --register",
                }
            )
        wire = {k: _wire(v) for k, v in params.items() if v is not None}
        wire.update(command=command, response="json", apikey=self.caller.api_key)
        if isinstance(self.transport, OverHttp):
            wire["signatureVersion"] = "3"
            wire["expires"] = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S+0000")
        status, body = self.transport.send(sign(wire, self.caller.secret_key))
        inner = next(iter(body.values()), {}) if len(body) == 1 else body
        if status != 200 or not isinstance(inner, dict):
            error = inner if isinstance(inner, dict) else {}
            text = error.get("errortext")
            if status == 401 and isinstance(self.transport, OverHttp):
                text = f"{text} (is hvsnap serve on this home using another database than --db?)"
            raise ApiRefusal({"errorcode": error.get("errorcode", status), "errortext": text})
        return inner

    def list(self, command: str, key: str, **params: Any) -> list[Obj]:
        """The items of a list command (CloudStack omits the key when there are none)."""
        return list(self.call(command, **params).get(key, []))

    def job(self, command: str, key: str | None, **params: Any) -> Obj:
        """Start an async command. Waiting: its result object (``jobresult[key]``, or the
        whole result), a failed job raised as its refusal. Not waiting: the API's immediate
        answer, ``{"jobid"}`` (and ``"id"`` for a create)."""
        started = self.call(command, **params)
        if not self.wait:
            return started
        result = self.finish(started["jobid"], command)
        return result if key is None else dict(result.get(key) or {})

    def finish(self, jobid: str, label: str) -> Obj:
        """Wait for a job (with a spinner on a terminal when a server runs it)."""
        delay = POLL_FIRST
        with _spinner(self.endpoint is not None, f"{label}: waiting for job {jobid}"):
            while True:
                status = self.call("queryAsyncJobResult", jobid=jobid)
                if status.get("jobstatus") != PENDING:
                    break
                time.sleep(delay)
                delay = min(delay * 2, POLL_MAX)
        result = status.get("jobresult") or {}
        if status.get("jobstatus") == FAILED:
            raise ApiRefusal(result)
        return dict(result)


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _spinner(show: bool, label: str) -> AbstractContextManager[Any]:
    if not show:
        return nullcontext()
    from rich.console import Console

    return Console(stderr=True, highlight=False, markup=False, emoji=False).status(label)


def pages(api: Api, command: str, key: str, *, size: int = 500, **params: Any) -> Iterator[Obj]:
    """Every item of a paged list command."""
    page = 1
    while True:
        reply = api.call(command, page=page, pagesize=size, **params)
        items = reply.get(key, [])
        yield from items
        if len(items) < size:
            return
        page += 1
