"""The timing and storage cost model of a simulated Hyper-V host.

Every parameter is a field of :class:`Costs` with its default and, in the field's
``metadata["source"]``, where that default comes from: a section of
``reference/hyperv.md`` (§4 storage model, §5.1 published numbers, §5.2 the suggested timing
model), or, where no figure is published, the words "assumption:" and what was assumed.
Calibrate on a real host when one is available; a scenario overrides any field by name
(``costs:`` in the YAML).

Units: seconds, bytes, bytes per second. ``MB`` is 10**6 bytes (disk vendors' unit),
``MiB``/``GiB`` powers of two.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, fields, replace
from typing import Any

MB = 10**6
MiB = 2**20
GiB = 2**30


def _p(default: Any, source: str) -> Any:
    return field(default=default, metadata={"source": source})


@dataclass(frozen=True)
class Costs:
    """Cost parameters of one host and its primary storage (all hosts of a scenario share
    one ``Costs``)."""

    # ---------------------------------------------------------------- checkpoints
    pause_s: float = _p(0.2, "hyperv.md §5.2 t_pause 0.05-0.5 s (VM frozen while the AVHDX swap happens)")
    avhdx_create_s: float = _p(0.3, "hyperv.md §5.2 t_avhdx 0.1-1 s per disk")
    config_copy_s: float = _p(0.1, "assumption: copying the VM configuration (.vmcx) is sub-second, §4.3 step 3")
    state_write_bps: float = _p(
        1000 * MB, "hyperv.md §5.2 W_state: 100-200 MB/s HDD, 500-2000 MB/s SSD; SSD mid-range chosen"
    )
    state_read_bps: float = _p(1000 * MB, "assumption: R_state = W_state (§5.2 gives no separate figure)")
    off_checkpoint_s: float = _p(1.0, "hyperv.md §5.2: checkpoint of an Off VM ≈ 1-3 s constant + per-disk AVHDX")
    vss_median_s: float = _p(4.0, "hyperv.md §5.2 t_vss lognormal, median 2-10 s")
    vss_sigma: float = _p(0.6, "assumption: lognormal shape; ~5 % of freezes exceed 2.7x the median")
    vss_cap_s: float = _p(60.0, "hyperv.md §5.1 VSS freeze-thaw window 60 s (VSS OnFreeze doc)")
    vss_failure_p: float = _p(
        0.0, "assumption: healthy guests never fail to freeze; faults.vss_failure_rate raises it (§6.1)"
    )
    # ---------------------------------------------------------------- restore, power
    restore_s: float = _p(1.5, "hyperv.md §5.2 restore = t_stop_current + t_config + t_discard_leaf: seconds")
    start_s: float = _p(2.0, "assumption: Start-VM returns when the VM is Running (not when the guest has booted)")
    power_off_s: float = _p(1.0, "assumption: Stop-VM -TurnOff is a hard power-off, about a second")
    register_s: float = _p(1.0, "hyperv.md §5.2 Import-VM -Register: seconds (config registration)")
    unregister_s: float = _p(0.5, "assumption: Remove-VM drops the configuration only")
    deploy_s: float = _p(3.0, "assumption: New-VM + New-VHD (dynamic) of an empty disk: seconds")
    attach_s: float = _p(0.5, "assumption: Add/Remove-VMHardDiskDrive: sub-second")
    # ---------------------------------------------------------------- delete and merge
    delete_file_s: float = _p(0.2, "hyperv.md §5.2: removing a leaf / side-branch checkpoint ≈ constant")
    merge_bps: float = _p(
        300 * MB, "hyperv.md §5.2 live merge M ≈ 0.3-0.5 x min(read, write) competing with guest I/O: 0.3 x 1000 MB/s"
    )
    offline_merge_bps: float = _p(500 * MB, "hyperv.md §5.2 M_offline: no guest I/O competing, 0.5 x 1000 MB/s")
    merge_mode: str = _p(
        "live", "hyperv.md §4.4: 'live' (2012+) merges at once; 'deferred' (2008 R2) merges at power-off"
    )
    # ---------------------------------------------------------------- export / import
    export_bps: float = _p(
        200 * MB,
        "hyperv.md §5.2 Export-VM = bytes / min(R_src, W_dst, net); no published MB/s (§5.1 [?]); "
        "assumption: export to primary storage at 200 MB/s (§5.1 saw 95 MB/s over a network)",
    )
    import_copy_bps: float = _p(
        200 * MB,
        "assumption: Import-VM copies at the export bandwidth (-Copy: every file; in place: files gone since export)",
    )
    # ---------------------------------------------------------------- failover clusters
    node_failure_detect_s: float = _p(
        5.0,
        "Microsoft docs, failover cluster common properties (WS2012+ defaults): SameSubnetDelay 1000 ms x "
        "SameSubnetThreshold 5 missed heartbeats before a node is declared down",
    )
    role_failure_detect_s: float = _p(
        1.0, "assumption: the cluster's Virtual Machine resource sees its VM leave Running (VMMS events) within 1 s"
    )
    role_move_s: float = _p(
        3.0, "assumption: moving a failed VM role to another node (arbitration, configuration on CSV): seconds"
    )
    group_offline_s: float = _p(
        1.0, "assumption: Stop-/Start-ClusterGroup of a VM role adds about a second beyond the save or start"
    )
    guest_boot_s: float = _p(
        30.0, "assumption: after a cold start the guest OS boots and its application serves again in ~30 s"
    )
    # ---------------------------------------------------------------- shared storage
    storage_bps: float = _p(
        2000 * MB, "hyperv.md §5.2 SSD top figure 2000 MB/s: the volume's total throughput, shared by the host"
    )
    storage_channels: int = _p(
        2, "assumption: the volume serves 2 bulk copies at once at storage_bps/2 each; more queue"
    )
    chunk_bytes: int = _p(1 * GiB, "assumption: copies take turns on a channel in 1 GiB chunks (fair sharing)")
    # ---------------------------------------------------------------- guest I/O
    guest_write_bps: float = _p(
        100_000.0, "assumption: 0.1 MB/s of new blocks per VM (~8.6 GB/day) grows the leaf AVHDX (§4.3)"
    )
    read_latency_ms: float = _p(0.5, "assumption: 0.5 ms base read latency of an SSD-backed fixed disk")
    chain_alpha: float = _p(0.05, "hyperv.md §5.2 lat = base x (1 + alpha x depth), alpha 0.02-0.1")
    # ---------------------------------------------------------------- faults
    command_timeout_s: float = _p(1800.0, "CloudStack's vmsnapshot.create.wait default, 1800 s (cloudstack.md)")
    storage_tick_s: float = _p(
        300.0, "assumption: free space is checked every 5 simulated minutes when the volume has a capacity"
    )

    # ---------------------------------------------------------------- derived
    def vss_freeze(self, rng: random.Random) -> float:
        """One VSS freeze time: lognormal around ``vss_median_s``, capped at ``vss_cap_s``."""
        return min(self.vss_cap_s, rng.lognormvariate(math.log(self.vss_median_s), self.vss_sigma))

    def read_latency(self, depth: int) -> float:
        """Guest read latency in ms for a block ``depth`` differencing levels deep."""
        return self.read_latency_ms * (1 + self.chain_alpha * depth)

    def channel_bps(self) -> float:
        return self.storage_bps / self.storage_channels

    def with_overrides(self, overrides: dict[str, Any]) -> Costs:
        """A copy with ``overrides`` applied; unknown names raise ``ValueError``."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown cost parameter(s): {', '.join(unknown)}")
        typed = {}
        for k, v in overrides.items():
            kind = type(getattr(self, k))
            try:
                typed[k] = kind(v)
            except (TypeError, ValueError):
                raise ValueError(f"cost parameter {k} takes a {kind.__name__}, not {v!r}") from None
        if typed.get("merge_mode", self.merge_mode) not in ("live", "deferred"):
            raise ValueError("merge_mode must be 'live' or 'deferred'")
        return replace(self, **typed)

    @staticmethod
    def sources() -> dict[str, str]:
        """Parameter name -> the source of its default."""
        return {f.name: f.metadata["source"] for f in fields(Costs)}
