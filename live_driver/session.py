"""The only module that imports pypsrp (0.9.x): one WSMan connection and one RunspacePool
per host, opened lazily, reused for every call, reopened after a transport failure.

Calls are structured: ``PowerShell.add_cmdlet``/``add_parameter``/``add_statement`` only
(never ``add_script``, never text built into a script). 64-bit values are tagged ``I64``.
Both ``had_errors`` (a terminating error) and ``streams.error`` (non-terminating ones) are
read. Credentials come from the arguments, the environment
(``HVSNAP_HYPERV_USERNAME``/``HVSNAP_HYPERV_PASSWORD``) or a file (first line the user,
second the password) and are never logged or shown in ``repr``.
"""

from __future__ import annotations

import base64
import copy
import logging
import os
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import requests
from pypsrp.complex_objects import Command, CommandParameter, GenericComplexObject, ObjectMeta
from pypsrp.exceptions import AuthenticationError, WinRMError, WinRMTransportError, WSManFaultError
from pypsrp.messages import CreatePipeline
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.serializer import Serializer, TaggedValue
from pypsrp.wsman import WSMan

from live_driver import clixml
from live_driver.wire import Int64, Invocation, PSObj, Switch, Value

log = logging.getLogger(__name__)

USER_ENV = "HVSNAP_HYPERV_USERNAME"
PASSWORD_ENV = "HVSNAP_HYPERV_PASSWORD"
AUTHS = ("negotiate", "kerberos", "ntlm", "credssp", "basic")


class TransportFailure(Exception):
    """The host could not be reached or refused us; ``sent`` says the call may have run."""

    def __init__(self, message: str, sent: bool, timed_out: bool = False, auth: bool = False) -> None:
        super().__init__(message)
        self.sent, self.timed_out, self.auth = sent, timed_out, auth


@dataclass(frozen=True)
class ErrorInfo:
    fq_error: str
    category: int
    message: str
    target: str | None


@dataclass(frozen=True)
class Result:
    output: list[Any]
    errors: list[ErrorInfo]
    failed: bool


def credentials(
    username: str | None, password: str | None, credentials_file: str | Path | None
) -> tuple[str | None, str | None]:
    if credentials_file is not None:
        lines = Path(credentials_file).read_text().splitlines()
        username = username or (lines[0].strip() if lines else None)
        password = password or (lines[1] if len(lines) > 1 else None)
    return username or os.environ.get(USER_ENV), password or os.environ.get(PASSWORD_ENV)


def _value(value: Value) -> Any:
    if isinstance(value, Int64):
        return TaggedValue("I64", value.value)
    if isinstance(value, Switch):
        return True
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, uuid.UUID | str | bool | int):
        return value
    raise TypeError(f"cannot send {type(value).__name__} as a parameter")


def plain(value: Any, depth: int = 0) -> Any:
    """A received value as plain Python: enums by name, lists as lists, nested objects as
    their text (remoting serialises at depth 1)."""
    if isinstance(value, list):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, GenericComplexObject):
        if value.property_sets and isinstance(value.property_sets[0], list) and not value.adapted_properties:
            return [plain(v, depth + 1) for v in value.property_sets[0]]
        if depth == 0 and (value.adapted_properties or value.extended_properties):
            return to_psobj(value)
        return str(value)
    return value


def to_psobj(obj: Any) -> PSObj | Any:
    if not isinstance(obj, GenericComplexObject):
        return obj
    props = {k: plain(v, 1) for k, v in {**obj.adapted_properties, **obj.extended_properties}.items()}
    return PSObj(tuple(obj.types), props, str(obj))


WINRM_HTTP_PORT, WINRM_HTTPS_PORT = 5985, 5986  # WinRM's default listeners (winrm quickconfig)


def address(host: str, port: int | None = None, ssl: bool | None = None) -> tuple[str, int, bool]:
    """(host, port, TLS) from ``host`` (or ``host:port``), ``port`` and ``ssl``. ``ssl``
    None follows the port: 5985 is WinRM's HTTP listener, so it means plain HTTP (NTLM and
    Kerberos still encrypt every message); any other port, or none (then 5986), HTTPS."""
    if (embedded := re.fullmatch(r"([^:\[\]]+):(\d+)", host)) is not None:
        host, port = embedded.group(1), int(embedded.group(2))
    if ssl is None:
        ssl = port != WINRM_HTTP_PORT
    return host, port or (WINRM_HTTPS_PORT if ssl else WINRM_HTTP_PORT), ssl


