"""Scenarios of features/offering.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("offering.feature")
