"""Request signatures as CloudStack checks them and as the ``cs`` client makes them.

The string to sign is every parameter except ``signature``, sorted by name, joined as
``name=urlencoded(value)`` with ``&``, then lower-cased; the signature is
``base64(HMAC-SHA1(secret, that string))`` (cloudstack.md §5, tooling.md §6). With
``signatureVersion=3`` the request also carries ``expires`` and is refused after it.

Two details differ between the two sides and both are accepted: ``cs`` sorts names
case-sensitively while CloudStack sorts the lower-cased names (they agree unless a name
starts with a capital), and Java's ``URLEncoder`` encodes ``~`` where Python's ``quote``
keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

EXPIRES_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z")


class BadSignature(Exception):
    """The request is unsigned, badly signed or expired (the API answers 401)."""


def _encode(value: str, java: bool) -> str:
    encoded = quote(value, safe="*")
    return encoded.replace("~", "%7E") if java else encoded


def string_to_sign(params: Mapping[str, str], lower_sort: bool = False, java: bool = False) -> str:
    items = [(k, v) for k, v in params.items() if k.lower() != "signature"]
    items.sort(key=(lambda kv: kv[0].lower()) if lower_sort else (lambda kv: kv[0]))
    return "&".join(f"{k}={_encode(v, java)}" for k, v in items).lower()


def signature(params: Mapping[str, str], secret: str, lower_sort: bool = False, java: bool = False) -> str:
    digest = hmac.new(secret.encode(), string_to_sign(params, lower_sort, java).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def sign(params: dict[str, str], secret: str) -> dict[str, str]:
    """Add ``signature`` to ``params`` exactly as the ``cs`` client does (for tests and tools)."""
    params.pop("signature", None)
    params["signature"] = signature(params, secret)
    return params


def parse_expires(value: str) -> datetime:
    for fmt in EXPIRES_FORMATS:
        try:
            moment = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return moment.astimezone(UTC)
    raise BadSignature(f"expires {value!r} is not a date like 2024-01-31T12:00:00+0000")


def verify(params: Mapping[str, str], secret: str, now: datetime | None = None) -> None:
    """Raise :class:`BadSignature` unless ``params`` carry a valid, unexpired signature."""
    given = _get(params, "signature")
    if not given:
        raise BadSignature("the request is not signed")
    version = _get(params, "signatureversion")
    if version is not None:
        if version != "3":
            raise BadSignature(f"signatureVersion {version} is not supported")
        expires = _get(params, "expires")
        if not expires:
            raise BadSignature("signatureVersion 3 needs expires")
        if parse_expires(expires) < (now or datetime.now(UTC)):
            raise BadSignature("the request has expired")
    for lower_sort in (False, True):
        for java in (False, True):
            if hmac.compare_digest(signature(params, secret, lower_sort, java), given):
                return
    raise BadSignature("the signature does not match")


def _get(params: Mapping[str, str], name: str) -> str | None:
    for key, value in params.items():
        if key.lower() == name:
            return value
    return None
