"""Scenarios of features/tree.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("tree.feature")