class Session:
    """A host's WinRM connection and runspace pool. Thread-safe: calls are serialised."""

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        auth: str = "negotiate",
        ssl: bool | None = None,
        cert_validation: bool | str = True,
        username: str | None = None,
        password: str | None = None,
        credentials_file: str | Path | None = None,
        configuration_name: str = "Microsoft.PowerShell",
        connection_timeout: float = 10,
        operation_timeout: int = 20,
        read_timeout: int = 30,
        retries: int = 2,
        encryption: str = "auto",
        spn_host: str | None = None,
    ) -> None:
        if auth not in AUTHS:
            raise ValueError(f"auth must be one of {', '.join(AUTHS)}")
        host, port, ssl = address(host, port, ssl)
        self.host, self.port, self.auth, self.ssl = host, port, auth, ssl
        self.cert_validation = cert_validation
        self.configuration_name = configuration_name
        self.timeouts = (connection_timeout, operation_timeout, read_timeout)
        self.retries = retries
        self.encryption = encryption
        self.spn_host = spn_host  # Kerberos asks for host/<spn_host> (default: ``host``)
        self.username, self.__password = credentials(username, password, credentials_file)
        self._lock = threading.Lock()
        self._pool: RunspacePool | None = None
        self.opened = 0  # pools opened, for tests and the benchmark

    def __repr__(self) -> str:
        return f"Session({self.host}:{self.port}, auth={self.auth}, ssl={self.ssl}, user={self.username!r})"

    # ------------------------------------------------------------------ pool

    def _open(self) -> RunspacePool:
        connection_timeout, operation_timeout, read_timeout = self.timeouts
        wsman = WSMan(
            self.host,
            port=self.port,
            username=self.username,
            password=self.__password,
            ssl=self.ssl,
            auth=self.auth,
            cert_validation=self.cert_validation,  # type: ignore[arg-type]  # a CA bundle path works too
            encryption="never" if self.auth == "basic" and not self.ssl else self.encryption,
            connection_timeout=int(connection_timeout),
            operation_timeout=operation_timeout,
            read_timeout=read_timeout,
            no_proxy=self.host in ("127.0.0.1", "localhost", "::1"),
            negotiate_hostname_override=self.spn_host,
        )
        pool = RunspacePool(wsman, configuration_name=self.configuration_name)
        lean_serializer(pool)
        pool.open()
        # pypsrp applied the environment's proxy and CA settings when it built the
        # requests session (during open); left on, requests re-reads os.environ on every
        # send, several times per call
        wsman.transport.session.trust_env = False  # type: ignore[union-attr]
        self.opened += 1
        log.info("opened a runspace pool on %s:%s (%s)", self.host, self.port, self.auth)
        return pool

    def pool(self) -> RunspacePool:
        with self._lock:
            return self._ensure()

    def _ensure(self) -> RunspacePool:
        if self._pool is None:
            try:
                self._pool = self._open()
            except Exception as exc:
                raise _failure(exc, sent=False) from exc
        return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.close()
            except Exception as exc:  # closing a dead pool is not an error worth raising
                log.debug("closing the runspace pool failed: %s", type(exc).__name__)

    # ------------------------------------------------------------------ calls

    def run(self, invocation: Invocation) -> Result:
        """Run one pipeline; retries transport failures of read-only ones (and of any
        call that provably never reached the host)."""
        attempt = 0
        while True:
            try:
                with self._lock:
                    return self._run(self._ensure(), invocation)
            except TransportFailure as failure:
                self._drop()
                attempt += 1
                if failure.auth or attempt > self.retries or (failure.sent and not invocation.readonly):
                    raise
                log.warning("transport failure talking to %s, retrying (%d)", self.host, attempt)
                time.sleep(0.2 * attempt)

    def _drop(self) -> None:
        with self._lock:
            self._pool = None

    def _run(self, pool: RunspacePool, invocation: Invocation) -> Result:
        ps = pipeline(pool, invocation)
        try:
            output = ps.invoke()
        except Exception as exc:
            raise _failure(exc, sent=True) from exc
        errors = [_error(e) for e in ps.streams.error]
        return Result([to_psobj(o) for o in output], errors, bool(ps.had_errors))


