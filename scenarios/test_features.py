"""Collect every feature file under scenarios/features (English and Japanese)."""
from pytest_bdd import scenarios

scenarios("features")
