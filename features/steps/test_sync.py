"""Scenarios of features/sync.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("sync.feature")