def pipeline(pool: RunspacePool, invocation: Invocation) -> PowerShell:
    """The invocation as a pypsrp ``PowerShell``: structured cmdlets and parameters only."""
    ps = PowerShell(pool)
    for i, statement in enumerate(invocation.statements):
        if i:
            ps.add_statement()
        for cmdlet in statement:
            ps.add_cmdlet(cmdlet.name)
            for name, value in cmdlet.params:
                ps.add_parameter(name, _value(value))
            lean(ps.commands[-1])
    return ps


_V3_MERGES = ("merge_error", "merge_warning", "merge_verbose", "merge_debug", "merge_information")


def lean(command: Command) -> Command:
    """Trim a pypsrp ``Command`` to what a host needs, and give it a cheap deep copy.

    - The V3 merge instructions (MergeError … MergeInformation) are left out: absent,
      a host reads them as "no merge" (PowerShell's ``Command.FromPSObjectForRemoting``
      checks for them, V2 clients never send them), which is what pypsrp would send.
      They were over half of each command's CLIXML, on both sides of the wire.
    - pypsrp deep-copies every command each time it serialises a pipeline (the first
      statement twice) so that each parameter's ``V`` metadata, which serialisation
      mutates, starts fresh. Copying the whole object graph was a third of the client's
      time per cmdlet; fresh ``CommandParameter`` s on a shallow copy give the same wire
      bytes (tests/live_driver/test_session.py compares them).
    """
    for merge in _V3_MERGES:
        setattr(command, merge, None)

    def fresh(memo: dict[int, Any]) -> Command:
        new = copy.copy(command)
        new.args = [CommandParameter(name=a.name, value=a.value) for a in command.args]
        return new

    command.__deepcopy__ = fresh  # type: ignore[attr-defined]
    return command


def lean_serializer(pool: RunspacePool) -> RunspacePool:
    """Give ``pool`` a :class:`LeanSerializer` (before it opens: every message goes through it)."""
    serializer = LeanSerializer()
    serializer.cipher = pool._serializer.cipher
    pool._serializer = serializer
    pool._fragmenter.serializer = serializer
    return pool


_WRITERS: dict[str, Any] = {
    "S": lambda s, d: s._serialize_string(d),
    "URI": lambda s, d: s._serialize_string(d),
    "XD": lambda s, d: s._serialize_string(d),
    "SBK": lambda s, d: s._serialize_string(d),
    "C": lambda s, d: str(ord(d)),
    "B": lambda s, d: str(d).lower(),
    "BA": lambda s, d: base64.b64encode(d).decode(),
    **dict.fromkeys(
        ("TS", "By", "SB", "U16", "I16", "U32", "I32", "U64", "I64", "Sg", "Db", "D", "G", "Version"),
        lambda s, d: str(d),
    ),
}
_BUILDERS: dict[str, Any] = {  # complex values: pypsrp's own methods, looked up without the closure table
    "Obj": Serializer._serialize_obj,
    "ObjDynamic": Serializer._serialize_dynamic_obj,
    "LST": Serializer._serialize_lst,
    "IE": Serializer._serialize_ie,
    "QUE": Serializer._serialize_que,
    "STK": Serializer._serialize_stk,
    "DCT": Serializer._serialize_dct,
    "SS": lambda s, m, d: s._serialize_secure_string(d),
}


def _string(serializer: Serializer, element: ET.Element) -> str:
    """pypsrp's string reading, without its regex over the UTF-16 encoding when the text
    holds no ``_xHHHH_`` escape (almost every string a host returns)."""
    text = element.text
    if text is None:
        return ""
    return text if "_x" not in text else serializer._deserialize_string(text)


