"""WS-Management over HTTP(S): SOAP envelopes with ElementTree, NTLM/Negotiate with WinRM
message encryption (pyspnego's server side), Basic, optional TLS with channel binding.

Only what a PowerShell Remoting client needs is served: Create, Command, Send, Receive,
Signal and Delete on the ``Microsoft.PowerShell`` resource (``reference/psrp.md`` §3).
Every reply echoes the request's MessageID; any internal error becomes a WSMan fault
(HTTP 500) rather than a dropped socket. Headers and body go out in one write on a
TCP_NODELAY socket (the Nagle/delayed-ACK trap costs ~40 ms per request otherwise).
"""

from __future__ import annotations

import base64
import http.server
import logging
import re
import socket
import struct
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import spnego

from simulator.psrp_endpoint.shells import Shell

log = logging.getLogger(__name__)

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "wst": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "wsmanfault": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "pwsh": "http://schemas.microsoft.com/powershell",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

ACTION = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "delete",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command": "command",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send": "send",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive": "receive",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal": "signal",
}
TIMED_OUT = 2150858793
INVALID_SELECTORS = 2150858843
UNSUPPORTED = 2150858771
BOUNDARY = b"--Encrypted Boundary"
PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
CREDSSP_PROTOCOL = "application/HTTP-CredSSP-session-encrypted"
CREDSSP_CHUNK = 16384  # CredSSP seals at most this much plaintext per MIME part (MS-WSMV 2.2.9.1.2)
#: Authorization scheme -> the pyspnego acceptor protocol behind it
SCHEMES = {"negotiate": "negotiate", "ntlm": "negotiate", "kerberos": "negotiate", "credssp": "credssp"}
_RSP = "{{{}}}".format(NS["rsp"])


class Fault(Exception):
    def __init__(self, code: int, reason: str, subcode: str = "w:InternalError") -> None:
        super().__init__(reason)
        self.code, self.reason, self.subcode = code, reason, subcode


def q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


@dataclass
class Request:
    action: str
    message_id: str
    max_envelope: int
    timeout: float
    shell_id: str | None
    body: ET.Element

    @staticmethod
    def parse(xml: bytes) -> Request:
        env = ET.fromstring(xml)
        head = env.find("s:Header", NS)
        body = env.find("s:Body", NS)
        if head is None or body is None:
            raise Fault(UNSUPPORTED, "Not a SOAP envelope")

        def text(path: str, default: str = "") -> str:
            el = head.find(path, NS)
            return el.text or default if el is not None else default

        selector = head.find("wsman:SelectorSet/wsman:Selector[@Name='ShellId']", NS)
        timeout = text("wsman:OperationTimeout", "PT20S")
        seconds = float(re.sub(r"[^0-9.]", "", timeout) or 20)
        return Request(
            action=text("wsa:Action"),
            message_id=text("wsa:MessageID"),
            max_envelope=int(text("wsman:MaxEnvelopeSize", "153600")),
            timeout=seconds,
            shell_id=selector.text if selector is not None else None,
            body=body,
        )


def envelope(req: Request, action: str, body_child: ET.Element | None) -> bytes:
    env = ET.Element(q("s", "Envelope"))
    head = ET.SubElement(env, q("s", "Header"))
    ET.SubElement(head, q("wsa", "Action")).text = action
    ET.SubElement(head, q("wsa", "MessageID")).text = f"uuid:{uuid.uuid4()}"
    ET.SubElement(head, q("wsa", "RelatesTo")).text = req.message_id
    ET.SubElement(head, q("wsa", "To")).text = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
    body = ET.SubElement(env, q("s", "Body"))
    if body_child is not None:
        body.append(body_child)
    return ET.tostring(env, encoding="utf-8", xml_declaration=False)


