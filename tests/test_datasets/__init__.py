"""Tests of mmhier.datasets: dataset wrappers and loading transforms."""
