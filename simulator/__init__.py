"""A simulated Hyper-V host: its state model, its costs in SimPy time, and faults."""
