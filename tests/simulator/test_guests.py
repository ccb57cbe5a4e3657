"""Simulated guests as CloudStack's tests reach them: paramiko logs in to each running VM on
its own loopback address, and what it does lands on the VM's disk chain, nowhere else.

The cloud is the plugin's (``hvsnap_cloud``): the manager on a simulated host whose guests
listen on a loopback range and a port chosen at run time (``hvsnap_guests``)."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from harness.domain.errors import CloudError
from harness.drivers import DeployVM, DiskSpec, GetInventory, Inventory, VMRef
from harness.pytest_plugin import GuestAccess
from harness.service.cloud import Cloud
from simulator.driver import SimulatedHyperVDriver
from simulator.guests.network import GuestConfig

Obj = dict[str, Any]
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


class Guests:
    """The manager and paramiko, side by side."""

    def __init__(self, cloud: Cloud, access: GuestAccess) -> None:
        self.cloud, self.m, self.admin, self.access = cloud, cloud.manager, cloud.admin, access
        self.clients: list[paramiko.SSHClient] = []

    def done(self, job: Any) -> Obj:
        result = self.m.job_result(job)
        if result["jobstatus"] != 1:
            raise CloudError.coded(result["jobresult"]["errorcode"], result["jobresult"]["errortext"])
        return result["jobresult"]  # type: ignore[no-any-return]

    def deploy(self, name: str, offering: str = "small") -> Obj:
        _, job = self.m.deploy_vm(self.admin, name, offering, True)
        return self.done(job)["virtualmachine"]  # type: ignore[no-any-return]

    def inventory(self) -> Inventory:
        answer = self.cloud.driver.execute(GetInventory(VMRef("*")))
        assert isinstance(answer, Inventory)
        return answer

    def address(self, vm: Obj) -> str:
        found = self.inventory().vm(vm["instancename"])
        assert found is not None and found.ip_addresses, f"no address for {vm['name']}"
        return found.ip_addresses[0]

    def login(self, vm: Obj, password: str | None = None, key: paramiko.PKey | None = None) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        self.clients.append(client)
        client.connect(
            self.address(vm),
            self.access.port,
            username="root",
            password=password if key is None else None,
            pkey=key,
            timeout=5,
            look_for_keys=False,
            allow_agent=False,
        )
        return client

    def snap(self, vm: Obj, memory: bool) -> str:
        _, job = self.m.create_vm_snapshot(self.admin, vm["id"], None, None, memory, False)
        return self.done(job)["vmsnapshot"]["id"]  # type: ignore[no-any-return]

    def revert(self, snapshot: str) -> None:
        self.done(self.m.revert_to_vm_snapshot(self.admin, snapshot))


def sh(client: paramiko.SSHClient, command: str) -> tuple[int, str, str]:
    _, out, err = client.exec_command(command, timeout=5)
    text, errors = out.read().decode(), err.read().decode()
    return out.channel.recv_exit_status(), text, errors


def tree(root: Path) -> list[tuple[str, int, int]]:
    """Every path under ``root`` with its size and modification time."""
    return sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in [root, *root.rglob("*")])


def refused(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def guests(hvsnap_cloud: Cloud, hvsnap_guests: GuestAccess | None) -> Iterator[Guests]:
    assert hvsnap_guests is not None
    g = Guests(hvsnap_cloud, hvsnap_guests)
    yield g
    for client in g.clients:
        client.close()


def test_two_guests_at_once_each_with_its_own_data(guests: Guests) -> None:
    web, db = guests.deploy("web"), guests.deploy("db")
    assert guests.address(web) != guests.address(db)
    a, b = guests.login(web, "password"), guests.login(db, "password")
    assert sh(a, "echo web-data > $HOME/random.data && sync")[0] == 0
    assert sh(b, "echo db-data > random.data")[0] == 0
    assert sh(a, "cat random.data; hostname") == (0, f"web-data\n{web['instancename']}\n", "")
    assert sh(b, "cat ~/random.data /root/random.data")[1] == "db-data\ndb-data\n"
    # the manager's guest-data calls read the same file
    assert guests.m.read_guest_data(guests.admin, web["id"], "random.data")["value"] == "web-data\n"


def test_written_snapshotted_changed_reverted_read_back(guests: Guests) -> None:
    vm = guests.deploy("web")
    ssh = guests.login(vm, "password")
    assert sh(ssh, "echo original > random.data")[0] == 0
    snapshot = guests.snap(vm, memory=True)
    assert sh(ssh, "rm random.data && ls random.data") == (
        2,
        "",
        "ls: cannot access 'random.data': No such file or directory\n",
    )
    guests.revert(snapshot)
    with pytest.raises((paramiko.SSHException, EOFError, OSError)):
        sh(ssh, "cat random.data")  # the revert cut the session
    again = guests.login(vm, "password")
    assert sh(again, "cat random.data") == (0, "original\n", "")


def test_disk_only_revert_refuses_connections_until_start(guests: Guests) -> None:
    vm = guests.deploy("web")
    address = guests.address(vm)
    sh(guests.login(vm, "password"), "echo before > f")
    snapshot = guests.snap(vm, memory=False)
    guests.revert(snapshot)  # disk only: the VM ends Stopped
    assert refused(address, guests.access.port)
    stopped = guests.inventory().vm(vm["instancename"])
    assert stopped is None or stopped.ip_addresses == ()  # stopped (unregistered): no address reported
    guests.done(guests.m.start_vm(guests.admin, vm["id"]))
    assert sh(guests.login(vm, "password"), "cat f; uptime")[1].startswith("before\n")


def test_offering_change_shows_in_proc_meminfo_and_cpuinfo(guests: Guests) -> None:
    vm = guests.deploy("web", "small")
    assert sh(guests.login(vm, "password"), "grep MemTotal /proc/meminfo")[1].split()[1] == str(512 * 1024)
    guests.done(guests.m.stop_vm(guests.admin, vm["id"]))
    guests.done(guests.m.change_offering(guests.admin, vm["id"], "medium"))
    guests.done(guests.m.start_vm(guests.admin, vm["id"]))
    ssh = guests.login(vm, "password")
    assert sh(ssh, "grep MemTotal /proc/meminfo")[1].split()[1] == str(2048 * 1024)
    assert sh(ssh, "cat /proc/cpuinfo | grep -c processor") == (0, "2\n", "")


def test_dd_grows_the_chain_the_host_and_list_volumes_report(guests: Guests) -> None:
    vm = guests.deploy("web")
    guests.snap(vm, memory=False)
    root = guests.m.list_volumes(guests.admin, vm["id"])[1][0]
    before = guests.inventory().vm(vm["instancename"])
    assert before is not None
    ssh = guests.login(vm, "password")
    status, _, err = sh(ssh, "dd if=/dev/urandom of=/tmp/blob bs=1M count=3 && md5sum /tmp/blob")
    assert status == 0 and "3145728 bytes" in err
    after = guests.inventory().vm(vm["instancename"])
    assert after is not None
    assert after.volumes[0].chain_size - before.volumes[0].chain_size == 3 * 2**20
    guests.snap(vm, memory=False)
    grown = guests.m.list_volumes(guests.admin, vm["id"])[1][0]
    assert grown["vmsnapshotchainsize"] - root["vmsnapshotchainsize"] >= 3 * 2**20


def test_hostile_lines_touch_nothing_outside_the_vm(guests: Guests, tmp_path: Path) -> None:
    mine, other = guests.deploy("web"), guests.deploy("db")
    sh(guests.login(other, "password"), "echo keep > data")
    marker = tmp_path / "sentinel"
    marker.write_text("real")
    before = tree(tmp_path)
    ssh = guests.login(mine, "password")
    hostile = [
        f"; rm -rf /; rm -rf {tmp_path}",
        "rm -rf / --no-preserve-root",
        f"echo $(touch {marker}.2)",
        f"echo `touch {marker}.3`",
        f'echo "$(rm -f {marker})"',
        f"cat ../../../../{marker}",
        "rm -rf ../../root/../.. /root /tmp /etc /proc/cpuinfo",
        "dd if=/etc/passwd of=x",
        "cat /etc/shadow /etc/passwd",
        "ls /home/..; cd ../../..; pwd",
        f"mkdir -p {tmp_path} && echo pwned > ../../../../{tmp_path}/evil",
    ]
    for line in hostile:
        sh(ssh, line)
    assert marker.read_text() == "real"
    assert tree(tmp_path) == before  # (/tmp and / are shared with other processes: the targets are here)
    assert not any(p.name.startswith("sentinel.") for p in tmp_path.iterdir())
    assert sh(ssh, f"cat {tmp_path}/evil")[1] == "pwned\n"  # inside the guest, as a guest file
    assert sh(guests.login(other, "password"), "cat data")[1] == "keep\n"
    assert sh(ssh, "echo `id`") == (2, "", "sh: command substitution is not supported\n")
    assert sh(ssh, "nosuch-command --flag") == (127, "", "sh: nosuch-command: command not found\n")


def test_wrong_password_or_key_is_refused_a_registered_key_is_accepted(guests: Guests) -> None:
    vm = guests.deploy("web")
    with pytest.raises(paramiko.AuthenticationException):
        guests.login(vm, "not-the-password")
    keypair = paramiko.RSAKey.generate(2048)
    with pytest.raises(paramiko.AuthenticationException):
        guests.login(vm, key=keypair)
    network = guests.cloud.driver.guests  # type: ignore[attr-defined]
    network.authorize(vm["instancename"], f"{keypair.get_name()} {keypair.get_base64()}")
    assert sh(guests.login(vm, key=keypair), "whoami") == (0, "root\n", "")


def test_servers_bind_inside_loopback_only(guests: Guests) -> None:
    vms = [guests.deploy(f"vm{i}") for i in range(3)]
    network = guests.cloud.driver.guests  # type: ignore[attr-defined]
    for vm in vms:
        endpoint = network.endpoint(vm["instancename"])
        assert endpoint is not None and ipaddress.ip_address(endpoint[0]) in LOOPBACK
    with pytest.raises(ValueError, match=r"inside 127\.0\.0\.0/8"):
        SimulatedHyperVDriver(guest_range="10.0.0.0/24")
    driver = SimulatedHyperVDriver(guests=GuestConfig(port=0, fallback_port=0))
    try:
        driver.execute(DeployVM(VMRef("far"), 512, 1, (DiskSpec("r", 2**30),), ip_address="10.1.1.5"))
        assert driver.guests.endpoint("far") is None  # an address off loopback is never bound
    finally:
        driver.close()


def test_no_server_outlives_its_vm_or_its_driver(guests: Guests) -> None:
    vm, other = guests.deploy("web"), guests.deploy("db")
    address, port = guests.address(vm), guests.access.port
    other_address = guests.address(other)
    guests.login(vm, "password")
    guests.done(guests.m.stop_vm(guests.admin, vm["id"]))
    assert refused(address, port)
    guests.done(guests.m.start_vm(guests.admin, vm["id"]))
    guests.done(guests.m.destroy_vm(guests.admin, vm["id"], True))
    assert refused(address, port)
    guests.cloud.driver.close()
    assert refused(other_address, port)


def test_no_server_outlives_its_process(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from harness.drivers import DeployVM, DiskSpec, VMRef\n"
        "from simulator.driver import SimulatedHyperVDriver\n"
        "from simulator.guests.network import GuestConfig\n"
        "d = SimulatedHyperVDriver(guests=GuestConfig(port=0, fallback_port=0), guest_range='127.91.7.0/24')\n"
        "d.execute(DeployVM(VMRef('i-2-1-VM'), 512, 1, (DiskSpec('r', 2**30),)))\n"
        "print(*d.guests.endpoint('i-2-1-VM'), flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        address, port = proc.stdout.readline().split()
        assert not refused(address, int(port))
    finally:
        proc.terminate()
        proc.wait(10)
    deadline = time.monotonic() + 5
    while not refused(address, int(port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refused(address, int(port))


def test_the_emulated_host_runs_the_guests_and_the_live_driver_reports_their_addresses() -> None:
    from live_driver.driver import PowerShellHyperVDriver
    from simulator.psrp_endpoint.endpoint import EmulatedHost

    with EmulatedHost(guests=GuestConfig(port=0, fallback_port=0), guest_range="127.94.3.0/24") as em:
        driver = PowerShellHyperVDriver(**em.driver_config(merge_poll_seconds=0.01))
        try:
            driver.execute(DeployVM(VMRef("i-2-5-VM"), 512, 1, (DiskSpec("root-5", 2**30),)))
            inventory = driver.execute(GetInventory(VMRef("*")))
            assert isinstance(inventory, Inventory)
            found = inventory.vm("i-2-5-VM")
            assert found is not None and found.ip_addresses == ("127.94.3.1",)
            endpoint = em.guests.endpoint("i-2-5-VM")
            assert endpoint is not None and endpoint[0] == "127.94.3.1"
            client = paramiko.SSHClient()
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            client.connect(*endpoint, username="root", password="password", look_for_keys=False, allow_agent=False)
            try:
                assert sh(client, "cat /proc/meminfo | head -n 1")[1].split()[1] == str(512 * 1024)
            finally:
                client.close()
            em.reset()  # a new host model: the old one's guests stop
            assert refused(*endpoint)
        finally:
            driver.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _password_login(address: str, port: int) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        address, port, username="root", password="password", timeout=5, look_for_keys=False, allow_agent=False
    )
    return client


def test_hvsnap_serve_runs_the_guests_until_it_stops(tmp_path: Path) -> None:
    from cs import CloudStack

    from harness.service import accounts
    from harness.store.uow import make_engine, uow_factory
    from tests.api.conftest import POLL_INTERVAL, deploy

    port, cidr = _free_port(), "127.98.4.0/24"
    keypair = paramiko.RSAKey.generate(2048)
    (tmp_path / "keys").write_text(f"# the deploy's key pair\n{keypair.get_name()} {keypair.get_base64()} ops\n")
    command = [sys.executable, "-m", "harness.cli", "--home", str(tmp_path), "serve", "--port", "0"]
    command += ["--guest-port", str(port), "--guest-range", cidr, "--guest-authorized-keys", str(tmp_path / "keys")]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().split(" on ", 1)[1].split()[0]
        assert f"addresses in {cidr}, port {port}" in proc.stdout.readline()
        engine = make_engine(f"sqlite:///{tmp_path / 'hvsnap.db'}")
        admin = accounts.bootstrap(uow_factory(engine))
        engine.dispose()
        api = CloudStack(
            endpoint=endpoint, key=admin.api_key, secret=admin.secret_key, poll_interval=float(POLL_INTERVAL)
        )
        api.updateConfiguration(name="guest.network.cidr", value=cidr)  # the manager's addresses, from the same range
        vm = deploy(api, "web")
        address = api.listVirtualMachines(id=vm)["virtualmachine"][0]["nic"][0]["ipaddress"]
        assert ipaddress.ip_address(address) in ipaddress.ip_network(cidr)
        with_key = paramiko.SSHClient()
        with_key.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        with_key.connect(address, port, "root", pkey=keypair, look_for_keys=False, allow_agent=False)
        with_key.close()
        client = _password_login(address, port)
        _, out, _ = client.exec_command("echo from-ssh > marker && cat /proc/meminfo | head -n 1")
        assert out.read().decode().split()[1] == str(512 * 1024)
        client.close()
        assert api.readGuestData(virtualmachineid=vm, key="marker")["guestdata"]["value"] == "from-ssh\n"
        api.stopVirtualMachine(id=vm, fetch_result=True)
        assert refused(address, port)
        api.startVirtualMachine(id=vm, fetch_result=True)
        _password_login(address, port).close()
    finally:
        proc.terminate()
        proc.wait(30)
    assert refused(address, port)


def test_hvsnap_emulate_host_runs_the_guests(tmp_path: Path) -> None:
    from live_driver.driver import PowerShellHyperVDriver

    port, cidr = _free_port(), "127.98.5.0/24"
    command = [sys.executable, "-m", "harness.cli", "emulate-host", "--port", "0", "--password", "pw"]
    command += ["--guest-port", str(port), "--guest-range", cidr]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split("http://", 1)[1].split("/", 1)[0]
        assert f"port {port}" in proc.stdout.readline()
        winrm = int(url.rsplit(":", 1)[1])
        driver = PowerShellHyperVDriver(
            host="127.0.0.1", port=winrm, ssl=False, auth="ntlm", username="hvsnap", password="pw"
        )
        try:
            driver.execute(DeployVM(VMRef("i-2-9-VM"), 1024, 1, (DiskSpec("root-9", 2**30),)))
            inventory = driver.execute(GetInventory(VMRef("*")))
            assert isinstance(inventory, Inventory)
            found = inventory.vm("i-2-9-VM")
            assert found is not None and found.ip_addresses == ("127.98.5.1",)
            client = _password_login("127.98.5.1", port)
            _, out, _ = client.exec_command("grep MemTotal /proc/meminfo")
            assert out.read().decode().split()[1] == str(1024 * 1024)
            client.close()
        finally:
            driver.close()
    finally:
        proc.terminate()
        proc.wait(30)
    assert refused("127.98.5.1", port)


def test_an_interactive_shell_prompts_echoes_and_exits(guests: Guests) -> None:
    vm = guests.deploy("web")
    channel = guests.login(vm, "password").invoke_shell()
    channel.settimeout(5)
    channel.send(b"echo hello > f; cat f\nexit 3\n")
    seen = b""
    while not channel.exit_status_ready() or channel.recv_ready():
        data = channel.recv(4096)
        if not data:
            break
        seen += data
    prompt = f"root@{vm['instancename']}:~# ".encode()
    typed = b"echo hello > f; cat f\r\nexit 3\r\n"  # a terminal echoes what is typed at once
    assert seen == prompt + typed + b"hello\r\n" + prompt
    assert channel.recv_exit_status() == 3
