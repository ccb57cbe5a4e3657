"""Scenarios of features/bad_input.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("bad_input.feature")
