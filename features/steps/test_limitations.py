"""Scenarios of features/limitations.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("limitations.feature")
