"""Console sessions: CloudStack's ``login`` and ``logout``, and the session check.

``login`` (a POST: username, password, domain) answers a ``sessionkey`` and sets the
``JSESSIONID`` cookie (HttpOnly, SameSite=Strict, path ``/client``). A later request is the
session's when it carries both the cookie and the matching ``sessionkey`` parameter, as
CloudStack's UI requests are: the cookie alone (a forged cross-site request) or the key
alone (a leaked key) is refused 401. Both tokens are random 256-bit values; the key is
compared in constant time.

A session ends at ``logout``, after :data:`IDLE_SECONDS` without a request, or
:data:`LIFETIME_SECONDS` after login. Sessions live in the server's memory: a restart logs
everyone out, and two servers on one database do not share them.

Failed logins are counted per user (and domain): after :data:`MAX_FAILURES` within
:data:`FAILURE_WINDOW` seconds that user's logins are refused 531 without a password check
until the window has passed; a successful login clears the count. A wrong password is the
same 531 as an unknown user (``harness.service.passwords``).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command
from harness.api.shapes import LOGIN, LOGOUT, USER
from harness.domain.errors import InvalidParameterValue, PermissionDenied
from harness.domain.model import Account, AccountType
from harness.service.passwords import domain_path

COOKIE = "JSESSIONID"
COOKIE_PATH = "/client"
IDLE_SECONDS = 1800.0
LIFETIME_SECONDS = 12 * 3600.0
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0
MAX_TRACKED = 10_000

#: The caller of a command that needs none (``login``): an account with no id and no rights.
ANONYMOUS = Account(0, "", "", AccountType.User, 0)


@dataclass(slots=True)
class Session:
    cookie: str
    key: str
    account_id: int
    account_uuid: str
    started: float
    seen: float


class Sessions:
    """The server's sessions and its failed-login counts; safe across request threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_cookie: dict[str, Session] = {}
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def open(self, account: Account) -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), account.id, account.uuid, now, now)
        with self._lock:
            self._drop_expired(now)
            self._by_cookie[session.cookie] = session
        return session

    def find(self, cookie: str | None, key: str) -> Session | None:
        """The live session of ``cookie`` when ``key`` is its sessionkey; touches it."""
        now = self.clock()
        with self._lock:
            session = self._by_cookie.get(cookie or "")
            if session is None or not hmac.compare_digest(session.key.encode(), key.encode()):
                return None
            if self._expired(session, now):
                del self._by_cookie[session.cookie]
                return None
            session.seen = now
            return session

    def close(self, cookie: str | None) -> None:
        with self._lock:
            self._by_cookie.pop(cookie or "", None)

    def close_account(self, account_uuid: str) -> None:
        """End every session of an account (an admin set its password)."""
        with self._lock:
            for cookie in [c for c, s in self._by_cookie.items() if s.account_uuid == account_uuid]:
                del self._by_cookie[cookie]

    def check_throttle(self, who: str) -> None:
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failures.get(who, []) if now - t < FAILURE_WINDOW]
            if len(recent) >= MAX_FAILURES:
                wait = int(FAILURE_WINDOW - (now - recent[0])) + 1
                raise PermissionDenied(f"Too many failed logins for this user; try again in {wait} s")

    def failed(self, who: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:
                self._failures = {w: ts for w, ts in self._failures.items() if now - ts[-1] < FAILURE_WINDOW}
            recent = [t for t in self._failures.get(who, []) if now - t < FAILURE_WINDOW]
            self._failures[who] = [*recent, now][-MAX_FAILURES:]

    def succeeded(self, who: str) -> None:
        with self._lock:
            self._failures.pop(who, None)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.seen > IDLE_SECONDS or now - session.started > LIFETIME_SECONDS

    def _drop_expired(self, now: float) -> None:
        for cookie in [c for c, s in self._by_cookie.items() if self._expired(s, now)]:
            del self._by_cookie[cookie]


@dataclass
class Exchange:
    """One request's session side: its cookies and method in, ``Set-Cookie`` lines out."""

    sessions: Sessions
    cookies: Mapping[str, str] = field(default_factory=dict)
    post: bool = False
    set_cookies: list[str] = field(default_factory=list)

    @property
    def cookie(self) -> str | None:
        return self.cookies.get(COOKIE)


def session_cookie(value: str, max_age: int | None = None) -> str:
    age = f"; Max-Age={max_age}" if max_age is not None else ""
    return f"{COOKIE}={value}; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict{age}"


@command(
    "login",
    P("username", required=True, description="Username"),
    P("password", required=True, description="the user's password (in the POST body)"),
    P("domain", description="Path of the domain that the user belongs to, e.g. / or ROOT/sub (default ROOT)"),
    response=LOGIN,
    public=True,
)
def login(c: Call) -> Obj:
    """Logs a user in (POST only): a sessionkey, and the session cookie."""
    ex: Exchange = c.exchange
    if not ex.post:
        raise InvalidParameterValue("login takes its parameters in a POST body, never in the URL")
    username, domain = c["username"], c.get("domain") or "/"
    who = f"{domain_path(domain)}{username}"  # one count per user, however the domain is spelled
    ex.sessions.check_throttle(who)
    try:
        account = c.manager.authenticate(username, c["password"], domain)
    except PermissionDenied:
        ex.sessions.failed(who)
        raise
    ex.sessions.succeeded(who)
    ex.sessions.close(ex.cookie)  # a new login never reuses a session id it was handed
    session = ex.sessions.open(account)
    ex.set_cookies.append(session_cookie(session.cookie))
    shown = c.manager.list_accounts(account, account.uuid)[0]
    user = (shown.get("user") or [{}])[0]
    return {
        "sessionkey": session.key,
        "timeout": int(IDLE_SECONDS),
        "username": user.get("username", account.name),
        "userid": user.get("id"),
        "firstname": user.get("firstname"),
        "lastname": user.get("lastname"),
        "account": account.name,
        "accountid": account.uuid,
        "domainid": shown.get("domainid"),
        "domain": shown.get("domain"),
        "type": str(int(account.type)),
    }


@command("logout", response=LOGOUT, public=True)
def logout(c: Call) -> Obj:
    """Ends the session of the request's cookie, and clears the cookie."""
    ex: Exchange = c.exchange
    ex.sessions.close(ex.cookie)
    ex.set_cookies.append(session_cookie("", max_age=0))
    return {"description": "success"}


@command(
    "updateUser",
    P("id", T.UUID, True, "User uuid", entity="user"),
    P("password", description="Clear text password; stored as a salted hash"),
    P("currentpassword", description="Current password, which users must give to change their own"),
    response=USER,
)
def update_user(c: Call) -> Obj:
    """Sets a user's password: users their own (with currentpassword), admins the users they manage."""
    if c.get("password") is None:
        raise InvalidParameterValue("Unable to execute API command updateuser: nothing to update (give password)")
    account, shown = c.manager.set_password(c.caller, c["id"], c["password"], c.get("currentpassword"))
    ex: Exchange | None = c.exchange
    if ex is not None and account.id != c.caller.id:
        ex.sessions.close_account(account.uuid)
    return {"user": shown}
