"""Async jobs, per-VM serial queues, and the runners that drive workflows."""
