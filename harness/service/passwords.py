"""User passwords: salted hashes, the login check, and setting a password.

A password is stored as ``pbkdf2_sha256$<iterations>$<salt>$<hash>`` (base64 salt and hash,
PBKDF2-HMAC-SHA256 from :mod:`hashlib`, 600,000 iterations as OWASP recommends in 2023), in
CloudStack's ``user.password`` column. The password itself is never stored or logged.

:func:`authenticate` always spends one hash computation, whether the user exists, has no
password, or gave a wrong one, and compares digests in constant time, so its answer time
tells nothing about which it was. Every refusal is the same 531.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from harness.domain.errors import InvalidParameterValue, PermissionDenied
from harness.domain.model import Account, AccountType, Domain
from harness.service.access import check_access
from harness.store.ports import UnitOfWork, UowFactory

SCHEME = "pbkdf2_sha256"
ITERATIONS = 600_000
SALT_BYTES = 16
MAX_CHARS = 255
LOGIN_FAILED = "Failed to authenticate user {user} in domain {domain}; please provide valid credentials"


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; with nothing stored, a decoy hash is
    computed anyway and the answer is False."""
    scheme, iterations, salt, digest = _parse(stored) if stored else (SCHEME, ITERATIONS, b"\0" * SALT_BYTES, b"")
    computed = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return scheme == SCHEME and bool(digest) and hmac.compare_digest(computed, digest)


def check_new_password(password: str) -> None:
    """431 unless ``password`` is 1 to 255 characters with no control characters."""
    if not password or len(password) > MAX_CHARS:
        raise InvalidParameterValue(f"A password must have 1 to {MAX_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        raise InvalidParameterValue("A password may not contain control characters")


def random_password() -> str:
    """A fresh password for a new admin: 20 URL-safe characters (120 bits)."""
    return secrets.token_urlsafe(15)


def authenticate(uow_factory: UowFactory, username: str, password: str, domain: str | None = None) -> Account:
    """The account whose user is ``username`` in ``domain`` (a path such as ``/``,
    ``ROOT`` or ``ROOT/sub``, or a domain's name; default ROOT) when ``password`` matches;
    else 531 after the same work."""
    with uow_factory(readonly=True) as uow:
        home = _domain(uow, domain)
        account = uow.accounts.by_name(username, home.id) if home is not None and username else None
    if not verify_password(password, account.password_hash if account else None) or account is None:
        raise PermissionDenied(LOGIN_FAILED.format(user=username, domain=domain or "ROOT"))
    return account


def set_password(
    uow_factory: UowFactory,
    caller: Account,
    user_uuid: str,
    password: str,
    current: str | None = None,
    *,
    home_owner: bool = False,
) -> Account:
    """``updateUser``'s password for the user ``user_uuid``: users set their own, giving their
    ``current`` password (not needed for a first one); admins the users they manage. A domain
    admin may not set a root admin's. ``home_owner``: the CLI on the home's own database,
    which may reset the caller's password without the current one (it can read its keys
    too). Returns the user's account."""
    check_new_password(password)
    with uow_factory(readonly=True) as uow:
        user = uow.users.get_by_uuid(user_uuid)
        account = uow.accounts.get(user.account_id) if user is not None else None
    if account is None:
        raise InvalidParameterValue(f"Unable to find user with specified id: {user_uuid}")
    needs_current = account.id == caller.id and caller.password_hash is not None and not home_owner
    if needs_current and not verify_password(current or "", caller.password_hash):
        raise PermissionDenied("The current password is wrong")
    hashed = hash_password(password)
    with uow_factory() as uow:
        account = uow.accounts.get(account.id)
        if account is None:
            raise InvalidParameterValue(f"Unable to find user with specified id: {user_uuid}")
        if account.id != caller.id:
            if caller.type == AccountType.User:
                raise PermissionDenied(f"Account {caller.name} may not change another user's password")
            if account.type == AccountType.Admin and caller.type != AccountType.Admin:
                raise PermissionDenied(f"Account {caller.name} may not change a root admin's password")
            check_access(uow, caller, account, f"account {account.name}")
        uow.accounts.set_password_hash(account, hashed)
        uow.commit()
    return account


def domain_path(given: str | None) -> str:
    """CloudStack's login ``domain`` as a stored path: ``/``, ``ROOT`` or empty is ``/``;
    ``/a/b``, ``ROOT/a/b`` and ``a/b`` are ``/a/b/``."""
    path = (given or "").strip().strip("/")
    if path.upper() == "ROOT":
        path = ""
    elif path.upper().startswith("ROOT/"):
        path = path[5:]
    return "/" if not path else f"/{path}/"


def _domain(uow: UnitOfWork, given: str | None) -> Domain | None:
    wanted = domain_path(given)
    return next((d for d in uow.domains.all() if d.path == wanted), None)


def _parse(stored: str) -> tuple[str, int, bytes, bytes]:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        return scheme, int(iterations), base64.b64decode(salt), base64.b64decode(digest)
    except ValueError:  # a damaged row refuses like a wrong password, after the same work
        return "", ITERATIONS, b"\0" * SALT_BYTES, b""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
