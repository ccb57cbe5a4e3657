"""Scenarios of features/volume_snapshots.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("volume_snapshots.feature")
