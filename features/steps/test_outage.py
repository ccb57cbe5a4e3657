"""Scenarios of features/outage.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("outage.feature")
