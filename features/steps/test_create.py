"""Scenarios of features/create.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("create.feature")