_READERS: dict[str, Any] = {
    **dict.fromkeys(("S", "ToString", "URI", "XD", "SBK"), _string),
    "C": lambda s, d: chr(int(d.text)),
    "B": lambda s, d: d.text.lower() == "true",
    "DT": lambda s, d: d.text,
    "TS": lambda s, d: d.text,
    "D": lambda s, d: d.text,
    "Version": lambda s, d: d.text,
    **dict.fromkeys(("By", "SB", "U16", "I16", "U32", "I32", "U64", "I64"), lambda s, d: int(d.text)),
    "Sg": lambda s, d: float(d.text),
    "Db": lambda s, d: float(d.text),
    "BA": lambda s, d: base64.b64decode(d.text),
    "G": lambda s, d: uuid.UUID(d.text),
    "Nil": lambda s, d: None,
    "SS": lambda s, d: s._deserialize_secure_string(d),
    "Ref": lambda s, d: s.obj[d.attrib["RefId"]],
}


class LeanSerializer(Serializer):
    """pypsrp's serializer with the same output, minus its per-value overhead on
    primitives (most of the values in a pipeline and in the objects a host returns):

    - ``serialize`` built a table of 30 closures for every value it wrote (objects too);
    - ``deserialize`` rendered every element back to XML text (``ET.tostring``) before
      looking at its tag, for the unknown-type fallback and ``ComplexObject._xml``;
      a primitive needs neither; and it decoded every string's escapes through a regex
      over its UTF-16 bytes, which a string without ``_x`` does not need.

    Complex values are still built by pypsrp's own methods and read by its own code;
    tests/live_driver/test_session.py holds both directions to pypsrp's bytes and values.
    """

    def serialize(  # type: ignore[override]  # a message's CLIXML as bytes, which pypsrp's pack sends as they are
        self,
        value: Any,
        metadata: ObjectMeta | None = None,
        parent: ET.Element | None = None,
        clear: bool = True,
    ) -> ET.Element | bytes | None:
        if isinstance(value, CreatePipeline) and parent is None and (text := clixml.create_pipeline(value)):
            return text
        if isinstance(value, ET.Element):
            return super().serialize(value, metadata, parent, clear)
        if clear:
            self._clear()
        metadata = metadata or ObjectMeta()
        if metadata.tag == "*":  # resolved in place, as pypsrp does (its metadata is reused)
            if isinstance(value, TaggedValue):
                metadata.tag, value = value.tag, value.value
            else:
                metadata.tag = self._get_tag_from_value(value)
        writer = _WRITERS.get(metadata.tag)
        builder = _BUILDERS.get(metadata.tag) if writer is None else None
        if writer is None and builder is None:  # "DT", "ToString": as pypsrp has them
            return super().serialize(value, metadata, parent, clear=False)
        if value is None:
            if metadata.optional:
                return None
            element = ET.Element("Nil")
        elif writer is not None:
            element = ET.Element(metadata.tag)
            element.text = writer(self, value)
        else:
            element = _BUILDERS[metadata.tag](self, metadata, value)
        if metadata.name is not None:
            element.attrib["N"] = metadata.name
        if parent is not None:
            parent.append(element)
        return element

    def deserialize(self, element: ET.Element | str, metadata: ObjectMeta | None = None, clear: bool = True) -> Any:
        if isinstance(element, str):  # a message's text: PIPELINE_OUTPUT gives each object so
            if metadata is not None or not element.startswith("<Obj "):
                return super().deserialize(element, metadata, clear)
            try:
                parsed = ET.fromstring(element)
            except ET.ParseError:
                return super().deserialize(element, metadata, clear)
            return self._object(parsed, element, clear)
        if (reader := _READERS.get(element.tag)) is not None:
            if clear:
                self._clear()
            if metadata is not None and metadata.tag == "*":
                metadata.tag = element.tag
            return reader(self, element)
        if element.tag == "Obj" and metadata is None:
            return self._object(element, None, clear)
        return super().deserialize(element, metadata, clear)

    def _object(self, element: ET.Element, text: str | None, clear: bool) -> Any:
        """An ``<Obj>`` pypsrp reads as a ``GenericComplexObject`` (its types name no class
        of pypsrp's), read as its ``_deserialize_dynamic_obj`` reads it, the object's XML
        text rendered only if asked for; any other object is pypsrp's to read."""
        if clear:
            self._clear()
        types: list[str] = []
        for entry in element:
            if entry.tag == "TN":
                types = [t.text or "" for t in entry]
                break
            if entry.tag == "TNRef":
                types = self.tn[entry.attrib["RefId"]]
                break
        if not generic(tuple(types)):
            return super().deserialize(text if text is not None else element, None, False)
        obj = LazyXmlObject(element, text)
        self.obj[element.attrib["RefId"]] = obj
        for entry in element:
            tag = entry.tag
            if tag == "TN":
                obj.types.extend(t.text or "" for t in entry)
                self.tn[entry.attrib["RefId"]] = obj.types
            elif tag == "TNRef":
                obj.types = self.tn[entry.attrib["RefId"]]
            elif tag == "Props":
                for prop in entry:
                    obj.adapted_properties[prop.attrib["N"]] = self.deserialize(prop, clear=False)
            elif tag == "MS":
                for prop in entry:
                    obj.extended_properties[prop.attrib["N"]] = self.deserialize(prop, clear=False)
            elif tag == "ToString":
                obj.to_string = self.deserialize(entry, clear=False)
            else:
                obj.property_sets.append(self.deserialize(entry, clear=False))
        return obj


