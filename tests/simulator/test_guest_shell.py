"""The guest shell and the guest network's rules, without a client: lines run against a
simulated host's disk chain, servers watched through a host whose clock the test moves."""

from __future__ import annotations

import random
import socket

import pytest

from harness.drivers import DiskSpec
from simulator.guests.files import GuestFiles
from simulator.guests.network import GuestConfig, GuestNetwork
from simulator.guests.procfs import Facts
from simulator.guests.shell import GuestShell
from simulator.host import HyperVHost

VM = "i-2-7-VM"


@pytest.fixture
def host() -> HyperVHost:
    h = HyperVHost()
    h.deploy(VM, 1024, 2, [DiskSpec("root", 8 * 2**30)], True)
    return h


@pytest.fixture
def shell(host: HyperVHost) -> GuestShell:
    vm = host.vm(VM)
    return GuestShell(GuestFiles(host, VM), lambda: Facts(VM, vm.cpus, vm.memory_mib, 2000, 3725.0), random.Random(1))


def run(shell: GuestShell, line: str) -> tuple[int, str, str]:
    r = shell.run(line)
    return r.status, r.out.decode(), r.err.decode()


def test_quoting_operators_and_status(shell: GuestShell) -> None:
    assert run(shell, "echo 'a;b' \"c && d\" e\\ f") == (0, "a;b c && d e f\n", "")
    assert run(shell, "false && echo no; echo $?") == (0, "1\n", "")
    assert run(shell, "false || echo yes") == (0, "yes\n", "")
    assert run(shell, "echo -n x > f; echo y >> f; cat f") == (0, "xy\n", "")
    assert run(shell, "echo ${HOME} $USER ~ # a comment") == (0, "/root root /root\n", "")
    assert run(shell, "echo 'unterminated")[0] == 2
    assert run(shell, "sleep 1 &") == (2, "", "sh: background jobs are not supported\n")
    assert run(shell, "frobnicate; echo $?") == (0, "127\n", "sh: frobnicate: command not found\n")


def test_substitution_is_refused_before_anything_runs(shell: GuestShell) -> None:
    assert run(shell, "echo one > f; echo $(rm f)")[0] == 2
    assert run(shell, "cat f")[0] == 1  # the refused line wrote nothing either
    assert run(shell, 'echo "`id`"')[0] == 2


def test_files_directories_and_listing(shell: GuestShell) -> None:
    assert run(shell, "mkdir d && mkdir d")[2] == "mkdir: cannot create directory 'd': File exists\n"
    assert run(shell, "mkdir a/b")[0] == 1
    assert run(shell, "mkdir -p a/b && touch a/b/c && ls a a/b") == (0, "a:\nb\na/b:\nc\n", "")
    assert run(shell, "rm a")[2] == "rm: cannot remove 'a': Is a directory\n"
    assert run(shell, "rm -r a && ls a")[0] == 2
    assert run(shell, "rm -f nothing")[0] == 0
    assert run(shell, "ls -l /root").__getitem__(1).startswith("total")
    assert run(shell, "cd /tmp && pwd && cd .. && pwd") == (0, "/tmp\n/\n", "")
    assert run(shell, "cd ../../../..; pwd")[1] == "/\n"


def test_sums_df_hostname_uptime_and_proc(shell: GuestShell, host: HyperVHost) -> None:
    assert run(shell, "echo abc > f; md5sum f") == (0, "0bee89b07a248e27c83fc3d5951213c1  f\n", "")
    sha = run(shell, "sha256sum f")[1].split()[0]
    assert sha == "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb"
    assert run(shell, "hostname")[1] == f"{VM}\n"
    assert " up 1:02," in run(shell, "uptime")[1]
    assert run(shell, "grep -c processor /proc/cpuinfo")[1] == "2\n"
    assert "cpu MHz\t\t: 2000.000" in run(shell, "cat /proc/cpuinfo")[1]
    assert run(shell, "head -n 1 /proc/meminfo")[1].split()[1] == str(1024 * 1024)
    assert run(shell, "df")[1].splitlines()[1].split()[1] == str(8 * 2**20)
    assert run(shell, "echo x > /proc/cpuinfo")[0] == 1


def test_dd_grows_the_active_file_and_reads_back_the_same_bytes(shell: GuestShell, host: HyperVHost) -> None:
    host.checkpoint(VM, "A", memory=False, quiesce=False)
    before = host.volumes(VM)[0].chain_size
    assert run(shell, "dd if=/dev/urandom of=blob bs=64k count=4")[0] == 0
    assert host.volumes(VM)[0].chain_size - before == 256 * 1024
    first = run(shell, "md5sum blob")[1]
    assert run(shell, "md5sum blob")[1] == first
    assert run(shell, "dd if=/dev/urandom of=blob bs=64k count=4")[0] == 0  # the same file again
    assert host.volumes(VM)[0].chain_size - before == 256 * 1024
    assert run(shell, "dd if=/dev/zero of=z bs=1k count=2 && wc -c < z")[1] == "2048\n"
    assert run(shell, "dd if=/etc/passwd of=x")[0] == 1
    assert run(shell, "dd if=/dev/zero of=huge bs=1G count=9")[2].endswith("No space left on device\n")
    host.capacity = host.used_bytes() + 1024
    assert "No space left on device" in run(shell, "dd if=/dev/zero of=full bs=1M count=1")[2]


def test_guest_files_are_the_guest_data_keys(shell: GuestShell, host: HyperVHost) -> None:
    host.write(VM, "motd", "hello")
    assert run(shell, "cat motd /root/motd") == (0, "hellohello", "")
    run(shell, "echo v2 > motd; echo t > /tmp/x")
    assert host.read(VM, "motd") == "v2\n"
    assert host.read(VM, "/tmp/x") == "t\n"


def test_a_snapshot_captures_the_files_and_a_revert_restores_them(shell: GuestShell, host: HyperVHost) -> None:
    run(shell, "echo one > f; mkdir d")
    host.checkpoint(VM, "A", memory=True, quiesce=False)
    run(shell, "rm -r f d; echo two > g")
    host.revert(VM, "A")
    host.start(VM)
    assert run(shell, "cat f; ls") == (0, "one\nd\nf\n", "")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_uptime_follows_boots_and_memory_reverts() -> None:
    host, clock = HyperVHost(), Clock()
    host.guest_range = "127.96.0.0/24"
    net = GuestNetwork(host, GuestConfig(port=0, fallback_port=0), clock=clock)
    try:
        host.deploy(VM, 512, 1, [DiskSpec("root", 2**30)], True)
        clock.now += 100
        assert net._facts(VM).uptime == 100
        host.checkpoint(VM, "M", memory=True, quiesce=False)
        clock.now += 50
        host.revert(VM, "M")
        assert net.endpoint(VM) is None  # reverted: down until it runs again
        host.start(VM)
        assert net._facts(VM).uptime == 100  # the checkpoint's moment
        host.power_off(VM)
        host.start(VM)
        assert net._facts(VM).uptime == 0  # a cold boot
    finally:
        net.close()


def test_a_port_that_cannot_be_bound_falls_back() -> None:
    host = HyperVHost()
    host.guest_range = "127.97.0.0/24"
    with socket.socket() as taken:
        taken.bind(("127.97.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        net = GuestNetwork(host, GuestConfig(port=busy, fallback_port=0))
        try:
            host.deploy(VM, 512, 1, [DiskSpec("root", 2**30)], True)
            endpoint = net.endpoint(VM)
            assert endpoint is not None and endpoint[0] == "127.97.0.1" and endpoint[1] != busy
        finally:
            net.close()
