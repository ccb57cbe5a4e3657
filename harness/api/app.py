"""The API as a function: request parameters in, status and JSON body out (sans-IO).

:meth:`ApiApp.handle` authenticates the request (API key and signature, or a console
session's cookie and ``sessionkey``: :mod:`harness.api.sessions`; ``login`` and ``logout``
need neither), finds the command, converts its parameters, makes the one manager call the command's handler makes,
and wraps the answer in CloudStack's envelope: exactly one top-level key,
``<command lower-cased>response``. A refusal is ``{"<command>response": {"errorcode",
"cserrorcode", "errortext"}}`` with the HTTP status equal to ``errorcode``. Anything
unexpected is logged with its traceback and answered 530 "Unexpected exception": no stack
trace ever reaches a response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

# Importing the response modules registers their commands.
from harness.api import accounts, catalogue, instances, keypairs, policies, resources, vmsnapshots  # noqa: F401
from harness.api.params import parse as parse_args
from harness.api.registry import COMMANDS, Call
from harness.api.sessions import ANONYMOUS, Exchange, Sessions
from harness.api.shapes import prune
from harness.api.signing import BadSignature, verify
from harness.domain.errors import CloudError, InvalidParameterValue
from harness.service.manager import Manager

log = logging.getLogger("hvsnap.api")

JSON_TYPE = "application/json; charset=UTF-8"
MAX_FIELDS = 1000


class Unauthorized(CloudError):
    """401: no API key, an unknown one, a bad signature or an expired request."""

    errorcode = 401
    cserrorcode = 9999


class UnsupportedCommand(CloudError):
    """432: the command does not exist (or is not available to the caller)."""

    errorcode = 432
    cserrorcode = 9999


class RequestTooLarge(CloudError):
    """413: the request is larger than the server accepts."""

    errorcode = 413
    cserrorcode = 9999


#: json.dumps' output for the values answers hold: dates and dataclasses through ``default=str``
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
AUTH_FAILED = "unable to verify user credentials and/or request signature"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()  # e.g. Set-Cookie from login and logout


def parse_params(query: str, body: bytes = b"") -> dict[str, str]:
    """The request's parameters from the query string and a form body; the first
    occurrence of a name wins. Malformed input is a 431."""
    found: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        if body:
            pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidParameterValue(f"Malformed request parameters: {err}") from None
    for key, value in pairs:
        found.setdefault(key, value)
    return found


def envelope(command: str | None, inner: dict[str, Any], status: int = 200) -> Response:
    """The answer's one top-level key around ``inner``, absent (``None``) values left out
    at every depth as CloudStack's serialiser leaves them out."""
    key = f"{command.lower()}response" if command else "errorresponse"
    return Response(status, orjson.dumps({key: prune(inner)}, default=str, option=_JSON_OPTIONS))


def error(command: str | None, err: CloudError) -> Response:
    return envelope(command, err.as_dict(), err.errorcode)


class ApiApp:
    """CloudStack's ``/client/api`` over a :class:`Manager`."""

    def __init__(
        self,
        manager: Manager,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sessions: Sessions | None = None,
    ) -> None:
        self.manager = manager
        self.clock = clock
        self.sessions = sessions or Sessions()

    def handle(self, params: dict[str, str], cookies: Mapping[str, str] | None = None, post: bool = False) -> Response:
        """Answer one request: its parameters, its cookies (a console session's), and
        whether it came as a POST (``login`` takes no other)."""
        exchange = Exchange(self.sessions, cookies or {}, post)
        response = self._handle(params, exchange)
        if exchange.set_cookies:
            headers = tuple(("Set-Cookie", c) for c in exchange.set_cookies)
            return Response(response.status, response.body, response.content_type, headers)
        return response

    def _handle(self, params: dict[str, str], exchange: Exchange) -> Response:
        lowered: dict[str, str] = {}
        for key, value in params.items():
            lowered.setdefault(key.lower(), value)
        name = lowered.get("command") or None
        if name is not None and (len(name) > 100 or not name.isascii() or not name.isalnum()):
            name = None
        try:
            spec = COMMANDS.get(name.lower()) if name else None
            caller = ANONYMOUS if spec is not None and spec.public else self._authenticate(params, lowered, exchange)
            if name is None:
                raise InvalidParameterValue("Unable to execute API command: missing parameter command")
            if spec is None:
                raise UnsupportedCommand(f"The given command: {name} does not exist or it is not available for user")
            args = parse_args(spec.name, spec.params, lowered)
            return envelope(spec.name, spec.handler(Call(self.manager, caller, args, exchange)))
        except CloudError as err:
            return error(name, err)
        except Exception:
            log.exception("command %s failed unexpectedly", name)
            return error(name, CloudError("Unexpected exception"))

    def _authenticate(self, params: dict[str, str], lowered: dict[str, str], exchange: Exchange) -> Any:
        session_key = lowered.get("sessionkey")
        if session_key is not None:  # a console session: its cookie and its key
            session = self.sessions.find(exchange.cookie, session_key)
            found = self.manager.account_by_id(session.account_id) if session is not None else None
            if found is None:
                raise Unauthorized("session expired or unknown; log in again")
            return found
        api_key = lowered.get("apikey")
        if not api_key or not lowered.get("signature"):
            raise Unauthorized(AUTH_FAILED)
        account = self.manager.account_by_api_key(api_key)
        if account is None or not account.secret_key:
            raise Unauthorized(AUTH_FAILED)
        try:
            verify(params, account.secret_key, self.clock())
        except BadSignature as why:
            log.info("refused a request for %s: %s", account.name, why)
            raise Unauthorized(AUTH_FAILED) from None
        return account
