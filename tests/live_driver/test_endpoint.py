"""The emulated host at the protocol level, with a bare pypsrp client: it refuses scripts,
positional arguments, unknown parameters and 32-bit sizes; it authenticates with NTLM and
message encryption, or Basic when offered, and turns away a wrong password."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypsrp.exceptions import AuthenticationError, WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.serializer import TaggedValue
from pypsrp.wsman import WSMan

from harness.drivers import DiskSpec, GetInventory, HostUnreachable, VMRef
from live_driver.driver import PowerShellHyperVDriver
from simulator.host import HyperVHost
from simulator.psrp_endpoint.endpoint import EmulatedHost


def pool(em: EmulatedHost, **kw: Any) -> RunspacePool:
    options: dict[str, Any] = {"auth": "ntlm", "username": em.username, "password": em.password}
    options.update(kw)
    wsman = WSMan(em.address, port=em.port, ssl=False, no_proxy=True, operation_timeout=5, read_timeout=10, **options)
    return RunspacePool(wsman)


@pytest.fixture
def rp(endpoint: EmulatedHost) -> Iterator[RunspacePool]:
    endpoint.host.deploy("vm", 512, 1, [DiskSpec("v", 2**30)], True)
    with pool(endpoint) as opened:
        yield opened


def invoke(rp: RunspacePool, build: Any) -> PowerShell:
    ps = PowerShell(rp)
    build(ps)
    ps.invoke()
    return ps


def test_scripts_are_refused(rp: RunspacePool, endpoint: EmulatedHost) -> None:
    ps = invoke(rp, lambda ps: ps.add_script("Remove-VM -Name * -Force"))
    assert ps.had_errors and ps.streams.error[0].fq_error == "ScriptsNotAllowed"
    assert endpoint.host.vms


@pytest.mark.parametrize(
    ("build", "error_id"),
    [
        (lambda ps: ps.add_cmdlet("Get-VM").add_argument("vm"), "PositionalParameterNotFound,Get-VM"),
        (
            lambda ps: ps.add_cmdlet("Stop-VM").add_parameter("Name", "vm").add_parameter("Turn", True),
            "NamedParameterNotFound,Stop-VM",
        ),
        (
            lambda ps: ps.add_cmdlet("Get-VMSnapshot").add_parameter("VMName", 7),
            "ParameterArgumentTransformationError,Get-VMSnapshot",
        ),
        (lambda ps: ps.add_cmdlet("Invoke-Expression").add_parameter("Command", "whoami"), "CommandNotFoundException"),
    ],
    ids=["positional", "prefix-of-a-parameter", "wrong-type", "unknown-cmdlet"],
)
def test_calls_that_bind_differently_are_refused(
    rp: RunspacePool, endpoint: EmulatedHost, build: Any, error_id: str
) -> None:
    ps = invoke(rp, build)
    assert ps.had_errors and ps.streams.error[0].fq_error == error_id
    assert endpoint.host.vm("vm").power_state.value == "Running"


def test_an_int32_overflow_never_reaches_a_cmdlet(rp: RunspacePool, endpoint: EmulatedHost) -> None:
    with pytest.raises(WSManFaultError):  # pypsrp sends a bare int as I32; the host cannot even read it
        invoke(
            rp,
            lambda ps: ps.add_cmdlet("Set-VM").add_parameter("Name", "vm").add_parameter("MemoryStartupBytes", 2**32),
        )
    assert endpoint.host.vm("vm").memory_mib == 512


def test_int64_sizes_and_case_insensitive_names_bind(rp: RunspacePool, endpoint: EmulatedHost) -> None:
    endpoint.host.power_off("vm")
    ps = invoke(
        rp,
        lambda ps: (
            ps.add_cmdlet("set-vm")
            .add_parameter("name", "vm")
            .add_parameter("MemoryStartupBytes", TaggedValue("I64", 8 * 2**30))
            .add_parameter("ErrorAction", "Stop")
        ),
    )
    assert not ps.had_errors and endpoint.host.vm("vm").memory_mib == 8192


def test_non_terminating_errors_land_in_the_error_stream(rp: RunspacePool) -> None:
    ps = invoke(
        rp, lambda ps: ps.add_cmdlet("Get-VM").add_parameter("Name", "nope").add_statement().add_cmdlet("Get-VM")
    )
    assert not ps.had_errors and ps.streams.error[0].fq_error.startswith("ObjectNotFound,")
    assert [o.adapted_properties["Name"] for o in ps.output] == ["vm"]


def test_large_replies_are_chunked_to_the_envelope(endpoint: EmulatedHost) -> None:
    for i in range(400):
        endpoint.host.deploy(f"vm-{i:04d}", 512, 1, [], True)
    with pool(endpoint) as rp:
        ps = invoke(rp, lambda ps: ps.add_cmdlet("Get-VM"))
    assert len(ps.output) == 400


def test_a_wrong_password_is_refused(endpoint: EmulatedHost) -> None:
    with pytest.raises(AuthenticationError):
        pool(endpoint, password="wrong").open()
    config = endpoint.driver_config(password="wrong", retries=0)
    with PowerShellHyperVDriver(**config) as driver, pytest.raises(HostUnreachable, match="authentication"):
        driver.execute(GetInventory(VMRef("*")))


def test_basic_auth_when_offered() -> None:
    with (
        EmulatedHost(HyperVHost(), username="u", password="p", basic=True, ntlm=False) as em,
        PowerShellHyperVDriver(**em.driver_config(auth="basic")) as driver,
    ):
        assert driver.execute(GetInventory(VMRef("*"))).vms == ()  # type: ignore[attr-defined]


def _tls_files(tmp: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, key: Any, issuer: Any, issuer_key: Any, ca: bool) -> Any:
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        return b.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build(
        "hvsnap test CA", ca_key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hvsnap test CA")]), ca_key, True
    )
    cert = build("127.0.0.1", key, ca.subject, ca_key, False)
    pem = serialization.Encoding.PEM
    (tmp / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp / "cert.pem").write_bytes(cert.public_bytes(pem))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"


def test_https_with_a_validated_certificate_and_channel_binding(tmp_path: Path) -> None:
    ca, cert, key = _tls_files(tmp_path)
    with EmulatedHost(HyperVHost(), username="u", password="p", certfile=cert, keyfile=key) as em:
        with PowerShellHyperVDriver(**em.driver_config(cert_validation=str(ca))) as driver:
            assert driver.execute(GetInventory(VMRef("*"))).vms == ()  # type: ignore[attr-defined]
        untrusted = PowerShellHyperVDriver(**em.driver_config(retries=0))  # the system store does not know our CA
        with untrusted, pytest.raises(HostUnreachable):
            untrusted.execute(GetInventory(VMRef("*")))


def names(ps: PowerShell) -> list[str]:
    return [str(o.adapted_properties["FullName"]) for o in ps.output]


def test_get_child_item_depth_and_filter_list_the_root_as_windows_does(
    rp: RunspacePool, endpoint: EmulatedHost
) -> None:
    endpoint.host.export("vm")
    root = endpoint.host.storage_root
    top = endpoint.host.vm("vm").disks["v"]  # the simulator's own layout: disks in the root
    inside = f"{root}\\vm\\w.vhdx"  # the live driver's: in the VM's folder
    invoke(
        rp,
        lambda ps: (
            ps.add_cmdlet("New-VHD")
            .add_parameter("Path", inside)
            .add_parameter("SizeBytes", TaggedValue("I64", 2**30))
            .add_parameter("Dynamic", True)
        ),
    )

    def listing(**params: Any) -> list[str]:
        def build(ps: PowerShell) -> None:
            ps.add_cmdlet("Get-ChildItem").add_parameter("LiteralPath", root)
            for key, value in params.items():
                ps.add_parameter(key, value)
            ps.add_parameter("ErrorAction", "Stop")

        return names(invoke(rp, build))

    export = f"{root}\\vm\\Export"
    assert listing() == [f"{root}\\vm", top]  # no recursion: the root's own items
    assert listing(Depth=1) == [f"{root}\\vm", top, inside, export]  # -Depth implies -Recurse
    assert listing(Recurse=True, Depth=1, Directory=True) == [f"{root}\\vm", export]
    assert listing(Recurse=True, Depth=1, File=True, Filter="*VHDX") == [top, inside]  # case-insensitive
    assert listing(Recurse=True, Depth=1, Filter="*.avhdx") == []
    assert listing(Recurse=True, Depth=0) == [f"{root}\\vm", top]
    # recursion without a depth goes on into the export, where the filter finds the disk's copy
    copies = listing(Recurse=True, Filter="v.vhdx")
    assert copies[0] == top and len(copies) == 2 and copies[1].startswith(export)


def test_a_vmname_wildcard_that_matches_no_vm_is_no_error(endpoint: EmulatedHost) -> None:
    with pool(endpoint) as opened:
        for cmdlet in ("Get-VMSnapshot", "Get-VMHardDiskDrive", "Get-VMNetworkAdapter"):
            ps = invoke(opened, lambda ps, c=cmdlet: ps.add_cmdlet(c).add_parameter("VMName", "*"))
            assert not ps.had_errors and not ps.streams.error and ps.output == []
