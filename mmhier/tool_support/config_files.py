"""A config file and its ``_base_`` files as source text: which files there
are, which of them are missing or not valid Python, and on which line a key
or a type name is written.

Only Python configs (``.py``) are read; package-scoped bases
(``'mmseg::_base_/...'``) are left to MMEngine.
"""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional


@dataclass(frozen=True)
class SourceProblem:
    """A config file that cannot be read.

    Args:
        file: The file the problem is in (for a missing base: the config
            naming it).
        line: 1-based line, where known.
        message: What is wrong and how to fix it.
    """

    file: str
    line: Optional[int]
    message: str


@dataclass(frozen=True)
class Location:
    """Where something is written in a config file.

    Args:
        file: The config or ``_base_`` file.
        line: 1-based line.
    """

    file: str
    line: int


def _parse(path: str) -> Optional[ast.Module]:
    try:
        with open(path, encoding='utf-8') as f:
            return ast.parse(f.read(), filename=path)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None


def _base_references(path: str, tree: ast.Module) -> Iterator[tuple[str, int]]:
    """``(resolved base file, line)`` of each base a config names: the
    ``_base_ = ...`` strings and the relative imports inside
    ``with read_base():``."""
    folder = os.path.dirname(os.path.abspath(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) \
                else [node.value]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str) \
                        and '::' not in value.value:
                    yield os.path.normpath(os.path.join(folder, value.value)), value.lineno
        elif isinstance(node, ast.With):
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.level:
                    base = folder
                    for _ in range(stmt.level - 1):
                        base = os.path.dirname(base)
                    parts = (stmt.module or '').split('.') if stmt.module else []
                    targets = [os.path.join(base, *parts)] if parts else \
                        [os.path.join(base, alias.name) for alias in stmt.names]
                    for target in targets:
                        yield f'{target}.py', stmt.lineno


def config_chain(config: str) -> list[str]:
    """The config and all its (existing, readable) base files, the config
    first, each base after the file naming it."""
    chain: list[str] = []

    def visit(path: str) -> None:
        path = os.path.normpath(os.path.abspath(path))
        if path in chain or not os.path.isfile(path):
            return
        chain.append(path)
        tree = _parse(path)
        if tree is not None:
            for base, _ in _base_references(path, tree):
                visit(base)
    visit(config)
    return [_shown(p, config) for p in chain]


def _shown(path: str, config: str) -> str:
    """``path`` as the user gave it for the config itself, else absolute."""
    return config if os.path.abspath(config) == path else path


def source_problems(config: str) -> list[SourceProblem]:
    """Syntax errors and missing ``_base_`` files of a config and its bases,
    all of them.

    Args:
        config: A Python config file (other formats give no problems).
    """
    problems: list[SourceProblem] = []
    seen: set[str] = set()

    def visit(path: str) -> None:
        key = os.path.normpath(os.path.abspath(path))
        if key in seen or not key.endswith('.py'):
            return
        seen.add(key)
        shown = _shown(key, config)
        try:
            with open(key, encoding='utf-8') as f:
                text = f.read()
        except UnicodeDecodeError as exc:
            problems.append(SourceProblem(shown, None, f'not UTF-8 text ({exc.reason} at '
                                          f'byte {exc.start}); save it as UTF-8'))
            return
        except OSError:
            return
        try:
            tree = ast.parse(text, filename=key)
        except SyntaxError as exc:
            problems.append(SourceProblem(shown, exc.lineno, f'syntax error: {exc.msg}'
                                          f'{_caret(exc)}; fix the Python syntax'))
            return
        for base, line in _base_references(key, tree):
            if os.path.isfile(base):
                visit(base)
            else:
                problems.append(SourceProblem(
                    shown, line, f'_base_ file {base} does not exist; fix the path '
                    '(relative to this config\'s folder) or remove it from _base_'))
    visit(config)
    return problems