def fault_envelope(message_id: str, fault: Fault) -> bytes:
    env = ET.Element(q("s", "Envelope"))
    head = ET.SubElement(env, q("s", "Header"))
    ET.SubElement(head, q("wsa", "Action")).text = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
    ET.SubElement(head, q("wsa", "RelatesTo")).text = message_id
    f = ET.SubElement(ET.SubElement(env, q("s", "Body")), q("s", "Fault"))
    code = ET.SubElement(f, q("s", "Code"))
    ET.SubElement(code, q("s", "Value")).text = "s:Receiver"
    ET.SubElement(ET.SubElement(code, q("s", "Subcode")), q("s", "Value")).text = fault.subcode
    ET.SubElement(ET.SubElement(f, q("s", "Reason")), q("s", "Text")).text = fault.reason
    detail = ET.SubElement(ET.SubElement(f, q("s", "Detail")), q("wsmanfault", "WSManFault"))
    detail.set("Code", str(fault.code))
    detail.set("Machine", "127.0.0.1")
    ET.SubElement(detail, q("wsmanfault", "Message")).text = fault.reason
    return ET.tostring(env, encoding="utf-8")


# --------------------------------------------------------------------------- encryption framing


def unwrap(ctx: Any, body: bytes) -> bytes:
    """MS-WSMV 2.2.9.1 multipart/encrypted body -> SOAP bytes."""
    out = b""
    parts = [p for p in re.split(re.escape(BOUNDARY) + rb"(?:--)?\r\n", body) if p]
    for i in range(0, len(parts) - 1, 2):
        length = int(re.search(rb"Length=(\d+)", parts[i]).group(1))  # type: ignore[union-attr]
        data = parts[i + 1].replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        hlen = struct.unpack("<i", data[:4])[0]
        plain = ctx.unwrap_winrm(data[4 : 4 + hlen], data[4 + hlen :])
        if len(plain) != length:
            raise Fault(UNSUPPORTED, "encrypted length mismatch")
        out += plain
    return out


def wrap(ctx: Any, message: bytes, protocol: str = PROTOCOL) -> tuple[str, bytes]:
    """SOAP bytes -> a multipart/encrypted body; CredSSP seals 16 KiB per part
    (``multipart/x-multi-encrypted`` when there are several)."""
    if protocol == CREDSSP_PROTOCOL and len(message) > CREDSSP_CHUNK:
        chunks = [message[at : at + CREDSSP_CHUNK] for at in range(0, len(message), CREDSSP_CHUNK)]
    else:
        chunks = [message]
    body = b""
    for chunk in chunks:
        res = ctx.wrap_winrm(chunk)
        head = b"\r\n".join(
            [
                BOUNDARY,
                f"\tContent-Type: {protocol}".encode(),
                b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d"
                % (len(chunk) + res.padding_length),
                BOUNDARY,
                b"\tContent-Type: application/octet-stream",
                b"",
            ]
        )
        body += head + struct.pack("<i", len(res.header)) + res.header + res.data
    kind = "multipart/x-multi-encrypted" if len(chunks) > 1 else "multipart/encrypted"
    return f'{kind};protocol="{protocol}";boundary="Encrypted Boundary"', body + BOUNDARY + b"--\r\n"


# --------------------------------------------------------------------------- the service


