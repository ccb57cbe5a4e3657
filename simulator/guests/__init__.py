"""Simulated guests: what runs inside a simulated VM, reachable as a real one is.

- :mod:`.addresses`: one loopback address per VM (the host assigns and keeps it);
- :mod:`.files`: the guest's files, kept in the VM's disk chain (so checkpoints capture
  them and a revert restores them), never on the real machine;
- :mod:`.shell`: a small POSIX-like shell over those files;
- :mod:`.network`: an SSH server (asyncssh) per running guest, up and down with the VM's
  power state, in the process that owns the simulated host.

This package imports nothing heavy at import time: :mod:`simulator.host` uses
:mod:`.addresses` whether or not guests run.
"""