class LazyXmlObject(GenericComplexObject):
    """A ``GenericComplexObject`` whose ``_xml`` (pypsrp keeps every read object's XML
    text; rendering it was most of the reading) is rendered when it is first read."""

    def __init__(self, element: ET.Element, text: str | None) -> None:
        self._element, self._text = element, text
        super().__init__()

    @property
    def _xml(self) -> str | None:
        if self._text is None and self._element is not None:
            self._text = ET.tostring(self._element, encoding="utf-8", method="xml").decode()
        return self._text

    @_xml.setter
    def _xml(self, value: str | None) -> None:
        if value is not None:
            self._text = value


_GENERIC: dict[tuple[str, ...], bool] = {}


def generic(types: tuple[str, ...]) -> bool:
    """Whether pypsrp reads an object of these type names as a ``GenericComplexObject``:
    asked of pypsrp once per list of names (a stub object of those names)."""
    known = _GENERIC.get(types)
    if known is None:
        names = "".join(f"<T>{escape(t)}</T>" for t in types)
        stub = f'<Obj RefId="0"><TN RefId="0">{names}</TN></Obj>' if types else '<Obj RefId="0" />'
        known = type(Serializer().deserialize(stub)) is GenericComplexObject
        if len(_GENERIC) < 1024:
            _GENERIC[types] = known
    return known


def _error(record: Any) -> ErrorInfo:
    message = str(record) or str(getattr(record, "message", "") or "")
    return ErrorInfo(
        str(getattr(record, "fq_error", "") or ""),
        int(getattr(record, "category", 0) or 0),
        message,
        getattr(record, "target_name", None),
    )


def _failure(exc: Exception, sent: bool) -> TransportFailure:
    if isinstance(exc, TransportFailure):
        return exc
    if isinstance(exc, AuthenticationError):
        return TransportFailure(f"authentication failed: {type(exc).__name__}", sent=False, auth=True)
    if type(exc).__module__.partition(".")[0] in ("spnego", "krb5", "gssapi", "requests_credssp"):  # auth stack
        # the client's own Kerberos/NTLM step failed (no ticket for that SPN, wrong password):
        # the library's reason names principals, never the password
        return TransportFailure(f"authentication failed: {type(exc).__name__}: {exc}", sent=False, auth=True)
    if isinstance(exc, requests.Timeout):
        return TransportFailure(f"timed out: {type(exc).__name__}", sent, timed_out=True)
    if isinstance(exc, requests.ConnectionError):
        # a refused connection never carried the call
        refused = "refused" in str(exc).lower() or isinstance(exc, requests.exceptions.ConnectTimeout)
        return TransportFailure(f"connection failed: {type(exc).__name__}", sent and not refused)
    if isinstance(exc, WSManFaultError):
        return TransportFailure(f"WSMan fault {exc.code}: {exc.reason}", sent)
    if isinstance(exc, WinRMTransportError | WinRMError | requests.RequestException | OSError):
        return TransportFailure(f"transport error: {type(exc).__name__}: {exc}", sent)
    raise exc
