"""Scenarios of features/limits.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("limits.feature")
