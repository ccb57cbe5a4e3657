"""Kerberos end to end on loopback: a private MIT KDC, the emulated host holding its
service key, and the live driver authenticating as a realm user, with ``kerberos`` and with
``negotiate`` (which must pick Kerberos, not fall back to NTLM), then WinRM message
encryption under the Kerberos session key. Skips where the KDC tools or pyspnego's Kerberos
support are missing; fails instead under ``CI``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DiskSpec,
    HostUnreachable,
    PowerState,
    SnapshotRef,
    VMRef,
)
from live_driver.driver import PowerShellHyperVDriver
from simulator.psrp_endpoint.endpoint import EmulatedHost
from tests.live_driver.kdc import Realm, missing

HOST = "hv01.hvsnap.test"
PASSWORD = "Kerb-S3cret"


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Realm]:
    lacking = missing()
    if lacking:
        message = f"no Kerberos here: {', '.join(lacking)} missing"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    realm = Realm(tmp_path_factory.mktemp("realm"), HOST, "operator", PASSWORD).start()
    saved = {k: os.environ.get(k) for k in (*realm.env, "KRB5_KTNAME", "KRB5CCNAME")}
    os.environ.update(realm.env, KRB5CCNAME=f"MEMORY:hvsnap-{os.getpid()}")
    try:
        yield realm
    finally:
        realm.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def kerberized(realm: Realm) -> Iterator[EmulatedHost]:
    # NTLM stays on for the same user with another password: a Kerberos login cannot pass by NTLM
    with EmulatedHost(username=realm.user, password="not-the-kerberos-one", keytab=realm.keytab) as em:
        yield em


def driver(em: EmulatedHost, realm: Realm, auth: str, **extra: object) -> PowerShellHyperVDriver:
    config = {**em.driver_config(), "auth": auth, "username": realm.principal, "password": PASSWORD}
    return PowerShellHyperVDriver(**{**config, "spn_host": HOST, **extra})  # type: ignore[arg-type]


@pytest.mark.parametrize("auth", ["kerberos", "negotiate"])
def test_the_driver_authenticates_with_kerberos_and_works(kerberized: EmulatedHost, realm: Realm, auth: str) -> None:
    vm = VMRef("i-2-11-VM")
    with driver(kerberized, realm, auth) as d:
        d.execute(DeployVM(vm, 1024, 1, (DiskSpec("vol-root", 2**30),)))
        answer = d.execute(CreateVMSnapshot(vm, SnapshotRef("x'; whoami")))
        d.execute(DeleteVMSnapshot(vm, SnapshotRef("x'; whoami")))
    assert answer.power_state == PowerState.Running
    assert kerberized.authenticated == ["kerberos"]  # one handshake, and it was Kerberos
    assert not kerberized.host.vm(vm.name).checkpoints


def test_a_wrong_password_or_service_name_is_an_authentication_failure(kerberized: EmulatedHost, realm: Realm) -> None:
    deploy = DeployVM(VMRef("i-2-12-VM"), 1024, 1, (DiskSpec("vol-root", 2**30),))
    with driver(kerberized, realm, "kerberos", password="wrong-Kerb") as d:
        with pytest.raises(HostUnreachable, match="authentication failed") as refused:
            d.execute(deploy)
        assert d.session.opened == 0  # not retried: a wrong password stays wrong
    assert "wrong-Kerb" not in str(refused.value)
    # no key for that host in the realm: the KDC issues no ticket
    other = driver(kerberized, realm, "kerberos", spn_host="other.hvsnap.test")
    with other, pytest.raises(HostUnreachable, match=r"authentication failed.*other\.hvsnap\.test"):
        other.execute(deploy)
    assert kerberized.authenticated == []
    assert "i-2-12-VM" not in kerberized.host.vms


def test_host_check_passes_over_kerberos(kerberized: EmulatedHost, realm: Realm) -> None:
    from live_driver.check import run_checks

    checks = run_checks(
        "127.0.0.1",
        port=kerberized.port,
        auth="kerberos",
        ssl=False,
        username=realm.principal,
        password=PASSWORD,
        spn_host=HOST,
        retries=0,
    )
    assert [(c.name, c.ok) for c in checks] == [
        ("connectivity", True),
        ("authentication", True),
        ("hyper-v module", True),
        ("permissions", True),
        ("cmdlets", True),
    ]


def test_the_keytab_is_what_lets_kerberos_in(realm: Realm, tmp_path: Path) -> None:
    # an endpoint without the host's key can only refuse the ticket
    empty = tmp_path / "empty.keytab"
    empty.write_bytes(b"\x05\x02")
    with EmulatedHost(username=realm.user, password="x", keytab=empty) as em:
        with driver(em, realm, "kerberos") as d, pytest.raises(HostUnreachable, match="authentication failed"):
            d.execute(DeployVM(VMRef("i-2-13-VM"), 1024, 1, (DiskSpec("vol-root", 2**30),)))
        assert em.authenticated == []
