"""Scenarios of features/capabilities.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("capabilities.feature")
