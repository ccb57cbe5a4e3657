"""The steps' SSH client to the guests (paramiko, as CloudStack's test framework logs in to
a VM): one session per VM, opened on first use and again after the guest cut it (a stop, a
revert). The VM's address comes from the host inventory, the port and login from
``harness.pytest_plugin.GuestAccess``."""

from __future__ import annotations

import shlex
import socket

import paramiko

from harness.pytest_plugin import GuestAccess

TIMEOUT = 10.0


class GuestSessions:
    def __init__(self, access: GuestAccess) -> None:
        self.access = access
        self._clients: dict[str, paramiko.SSHClient] = {}

    def run(self, address: str, command: str) -> tuple[int, str, str]:
        """``(exit status, stdout, stderr)`` of ``command`` in the guest at ``address``."""
        for attempt in (1, 2):
            client = self._client(address, fresh=attempt == 2)
            try:
                _, out, err = client.exec_command(command, timeout=TIMEOUT)
                text, errors = out.read().decode(), err.read().decode()
                return out.channel.recv_exit_status(), text, errors
            except (paramiko.SSHException, EOFError, OSError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def write(self, address: str, name: str, value: str) -> None:
        status, _, err = self.run(address, f"echo {shlex.quote(value)} > {shlex.quote(name)} && sync")
        assert status == 0, f"writing {name} in the guest at {address} failed: {err}"

    def read(self, address: str, name: str) -> str | None:
        status, out, _ = self.run(address, f"cat {shlex.quote(name)}")
        return out.removesuffix("\n") if status == 0 else None

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _client(self, address: str, fresh: bool) -> paramiko.SSHClient:
        client = self._clients.get(address)
        transport = client.get_transport() if client is not None else None
        if client is not None and not fresh and transport is not None and transport.is_active():
            return client
        if client is not None:
            client.close()
        sock = socket.create_connection((address, self.access.port), timeout=TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else Nagle adds ~40 ms a request
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # a fresh guest each scenario
        client.connect(
            address,
            self.access.port,
            sock=sock,
            username=self.access.username,
            password=self.access.password,
            timeout=TIMEOUT,
            look_for_keys=False,
            allow_agent=False,
        )
        self._clients[address] = client
        return client
