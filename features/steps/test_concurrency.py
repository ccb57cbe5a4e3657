"""Scenarios of features/concurrency.feature (steps: features/steps/conftest.py)."""

from pytest_bdd import scenarios

scenarios("concurrency.feature")
