"""Scenarios of features/revert.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("revert.feature")
