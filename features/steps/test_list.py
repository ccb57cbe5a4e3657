"""Scenarios of features/list.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("list.feature")
