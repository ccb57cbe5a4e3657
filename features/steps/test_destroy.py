"""Scenarios of features/destroy.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("destroy.feature")
