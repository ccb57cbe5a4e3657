"""Scenarios of features/export.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("export.feature")