@dataclass
class Service:
    """The WSMan resource: shells by id, their PSRP state, and request dispatch."""

    make_shell: Any  # (shell_id) -> Shell
    shells: dict[str, Shell] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    timed_out: int = 0  # Receives answered with the TimedOut fault (nothing yet)
    authenticated: list[str] = field(default_factory=list)  # "ntlm" / "kerberos" / "credssp", per handshake

    def handle(self, raw: bytes) -> tuple[int, bytes]:
        message_id = ""
        try:
            req = Request.parse(raw)
            message_id = req.message_id
            verb = ACTION.get(req.action)
            if verb is None:
                raise Fault(UNSUPPORTED, f"The action {req.action} is not supported by this emulated host")
            reply: bytes = getattr(self, verb)(req)
            return 200, reply
        except Fault as fault:
            return 500, fault_envelope(message_id, fault)
        except Exception as exc:  # a fault, never a dropped socket
            log.exception("emulated host failed a request")
            return 500, fault_envelope(message_id, Fault(UNSUPPORTED, f"Internal error: {exc}"))

    def _shell(self, req: Request) -> Shell:
        with self.lock:
            shell = self.shells.get((req.shell_id or "").upper())
        if shell is None:
            raise Fault(
                INVALID_SELECTORS, "The request for the Windows Remote Shell with ShellId failed", "w:InvalidSelectors"
            )
        return shell

    @staticmethod
    def _amount(req: Request) -> int:
        return max(1024, int((req.max_envelope - 2048) / 4 * 3))

    def create(self, req: Request) -> bytes:
        shell_el = req.body.find("rsp:Shell", NS)
        creation = req.body.find(".//pwsh:creationXml", NS)
        if shell_el is None or creation is None:
            raise Fault(UNSUPPORTED, "Create needs a PowerShell shell with creationXml")
        shell_id = (shell_el.get("ShellId") or str(uuid.uuid4())).upper()
        shell = self.make_shell(shell_id)
        with self.lock:
            self.shells[shell_id] = shell
        shell.feed(base64.b64decode(creation.text or ""), None)
        resp = ET.Element(q("rsp", "Shell"))
        ET.SubElement(resp, q("rsp", "ShellId")).text = shell_id
        ET.SubElement(
            resp, q("rsp", "ResourceUri")
        ).text = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
        created = ET.Element(q("wst", "ResourceCreated"))
        ET.SubElement(created, q("wsa", "Address")).text = "http://127.0.0.1/wsman"
        ref = ET.SubElement(created, q("wsa", "ReferenceParameters"))
        ET.SubElement(
            ref, q("wsman", "ResourceURI")
        ).text = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
        sel = ET.SubElement(ET.SubElement(ref, q("wsman", "SelectorSet")), q("wsman", "Selector"), Name="ShellId")
        sel.text = shell_id
        body = envelope(req, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", created)
        # the Shell element follows ResourceCreated in the body
        return body.replace(b"</s:Body>", ET.tostring(resp) + b"</s:Body>")

    def command(self, req: Request) -> bytes:
        shell = self._shell(req)
        line = req.body.find("rsp:CommandLine", NS)
        if line is None:
            raise Fault(UNSUPPORTED, "Command needs a CommandLine")
        command_id = uuid.UUID(line.get("CommandId") or str(uuid.uuid4()))
        args = line.find("rsp:Arguments", NS)
        shell.feed(base64.b64decode(args.text or "") if args is not None else b"", command_id)
        resp = ET.Element(q("rsp", "CommandResponse"))
        ET.SubElement(resp, q("rsp", "CommandId")).text = str(command_id).upper()
        return envelope(req, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse", resp)

    def send(self, req: Request) -> bytes:
        shell = self._shell(req)
        for stream in req.body.findall("rsp:Send/rsp:Stream", NS):
            cid = stream.get("CommandId")
            shell.feed(base64.b64decode(stream.text or ""), uuid.UUID(cid) if cid else None, stream.get("Name") == "pr")
        return envelope(
            req,
            "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse",
            ET.Element(q("rsp", "SendResponse")),
        )

    def receive(self, req: Request) -> bytes:
        shell = self._shell(req)
        desired = req.body.find("rsp:Receive/rsp:DesiredStream", NS)
        cid_text = desired.get("CommandId") if desired is not None else None
        command_id = uuid.UUID(cid_text) if cid_text else None
        with shell.lock:
            # a running pipeline is waited for until just before the client's OperationTimeout
            shell.wait(command_id, self._amount(req), max(0.0, req.timeout - 0.25))
            chunks, done = shell.take(command_id, self._amount(req))
            if done:
                shell.signal(command_id)  # a finished command is gone, as on a real host
        if not chunks and not done:
            self.timed_out += 1
            raise Fault(
                TIMED_OUT,
                "The WS-Management service cannot complete the operation within the OperationTimeout.",
                "w:TimedOut",
            )
        resp = ET.Element(q("rsp", "ReceiveResponse"))
        for chunk in chunks:
            el = ET.SubElement(resp, q("rsp", "Stream"), Name="stdout")
            if cid_text:
                el.set("CommandId", cid_text.upper())
            el.text = base64.b64encode(chunk).decode()
        if cid_text:
            state = "Done" if done else "Running"
            cs = ET.SubElement(resp, q("rsp", "CommandState"), CommandId=cid_text.upper())
            cs.set("State", f"http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/{state}")
            if done:
                ET.SubElement(cs, q("rsp", "ExitCode")).text = "0"
        return envelope(req, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse", resp)

    def signal(self, req: Request) -> bytes:
        shell = self._shell(req)
        sig = req.body.find("rsp:Signal", NS)
        cid = sig.get("CommandId") if sig is not None else None
        with shell.lock:
            shell.signal(uuid.UUID(cid) if cid else None)
        return envelope(
            req,
            "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse",
            ET.Element(q("rsp", "SignalResponse")),
        )

    def delete(self, req: Request) -> bytes:
        with self.lock:
            self.shells.pop((req.shell_id or "").upper(), None)
        return envelope(req, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", None)


# --------------------------------------------------------------------------- HTTP and auth


class Handler(http.server.BaseHTTPRequestHandler):
    """One TCP connection. It carries the NTLM context, so keep-alive is required."""

    protocol_version = "HTTP/1.1"
    server: Any

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.ctx: Any = None

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _reply(self, status: int, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()) -> None:
        reason = {200: "OK", 401: "Unauthorized", 500: "Internal Server Error"}.get(status, "")
        lines = [f"HTTP/1.1 {status} {reason}", "Server: Microsoft-HTTPAPI/2.0", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        self.wfile.flush()

    def _challenge(self) -> None:
        opts = self.server.options
        offers = [("WWW-Authenticate", "Negotiate")] if opts.ntlm else []
        if opts.credssp:
            offers.append(("WWW-Authenticate", "CredSSP"))
        if opts.basic and not offers:
            offers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        self.ctx = None
        self._reply(401, headers=offers)

    def _delegated_user_is(self, username: str) -> bool:
        """CredSSP hands the host the user's credentials: they must be the user's."""
        delegated = getattr(self.ctx, "_ts_credential", None)  # pyspnego keeps them there
        creds = getattr(delegated, "credentials", None)
        return str(getattr(creds, "username", "")).rpartition("\\")[2] == username

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        opts = self.server.options
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "basic" and opts.basic:
            user, _, password = base64.b64decode(token).decode().partition(":")
            if (user.rpartition("\\")[2], password) != (opts.username, opts.password):
                return self._challenge()
            self.ctx = None
        elif (protocol := SCHEMES.get(scheme.lower())) and (opts.credssp if protocol == "credssp" else opts.ntlm):
            try:
                if self.ctx is None or self.ctx.complete:
                    self.ctx = spnego.server(protocol=protocol, channel_bindings=opts.channel_bindings)
                out = self.ctx.step(base64.b64decode(token))
            except Exception:
                log.info("emulated host refused an authentication attempt")
                return self._challenge()
            answer = "CredSSP" if protocol == "credssp" else "Negotiate"
            header = [("WWW-Authenticate", f"{answer} {base64.b64encode(out).decode()}")] if out else []
            if not self.ctx.complete:
                if protocol == "credssp" and out is None:  # the acceptor gave up (bad inner auth)
                    return self._challenge()
                return self._reply(401, headers=header)
            if protocol == "credssp" and not self._delegated_user_is(opts.username):
                return self._challenge()
            done = "credssp" if protocol == "credssp" else self.ctx.negotiated_protocol
            self.server.service.authenticated.append(done)
            if not body:
                return self._reply(200, headers=header)
        elif self.ctx is None or not self.ctx.complete:
            return self._challenge()
        content_type = self.headers.get("Content-Type", "")
        encrypted = content_type.startswith(("multipart/encrypted", "multipart/x-multi-encrypted"))
        sealing = CREDSSP_PROTOCOL if CREDSSP_PROTOCOL in content_type else PROTOCOL
        if encrypted:
            body = unwrap(self.ctx, body)
        elif not opts.allow_unencrypted and self.server.tls is None:
            return self._reply(500, fault_envelope("", Fault(UNSUPPORTED, "Unencrypted traffic is refused")))
        status, reply = self.server.service.handle(body)
        if encrypted:
            ctype, reply = wrap(self.ctx, reply, sealing)
            return self._reply(status, reply, [("Content-Type", ctype)])
        self._reply(status, reply, [("Content-Type", "application/soap+xml;charset=UTF-8")])
