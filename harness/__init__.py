"""hvsnap: a VM-snapshot manager for Hyper-V, after Apache CloudStack's VM snapshot design."""

__version__ = "0.1.0"
