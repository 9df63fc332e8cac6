"""Checking a checkpoint file before a tool loads it.

``torch.load`` on a damaged file fails with whatever its reader trips over
(``UnpicklingError``, ``EOFError``, ``RuntimeError: PytorchStreamReader
failed ...``), a pickle of something else fails later with an
``IndexError``/``KeyError``, and weights of another model load "fine"
(MMEngine loads non-strictly and only logs the missing keys). Each of these
becomes one :class:`CheckpointError` naming the file and what to do.

Rule for all tools: a checkpoint that does not exist is
:class:`CheckpointNotFoundError` (exit status 1, like any missing input file);
URLs and other remote paths (``https://``, ``open-mmlab://``, ...) are left
to MMEngine.
"""
from __future__ import annotations

import os
import traceback
import zipfile
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from mmhier.tool_support.errors import CheckpointError, CheckpointNotFoundError

if TYPE_CHECKING:
    from mmhier.taxonomy import Taxonomy

#: What to do with a damaged file.
_REPLACE = ('download or copy it again, or use another checkpoint')


def is_remote(path: str) -> bool:
    """Whether ``path`` is a URL or scheme path MMEngine loads itself."""
    return '://' in str(path)


def _folder_hint(path: str) -> str:
    names = sorted(n for n in os.listdir(path) if n.endswith('.pth'))
    if not names:
        return 'pass a .pth checkpoint file'
    last = os.path.join(path, 'last_checkpoint')
    if os.path.isfile(last):
        with open(last, encoding='utf-8', errors='replace') as f:
            latest = f.read().strip()
        return f'pass a .pth file in it, e.g. the latest one: {latest}'
    return f'pass a .pth file in it, e.g. {os.path.join(path, names[-1])}'


def read_checkpoint(path: str, purpose: str = 'checkpoint') -> dict:
    """Load a local checkpoint on the CPU (memory-mapped where the format
    allows, so checking a large file is cheap) and check it holds weights.

    Args:
        path: The checkpoint file.
        purpose: Where the path comes from, for the messages (e.g.
            ``'--resume'``, ``'load_from'``).

    Returns:
        The checkpoint dict (with ``state_dict``, or a bare state dict).

    Raises:
        CheckpointNotFoundError: ``path`` does not exist.
        CheckpointError: ``path`` is a folder, empty, unreadable (damaged,
            truncated, not a PyTorch file) or holds no weights.
    """
    import torch
    if not os.path.exists(path):
        raise CheckpointNotFoundError(path, f'does not exist ({purpose}); check the path')
    if os.path.isdir(path):
        raise CheckpointError(path, f'is a folder, not a checkpoint file ({purpose}); '
                              f'{_folder_hint(path)}')
    if os.path.getsize(path) == 0:
        raise CheckpointError(path, 'is empty (0 bytes): its saving or copying was '
                              f'interrupted; {_REPLACE}')
    try:
        if zipfile.is_zipfile(path):
            obj = torch.load(path, map_location='cpu', weights_only=False, mmap=True)
        else:  # legacy (non-zip) format, or no PyTorch file at all
            obj = torch.load(path, map_location='cpu', weights_only=False)
    except ImportError as exc:
        raise CheckpointError(path, f'needs the Python module {exc.name!r} to load '
                              '(it holds pickled objects of it); install it') from exc
    except Exception as exc:  # noqa: BLE001 - any reader failure means a bad file
        text = _looks_like_text(path)
        if text is not None:
            raise CheckpointError(path, f'is a text file, not a PyTorch checkpoint (it '
                                  f'starts with {text[:40]!r}: an HTML page saved by a '
                                  f'failed download, a Git LFS pointer?): {_REPLACE}') from exc
        raise CheckpointError(path, f'cannot be read as a PyTorch checkpoint '
                              f'({_first_line(exc)}); it is truncated or damaged, or no '
                              f'checkpoint at all: {_REPLACE}') from exc
    check_contents(path, obj)
    return obj


def _first_line(exc: BaseException) -> str:
    """The exception's type and first sentence."""
    text = str(exc).strip().splitlines()
    if not text:
        return type(exc).__name__
    sentence = text[0].split('. ')[0].rstrip('.')
    return f'{type(exc).__name__}: {sentence[:200]}'


def _looks_like_text(path: str) -> Optional[str]:
    """The start of the file if it is text (an HTML error page, a Git LFS
    pointer, ...), else ``None``."""
    with open(path, 'rb') as f:
        head = f.read(64)
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        return None
    if not text or any(ord(c) < 32 and c not in '\t\r\n' for c in text):
        return None
    return text


def state_dict_of(checkpoint: Mapping) -> Mapping:
    """The weights of a checkpoint: its ``state_dict``, or the checkpoint
    itself if it is a bare state dict."""
    return checkpoint.get('state_dict', checkpoint)


def check_contents(path: str, checkpoint: Any) -> None:
    """Raise :class:`CheckpointError` unless ``checkpoint`` is a dict of
    weights (a bare state dict, or a dict with a ``state_dict`` of them)."""
    import torch
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(path, f'holds a {type(checkpoint).__name__}, not a '
                              'checkpoint (a dict with a "state_dict" of tensors, as '
                              'training runs save them); use the .pth file the training '
                              'run wrote')
    state = state_dict_of(checkpoint)
    if not isinstance(state, Mapping) or not any(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(path, 'holds no weights (no tensors in its "state_dict", '
                              f'keys: {_sample(checkpoint)}); use the .pth file the '
                              'training run wrote')


def _sample(keys: Any, count: int = 4) -> str:
    keys = [str(k) for k in keys]
    shown = ', '.join(repr(k) for k in keys[:count])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > count else '') \
        if keys else 'none'


