"""Tests of mmhier.visualization: palette, overlays, legends."""