def _caret(exc: SyntaxError) -> str:
    text = (exc.text or '').strip()
    return f' in {text!r}' if text else ''


def _entry(node: ast.AST, name: str) -> Optional[tuple[ast.AST, ast.AST]]:
    """``(key node, value node)`` of key ``name`` in ``dict(...)`` or
    ``{...}``, else ``None``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == 'dict':
        for kw in node.keywords:
            if kw.arg == name:
                return kw, kw.value
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and key.value == name:
                return key, value
    return None


def _type_name(node: ast.AST) -> Optional[str]:
    """The class name a dict node's ``type`` names (scope prefix dropped)."""
    entry = _entry(node, 'type')
    value = entry[1] if entry else None
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value.split('.')[-1]
    if isinstance(value, (ast.Name, ast.Attribute)):
        return value.id if isinstance(value, ast.Name) else value.attr
    return None


def _dict_nodes(config: str) -> Iterator[tuple[str, ast.AST]]:
    """``dict(...)`` / ``{...}`` nodes of the config chain, the config first,
    each file's in the order they are written."""
    for path in config_chain(config):
        tree = _parse(os.path.abspath(path))
        if tree is None:
            continue
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Call, ast.Dict))]
        for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset)):
            yield path, node


def _keys(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Call):
        return {kw.arg for kw in node.keywords if kw.arg}
    return {k.value for k in node.keys if isinstance(k, ast.Constant)}


def find_dict(config: str, keys: Iterable[str]) -> Optional[Location]:
    """Where a dict with all of ``keys`` (as written: ``dict(...)`` or
    ``{...}``) starts in the config or its bases (the first one)."""
    wanted = set(keys)
    for path, node in _dict_nodes(config):
        if wanted and wanted <= _keys(node):
            return Location(path, node.lineno)
    return None


def find_key(config: str, key: str, type_name: Optional[str] = None) -> Optional[Location]:
    """Where ``key`` is written as a dict key (``dict(key=...)`` or
    ``{'key': ...}``) in the config or its bases.

    Args:
        config: The config file.
        key: The key.
        type_name: Prefer a dict whose ``type`` is this class name.

    Returns:
        The first place in a dict of type ``type_name``, else the first place
        at all (config before bases), else ``None``.
    """
    first = None
    for path, node in _dict_nodes(config):
        entry = _entry(node, key)
        if entry is None:
            continue
        here = Location(path, entry[0].lineno)
        if type_name is None or _type_name(node) == type_name:
            return here
        first = first or here
    return first


def find_assignment(config: str, name: str) -> Optional[Location]:
    """Where the top-level variable ``name`` is assigned (``name = ...``) in
    the config or its bases: the last assignment (the one that counts) of the
    first file that has one, the config first."""
    for path in config_chain(config):
        tree = _parse(os.path.abspath(path))
        last = None
        for node in tree.body if tree is not None else ():
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                last = Location(path, node.lineno)
        if last is not None:
            return last
    return None


def find_module_name(config: str, module: str) -> Optional[Location]:
    """Where a string naming ``module`` (or a module inside it, e.g. in
    ``custom_imports``) is written in the config or its bases."""
    for path in config_chain(config):
        tree = _parse(os.path.abspath(path))
        strings = [n for n in ast.walk(tree) if isinstance(n, ast.Constant)
                   and isinstance(n.value, str)] if tree is not None else []
        for node in sorted(strings, key=lambda n: n.lineno):
            if node.value == module or node.value.startswith(module + '.'):
                return Location(path, node.lineno)
    return None


def find_type(config: str, type_name: str) -> Optional[Location]:
    """Where ``type=<type_name>`` is written in the config or its bases
    (the first place; ``None`` if nowhere, e.g. set by ``--cfg-options``)."""
    for path, node in _dict_nodes(config):
        if _type_name(node) == type_name.split('.')[-1]:
            return Location(path, _entry(node, 'type')[0].lineno)
    return None