def check_resumable(path: str, checkpoint: Mapping) -> None:
    """Raise :class:`CheckpointError` unless a training run can resume from
    ``checkpoint`` (it needs the ``meta`` with the epoch and iteration)."""
    meta = checkpoint.get('meta')
    if not isinstance(meta, Mapping) or 'iter' not in meta or 'epoch' not in meta:
        raise CheckpointError(path, 'was not saved by a training run (no "meta" with '
                              'epoch and iter), so training cannot resume from it; to '
                              'start from its weights, use --cfg-options '
                              f'load_from={path} without --resume')


def check_fits_model(path: str, checkpoint: Mapping, model: Any) -> None:
    """Raise :class:`CheckpointError` if none of the checkpoint's weights
    fit ``model`` (no name in common with the same shape): the weights of
    another model, which MMEngine would load as nothing at all.

    Args:
        path: The checkpoint file (for the message).
        checkpoint: The loaded checkpoint.
        model: The model (a DDP-style wrapper is unwrapped).
    """
    model = getattr(model, 'module', model)
    ours = model.state_dict()
    theirs = {strip_module(k): v for k, v in state_dict_of(checkpoint).items()}
    common = [k for k in theirs if k in ours and hasattr(ours[k], 'shape')]
    fitting = [k for k in common if getattr(theirs[k], 'shape', None) == ours[k].shape]
    if fitting or not ours:
        return
    if common:
        key = common[0]
        detail = (f'{len(common)} names in common but no shape fits, e.g. {key!r}: '
                  f'{tuple(theirs[key].shape)} in the checkpoint, '
                  f'{tuple(ours[key].shape)} in the model')
    else:
        detail = (f'no name in common: the checkpoint has {_sample(theirs)}, the model '
                  f'{_sample(ours)}')
    raise CheckpointError(path, f'none of its {len(theirs)} weights fit the model of '
                          f'the config ({detail}); it belongs to another model: use a '
                          'checkpoint trained with this config')


def strip_module(key: str) -> str:
    """A state-dict key as MMEngine loads it: ``module.x`` (saved from a
    DDP-wrapped model) becomes ``x``."""
    return key[len('module.'):] if key.startswith('module.') else key


def check_checkpoint(path: Optional[str], model: Any = None, *, resume: bool = False,
                     purpose: str = 'checkpoint') -> Optional[dict]:
    """Everything a tool checks before MMEngine loads ``path``.

    Args:
        path: The checkpoint (``None`` or a remote path: nothing checked).
        model: Check the weights fit this model (if given).
        resume: Check training can resume from it.
        purpose: Where the path comes from, for the messages.

    Returns:
        The loaded checkpoint, or ``None`` if nothing was checked.

    Raises:
        CheckpointNotFoundError: The file does not exist.
        CheckpointError: It cannot be used (see :func:`read_checkpoint`,
            :func:`check_resumable`, :func:`check_fits_model`).
    """
    if path is None or is_remote(path):
        return None
    checkpoint = read_checkpoint(path, purpose)
    if resume:
        check_resumable(path, checkpoint)
    if model is not None:
        check_fits_model(path, checkpoint, model)
    return checkpoint


def explain_checkpoint_error(exc: BaseException) -> Optional[CheckpointError]:
    """A :class:`CheckpointError` for an exception raised inside
    ``torch.load`` of a local file (the checks above missed the damage, e.g.
    in the middle of a memory-mapped file), else ``None``."""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        code = frame.f_code
        if code.co_name == 'load' and code.co_filename.endswith(
                os.path.join('torch', 'serialization.py')):
            source = frame.f_locals.get('f')
            if isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
                return CheckpointError(os.fspath(source), f'cannot be read as a PyTorch '
                                       f'checkpoint ({_first_line(exc)}); it is damaged: '
                                       f'{_REPLACE}')
    return None


def register_checkpoint_taxonomies(checkpoint: Union[str, os.PathLike, dict],
                                   origin: Optional[str] = None) -> list['Taxonomy']:
    """Make a checkpoint's embedded taxonomies available to ``load_taxonomy``
    for configs whose taxonomy file is missing (files that exist win).

    Args:
        checkpoint: A local checkpoint file, or a loaded checkpoint / state
            dict. Remote paths (``https://``, ...) are skipped.
        origin: Where a loaded checkpoint came from, for messages.

    Returns:
        The registered taxonomies (empty for checkpoints without records).

    Raises:
        TaxonomyError: An embedded taxonomy is invalid.
    """
    if isinstance(checkpoint, (str, os.PathLike)):
        path = os.fspath(checkpoint)
        if '://' in path or not os.path.isfile(path):
            return []
        import torch
        loaded = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
        origin = path
    else:
        loaded, origin = checkpoint, origin or '<checkpoint>'
    if not isinstance(loaded, Mapping):  # no checkpoint dict: nothing embedded
        return []
    from mmhier.models.heads.taxonomy_state import checkpoint_taxonomy_records
    from mmhier.taxonomy.embedded import register_taxonomy_records
    records = checkpoint_taxonomy_records(state_dict_of(loaded))
    return register_taxonomy_records(records, origin)
