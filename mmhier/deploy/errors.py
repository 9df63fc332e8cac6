"""Errors of exporting and verifying a deployable model.

They are :class:`~mmhier.tool_support.errors.ToolError` s: ``tools/export.py``
prints each as one line, ``error: <message>``, and exits with status 1.
"""
from __future__ import annotations

from mmhier.tool_support.errors import ToolError


class ExportError(ToolError, ValueError):
    """The model, the options or the exporter cannot give a deployable graph."""


class UnsupportedModelError(ExportError):
    """The model has no mmhier head (its graph would not end in the taxonomy
    decision), or a part of it cannot be put into the graph."""


class UnsupportedOpsetError(ExportError):
    """The requested ONNX opset is outside the range the exporter supports."""


class MissingDependencyError(ExportError):
    """A package of the ``deploy`` extra (onnx, onnxscript, onnxruntime) is
    not installed."""


class ParityError(ExportError):
    """``--verify`` found the exported model deciding differently from
    PyTorch beyond near-ties."""
