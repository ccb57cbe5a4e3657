"""A private MIT Kerberos realm on 127.0.0.1 for the live driver's Kerberos tests: a KDC
(``krb5kdc``) on an ephemeral port, a user, and the emulated host's service key in a keytab.

Everything lives in one temporary folder and the KDC process; the caller points the process
at the realm with ``KRB5_CONFIG`` (see :attr:`Realm.env`), which the Kerberos libraries read
process-wide.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

REALM = "HVSNAP.TEST"
#: what the realm needs: MIT's KDC tools, and pyspnego's Kerberos support (gssapi, krb5)
TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local")
MODULES = ("gssapi", "krb5")


def missing() -> list[str]:
    """What this machine lacks to run the realm (empty when it can)."""
    return [t for t in TOOLS if shutil.which(t) is None] + [m for m in MODULES if importlib.util.find_spec(m) is None]


class Realm:
    """``HVSNAP.TEST`` with the user ``user``/``password`` and the host ``host/<host_name>``."""

    def __init__(self, folder: Path, host_name: str, user: str, password: str) -> None:
        self.folder, self.host_name, self.user, self.password = folder, host_name, user, password
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.keytab = folder / "host.keytab"
        self.env = {"KRB5_CONFIG": str(folder / "krb5.conf"), "KRB5_KDC_PROFILE": str(folder / "kdc.conf")}
        self._kdc: subprocess.Popen[bytes] | None = None

    @property
    def principal(self) -> str:
        return f"{self.user}@{REALM}"

    def start(self) -> Realm:
        f, port = self.folder, self.port
        (f / "krb5.conf").write_text(
            f"[libdefaults]\n default_realm = {REALM}\n dns_lookup_realm = false\n dns_lookup_kdc = false\n"
            f" rdns = false\n udp_preference_limit = 1\n"
            f"[realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n"
            f"[domain_realm]\n .hvsnap.test = {REALM}\n"
        )
        (f / "kdc.conf").write_text(
            f"[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_listen = {port}\n"
            f"[realms]\n {REALM} = {{\n  database_name = {f}/principal\n  key_stash_file = {f}/stash\n"
            f"  acl_file = {f}/kadm5.acl\n  kdc_listen = {port}\n  kdc_tcp_listen = {port}\n }}\n"
            f"[logging]\n kdc = FILE:{f}/kdc.log\n"
        )
        (f / "kadm5.acl").write_text("")
        self._admin("kdb5_util", "create", "-s", "-r", REALM, "-P", "hvsnap-master-key")
        self._admin("kadmin.local", "-r", REALM, "-q", f"addprinc -pw {self.password} {self.principal}")
        service = f"host/{self.host_name}@{REALM}"
        self._admin("kadmin.local", "-r", REALM, "-q", f"addprinc -randkey {service}")
        self._admin("kadmin.local", "-r", REALM, "-q", f"ktadd -k {self.keytab} {service}")
        env = {**os.environ, **self.env}
        self._kdc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM], env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:  # the KDC listens on TCP too: wait for it
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return self
            except OSError:
                if self._kdc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"krb5kdc did not start: {(f / 'kdc.log').read_text()[-500:]}") from None
                time.sleep(0.05)

    def _admin(self, *argv: str) -> None:
        subprocess.run(argv, env={**os.environ, **self.env}, check=True, capture_output=True)

    def stop(self) -> None:
        if self._kdc is not None:
            self._kdc.terminate()
            self._kdc.wait(timeout=10)
