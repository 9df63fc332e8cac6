"""Recording a :class:`~mmhier.deploy.model.DeployableSegmentor` and saving it.

:func:`export_program` records the graph with ``torch.export`` (non-strict),
batch, height and width dynamic when asked (``Dim.DYNAMIC``: an export that
would fix one of them fails instead of silently specialising). The same
program is saved as ONNX (:func:`save_onnx`, through ``torch.onnx.export``'s
dynamo exporter, with the metadata in ``metadata_props``) or as a
``torch.export`` program (:func:`save_exported_program`, ``.pt2``, the metadata
inside and in a JSON sidecar).
"""
from __future__ import annotations

import contextlib
import json
from typing import Any, Mapping, Optional

import torch
from torch import Tensor

from mmhier.deploy.dynamic_ops import dynamic_size_pooling, fixed_size_ops
from mmhier.deploy.errors import ExportError, MissingDependencyError, UnsupportedOpsetError
from mmhier.deploy.metadata import EXTRA_FILE, sidecar_path, to_props
from mmhier.deploy.model import INPUT_NAME, DeployableSegmentor

#: Output formats.
FORMATS = ('onnx', 'exported-program')
#: ONNX opsets the exporter writes (torch 2.13's dynamo exporter targets 18+
#: natively and converts down to 17; beyond 23 it falls back silently).
SUPPORTED_OPSETS = range(17, 24)
#: Default ONNX opset.
DEFAULT_OPSET = 18
#: Seed of the example input.
EXAMPLE_SEED = 0


def require(module: str) -> Any:
    """Import a package of the ``deploy`` extra.

    Raises:
        MissingDependencyError: It is not installed.
    """
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f'{module} is not installed; install the deploy extra: pip install '
            '"mmhier[deploy]" (or pip install -r requirements/tests.txt)') from exc


def check_opset(opset: int) -> None:
    """Raise :class:`UnsupportedOpsetError` unless ``opset`` is in
    :data:`SUPPORTED_OPSETS`."""
    if opset not in SUPPORTED_OPSETS:
        raise UnsupportedOpsetError(
            f'--opset {opset} is not supported: the exporter writes opsets '
            f'{SUPPORTED_OPSETS.start}..{SUPPORTED_OPSETS.stop - 1} (default {DEFAULT_OPSET})')


def example_input(channels: int, size: tuple[int, int], batch: int = 1) -> Tensor:
    """A deterministic example image: float32 pixel values 0..255.

    Shape:
        output: ``(batch, channels, H, W)``
    """
    generator = torch.Generator().manual_seed(EXAMPLE_SEED)
    return torch.randint(0, 256, (batch, channels, *size), generator=generator).float()


def export_program(wrapper: DeployableSegmentor, size: tuple[int, int],
                   dynamic: bool = False, target: str = 'onnx') -> torch.export.ExportedProgram:
    """Record ``wrapper`` with ``torch.export``.

    For a dynamic ONNX graph, adaptive pooling layers are recorded in a form
    ONNX can express at any size (:func:`~mmhier.deploy.dynamic_ops.dynamic_size_pooling`).

    Args:
        wrapper: The module (eval mode).
        size: ``(H, W)`` of the example input.
        dynamic: Make batch, height and width dynamic (the example batch is
            then 2: ``torch.export`` specialises a size-1 dimension).
        target: ``'onnx'`` or ``'exported-program'`` (the format it is for).

    Returns:
        The exported program.

    Raises:
        ExportError: The model fixes a dimension that was asked to be
            dynamic, or the example size is too small for it, or (ONNX) it
            pools adaptively in a way no dynamic ONNX graph can express.
    """
    if target not in FORMATS:
        raise ExportError(f'format must be one of {FORMATS}, got {target!r}')
    example = example_input(wrapper.channels, size, batch=2 if dynamic else 1)
    dims = None
    if dynamic:
        dim = torch.export.Dim.DYNAMIC
        dims = {INPUT_NAME: {0: dim, 2: dim, 3: dim}}
    portable = dynamic and target == 'onnx'
    pooling = dynamic_size_pooling(wrapper) if portable else contextlib.nullcontext()
    try:
        with torch.no_grad(), pooling:
            program = torch.export.export(wrapper.eval(), (example,), dynamic_shapes=dims,
                                          strict=False)
    except torch._dynamo.exc.UserError as exc:   # constraint violations
        first = str(exc).strip().splitlines()
        detail = ' '.join(line.strip() for line in first[:3])
        raise ExportError(f'torch.export cannot keep the input size dynamic for this model '
                          f'({detail}); export without --dynamic, or at another --shape') from exc
    fixed = fixed_size_ops(program) if portable else []
    if fixed:
        raise ExportError(f'the model pools adaptively with {"; ".join(fixed)}: ONNX can only '
                          f'express that at the export size {size[0]}x{size[1]}; export without '
                          '--dynamic, or use --format exported-program')
    return program


def input_size_range(program: torch.export.ExportedProgram) -> dict[str, tuple[int, Optional[int]]]:
    """``{'batch'|'height'|'width': (min, max or None)}`` of the program's
    input (equal bounds for static dimensions)."""
    placeholder = next(n for n in program.graph.nodes
                       if n.op == 'placeholder' and n.name == INPUT_NAME)
    shape = placeholder.meta['val'].shape
    out = {}
    for name, dim in zip(('batch', None, 'height', 'width'), shape):
        if name is None:
            continue
        if isinstance(dim, int):
            out[name] = (dim, dim)
            continue
        bounds = program.range_constraints.get(dim.node.expr)
        upper = int(bounds.upper) if bounds is not None and bounds.upper.is_Integer else None
        out[name] = (int(bounds.lower) if bounds is not None else 1, upper)
    return out


def save_onnx(program: torch.export.ExportedProgram, path: str, outputs: tuple[str, ...],
              opset: int, metadata: Mapping[str, Any]) -> None:
    """Convert the program to ONNX and save it with ``metadata`` in its
    ``metadata_props``.

    Raises:
        MissingDependencyError: onnx or onnxscript is missing.
        UnsupportedOpsetError: ``opset`` is not supported, or the exporter
            could not write it.
    """
    check_opset(opset)
    require('onnx')
    require('onnxscript')
    example = tuple(program.example_inputs[0])
    onnx_program = torch.onnx.export(program, example, dynamo=True, opset_version=opset,
                                     input_names=[INPUT_NAME], output_names=list(outputs),
                                     verbose=False)
    written = onnx_program.model.opset_imports.get('')
    if written != opset:
        raise UnsupportedOpsetError(f'--opset {opset}: the exporter wrote opset {written} '
                                    f'instead; use opset {written}')
    onnx_program.model.metadata_props.update(to_props(metadata))
    onnx_program.save(path)


def save_exported_program(program: torch.export.ExportedProgram, path: str,
                          metadata: Mapping[str, Any]) -> str:
    """Save the program (``torch.export.save``) with the metadata inside
    (extra file :data:`~mmhier.deploy.metadata.EXTRA_FILE`) and next to it.

    Returns:
        The sidecar JSON file.
    """
    text = json.dumps(dict(metadata), ensure_ascii=False, indent=1)
    torch.export.save(program, path, extra_files={EXTRA_FILE: text})
    sidecar = sidecar_path(path)
    with open(sidecar, 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    return sidecar
