"""Scenarios of features/delete.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("delete.feature")
