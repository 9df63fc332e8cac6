"""Exports of a taxonomy for people and for other programs.

- :func:`to_dot`: a Graphviz digraph (render with ``dot -Tsvg tax.dot``),
- :func:`to_mermaid`: a Mermaid flowchart (renders in GitHub Markdown),
- :func:`to_json` / :func:`from_json`: the file format as JSON plus a
  ``derived`` section (classifiers, levels, hashes, supervision) for other
  programs; :func:`from_json` loads such a file back,
- :func:`draw_png`: a left-to-right tree picture drawn with matplotlib.

Classifiers (inner nodes) are shown as ``name [k]`` with ``k`` children and
get one colour per classifier level (:func:`level_colors`); leaves are shown
by name. The text exports are deterministic: the same taxonomy always gives
the same text. Only :func:`draw_png` needs matplotlib, imported when called.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Union

import numpy as np

from mmhier.taxonomy.errors import TaxonomyError
from mmhier.taxonomy.taxonomy import Taxonomy

#: Key of the section that :func:`to_json` adds to the file format.
DERIVED_KEY = 'derived'
#: Edge colours of classifier levels 1, 2, ... (Tableau 10), repeating.
LEVEL_PALETTE = ('#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948',
                 '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac')
LEAF_EDGE = '#9a9a9a'
#: Vertical space of one leaf row in :func:`draw_png`, in inches.
ROW_HEIGHT_IN = 0.18
MIN_HEIGHT_IN = 3.0
#: Agg cannot write images of 2**16 pixels or more in either direction.
_MAX_PIXELS = 2**16 - 1
_INT_KEY = re.compile(r'^-?\d+$')
#: Padding of label boxes in :func:`draw_png`, in font sizes.
_BOX_PAD = 0.22


# ---------------------------------------------------------------- shared
def level_colors(level: int) -> tuple[str, str]:
    """Edge and fill colour of the classifiers of one level.

    Args:
        level: Classifier level; the root classifier is level 1.

    Returns:
        ``(edge, fill)`` as ``'#rrggbb'``; the fill is a light tint of the edge.
    """
    edge = LEVEL_PALETTE[(level - 1) % len(LEVEL_PALETTE)]
    return edge, _lighten(edge, 0.78)


def node_fills(tax: Taxonomy) -> tuple[list[str], list[str]]:
    """Fill and text colour of every node in the pictures: the fill is the
    node's colour in mmhier's one palette
    (:func:`~mmhier.taxonomy.palette.hierarchical_palette`, the colours of
    overlays and MMSeg's visualizer), the text black or white, whichever
    contrasts more.

    Args:
        tax: The taxonomy.

    Returns:
        ``(fills, texts)``: ``'#rrggbb'`` per node, in node order.
    """
    from mmhier.taxonomy.palette import hierarchical_palette
    palette = hierarchical_palette(tax).astype(np.float64)
    linear = np.where(palette / 255 <= 0.04045, palette / 255 / 12.92,
                      ((palette / 255 + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    # WCAG contrast: black text wins where (L + 0.05) / 0.05 > 1.05 / (L + 0.05)
    texts = ['#000000' if lum > 0.179 else '#ffffff' for lum in luminance.tolist()]
    fills = ['#' + ''.join(f'{int(c):02x}' for c in rgb) for rgb in palette.tolist()]
    return fills, texts


def _lighten(color: str, amount: float) -> str:
    """Mixes a ``'#rrggbb'`` colour with white (``amount`` 1 gives white)."""
    rgb = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return '#' + ''.join(f'{round(c + (255 - c) * amount):02x}' for c in rgb)


def child_counts(tax: Taxonomy) -> np.ndarray:
    """Number of children of every node.

    Args:
        tax: The taxonomy.

    Returns:
        ``(N,)`` int64, 0 for leaves.
    """
    return np.bincount(tax.parent_index[1:], minlength=tax.num_nodes)


def node_labels(tax: Taxonomy) -> tuple[str, ...]:
    """Display label of every node: ``name [k]`` for classifiers, else the name.

    Args:
        tax: The taxonomy.

    Returns:
        One label per node, in node (preorder) order.
    """
    counts = child_counts(tax).tolist()
    return tuple(f'{name} [{k}]' if k else name for name, k in zip(tax.nodes, counts))


def _count(n: int, singular: str, plural: str) -> str:
    """``'1 leaf'``, ``'2 leaves'``."""
    return f'{n} {singular if n == 1 else plural}'


def summary(tax: Taxonomy) -> str:
    """One line naming the taxonomy and its size, used as title by exports.

    Args:
        tax: The taxonomy.

    Returns:
        E.g. ``'tiny_street: 22 nodes, 5 classifiers, 17 leaves, 3 levels'``.
    """
    counts = (_count(tax.num_nodes, 'node', 'nodes'),
              _count(tax.num_classifiers, 'classifier', 'classifiers'),
              _count(tax.num_leaves, 'leaf', 'leaves'),
              _count(tax.num_levels, 'level', 'levels'))
    return f"{tax.name}: {', '.join(counts)}"


def tree_layout(tax: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """A tidy left-to-right layout of the tree.

    Leaves take consecutive rows in preorder; an inner node sits at the mean
    row of its children. Runs one vectorised pass per level.

    Args:
        tax: The taxonomy.

    Returns:
        ``(column, row)``: ``(N,)`` int64 column (the node's level) and
        ``(N,)`` float64 row of every node.
    """
    parent, depth = tax.parent_index, tax.node_level
    counts = child_counts(tax)
    row = np.zeros(tax.num_nodes, dtype=np.float64)
    row[tax.leaf_indices] = np.arange(tax.num_leaves, dtype=np.float64)
    for level in range(tax.num_levels, 0, -1):  # children are final before parents
        at = np.flatnonzero(depth == level)
        sums = np.bincount(parent[at], weights=row[at], minlength=tax.num_nodes)
        parents = np.unique(parent[at])
        row[parents] = sums[parents] / counts[parents]
    return np.array(depth, dtype=np.int64), row


# ------------------------------------------------------------------ DOT
def _dot_quote(text: str) -> str:
    """A DOT double-quoted string: escapes backslashes, quotes and newlines."""
    escaped = text.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
    return f'"{escaped}"'


def to_dot(tax: Taxonomy) -> str:
    """The tree as a Graphviz digraph, laid out left to right.

    Node ids are the quoted node names; every node gets an explicit label
    and is filled with its palette colour (:func:`node_fills`). Classifiers
    are bold boxes labelled ``name [k]`` outlined in their level's colour
    (:func:`level_colors`); leaves are ellipses. Edges go parent ->
    child, grouped by classifier in preorder and in child order
    (``ordering=out`` keeps that order in the drawing).

    Args:
        tax: The taxonomy.

    Returns:
        DOT source ending with a newline, e.g.
        ``"driveable" -> "road";`` for each edge.
    """
    labels, counts, depth = node_labels(tax), child_counts(tax), tax.node_level
    lines = [f'digraph {_dot_quote(tax.name)} {{',
             f'  graph [rankdir=LR, ordering=out, labelloc=t, fontname="Helvetica", '
             f'label={_dot_quote(summary(tax))}];',
             '  node [fontname="Helvetica", fontsize=10];',
             f'  edge [arrowsize=0.5, color="{LEAF_EDGE}"];']
    fills, texts = node_fills(tax)
    for i, name in enumerate(tax.nodes):
        colours = f'fillcolor="{fills[i]}", fontcolor="{texts[i]}"'
        if counts[i]:
            edge, _ = level_colors(int(depth[i]) + 1)
            style = (f'shape=box, style="rounded,filled,bold", color="{edge}", '
                     f'{colours}, fontname="Helvetica-Bold"')
        else:
            style = f'shape=ellipse, style=filled, color="{LEAF_EDGE}", {colours}'
        lines.append(f'  {_dot_quote(name)} [label={_dot_quote(labels[i])}, {style}];')
    for c in tax.classifiers:
        parent = _dot_quote(c.node)
        lines.extend(f'  {parent} -> {_dot_quote(child)};' for child in c.children)
    lines.append('}')
    return '\n'.join(lines) + '\n'


# -------------------------------------------------------------- Mermaid
def _mermaid_text(text: str) -> str:
    """Label text safe inside Mermaid double quotes (entity codes)."""
    text = text.replace('#', '#35;').replace('"', '#quot;')
    text = text.replace('<', '#lt;').replace('>', '#gt;')
    return ' '.join(text.splitlines())


def to_mermaid(tax: Taxonomy) -> str:
    """The tree as a Mermaid ``flowchart LR``.

    Node ids are ``n0, n1, ...`` by node index, so any name is safe; labels
    are quoted with ``"`` written as ``#quot;`` (and ``#``, ``<``, ``>`` as
    entity codes). Classifiers are boxes ``nI["name [k]"]:::classifierL<l>``
    outlined by one ``classDef`` per classifier level; leaves are rounded.
    After the nodes comes one ``nP --> nC`` line per edge, in the same order
    as :func:`to_dot`, then one ``style nI fill:...,color:...`` line per node
    (its palette colour, :func:`node_fills`).

    Args:
        tax: The taxonomy.

    Returns:
        Mermaid source ending with a newline; the first line is
        ``flowchart LR``, the second a ``%%`` comment with the summary.
    """
    labels, counts, depth = node_labels(tax), child_counts(tax), tax.node_level
    lines = ['flowchart LR', f"  %% {' '.join(summary(tax).splitlines())}"]
    for i, label in enumerate(labels):
        text = _mermaid_text(label)
        lines.append(f'  n{i}["{text}"]:::classifierL{int(depth[i]) + 1}'
                     if counts[i] else f'  n{i}("{text}")')
    for c in tax.classifiers:
        lines.extend(f'  n{c.node_index} --> n{child}'
                     for child in c.child_indices.tolist())
    for level in sorted({c.level for c in tax.classifiers}):
        edge, fill = level_colors(level)
        lines.append(f'  classDef classifierL{level} fill:{fill},stroke:{edge},'
                     'stroke-width:2px,font-weight:bold')
    fills, texts = node_fills(tax)
    lines.extend(f'  style n{i} fill:{fill},color:{text}'
                 for i, (fill, text) in enumerate(zip(fills, texts)))
    return '\n'.join(lines) + '\n'


# ----------------------------------------------------------------- JSON
def derived_dict(tax: Taxonomy) -> dict[str, Any]:
    """Facts derived from a taxonomy, as written by :func:`to_json`.

    Args:
        tax: The taxonomy.

    Returns:
        ``{'classifiers': [{'node', 'level', 'children'}], 'leaves': [...],
        'levels': {node: level}, 'content_hash', 'tree_hash',
        'supervision': {dataset: [trained classifier nodes]}}``.
    """
    return {
        'classifiers': [{'node': c.node, 'level': c.level, 'children': list(c.children)}
                        for c in tax.classifiers],
        'leaves': list(tax.leaves),
        'levels': dict(zip(tax.nodes, tax.node_level.tolist())),
        'content_hash': tax.content_hash,
        'tree_hash': tax.tree_hash,
        'supervision': {key: list(tax.trained_classifiers(key))
                        for key in tax.dataset_keys},
    }


def to_json(tax: Taxonomy) -> str:
    """The taxonomy as JSON: the file format plus a ``derived`` section.

    The top level is :meth:`Taxonomy.to_dict` (``name``, ``description``,
    ``tree``, ``datasets``) with :data:`DERIVED_KEY` added
    (:func:`derived_dict`). ``Taxonomy.from_dict`` rejects unknown top-level
    keys, so load the text with :func:`from_json`, which drops ``derived``
    and turns the class ids back into integers (JSON keys are strings).
    Values JSON cannot hold (e.g. dates in attributes) are written as strings.

    Args:
        tax: The taxonomy.

    Returns:
        JSON text with 2-space indents, ending with a newline.

    Raises:
        TaxonomyError: The tree is too deep for the JSON encoder (about a
            thousand levels); export it with :func:`to_dot` instead.
    """
    data = tax.to_dict()
    data[DERIVED_KEY] = derived_dict(tax)
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + '\n'
    except RecursionError:
        raise TaxonomyError(f'taxonomy {tax.name!r} ({tax.source}) is {tax.num_levels} '
                            'levels deep, too deep for nested JSON\n    hint: export '
                            'it with --format dot or mermaid') from None


def _int_class_ids(datasets: Any) -> None:
    """Turns the string class-id keys of every dataset back into ints, in place.

    Keys that are not integers are kept, so validation reports them.
    """
    if not isinstance(datasets, dict):
        return
    for entry in datasets.values():
        classes = entry.get('classes') if isinstance(entry, dict) else None
        if isinstance(classes, dict):
            entry['classes'] = {int(k) if isinstance(k, str) and _INT_KEY.match(k)
                                else k: v for k, v in classes.items()}


def from_json(text: str, source: str = '<json>') -> Taxonomy:
    """Load a taxonomy from JSON written by :func:`to_json`.

    Plain JSON of the file format (without ``derived``) loads too. The
    ``derived`` section is dropped (it is recomputed from the rest) and
    class-id keys are turned back into integers before validation.
    Attribute keys stay strings.

    Args:
        text: The JSON text.
        source: Name for messages.

    Returns:
        The validated taxonomy; ``from_json(to_json(t)).content_hash ==
        t.content_hash``.

    Raises:
        TaxonomyError: The text is not valid JSON (or nested too deeply).
        TaxonomyValidationError: The taxonomy has errors.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise TaxonomyError(f'{source}:{err.lineno}:{err.colno}: JSON syntax error: '
                            f'{err.msg}') from None
    except RecursionError:
        raise TaxonomyError(f'{source}: JSON nested too deeply to read') from None
    except ValueError as err:  # e.g. an integer with thousands of digits
        raise TaxonomyError(f'{source}: invalid JSON: {str(err)[:200]}') from None
    if isinstance(data, dict):
        data.pop(DERIVED_KEY, None)
        _int_class_ids(data.get('datasets'))
    return Taxonomy.from_dict(data, source)


# ------------------------------------------------------------------ PNG
def _import_matplotlib() -> SimpleNamespace:
    """The matplotlib pieces :func:`draw_png` needs, without a global backend.

    Raises:
        TaxonomyError: matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure
        from matplotlib.font_manager import FontProperties
    except ImportError as err:
        raise TaxonomyError('drawing a taxonomy as PNG needs matplotlib, which is not '
                            'installed\n    hint: pip install matplotlib') from err
    return SimpleNamespace(Figure=Figure, FigureCanvasAgg=FigureCanvasAgg,
                           LineCollection=LineCollection, FontProperties=FontProperties)


def _text_widths(renderer: Any, texts: Any, font: Any, dpi: float) -> np.ndarray:
    """Widths of plain (non-math) texts in inches."""
    return np.array([renderer.get_text_width_height_descent(t, font, ismath=False)[0]
                     for t in texts], dtype=np.float64) / dpi


def _connectors(tax: Taxonomy, box_left: np.ndarray, box_right: np.ndarray,
                y: np.ndarray, gap: float) -> tuple[list, list]:
    """Elbow lines parent -> children, in the parent's level colour.

    Each classifier gets a stub from its box to the middle of the gap before
    the next column, one vertical line over its children and a stub to each
    child. Returns the segments and one colour per segment.
    """
    segments: list = []
    colors: list = []
    for c in tax.classifiers:
        kids = c.child_indices
        elbow = float(box_left[kids].min()) - gap / 2
        mine = [[(box_right[c.node_index], y[c.node_index]), (elbow, y[c.node_index])],
                [(elbow, y[kids].min()), (elbow, y[kids].max())]]
        mine += [[(elbow, yk), (xk, yk)] for xk, yk in
                 zip(box_left[kids].tolist(), y[kids].tolist())]
        segments += mine
        colors += [level_colors(c.level)[0]] * len(mine)
    return segments, colors


def draw_png(tax: Taxonomy, path: Union[str, os.PathLike], dpi: int = 150,
             font_size: float = 8.0) -> Path:
    """Draw the tree left to right and save it as PNG.

    Columns are levels, leaves take one row each (:data:`ROW_HEIGHT_IN`) in
    preorder and inner nodes sit at the mean row of their children
    (:func:`tree_layout`). Every label box is filled with the node's palette
    colour (:func:`node_fills`); classifiers are bold ``name [k]`` boxes
    outlined in their level's colour, connected to their children by elbow
    lines of that colour. Column widths fit the longest label of each level, so the figure
    is as wide as the labels need and as high as the number of leaves needs
    (at least :data:`MIN_HEIGHT_IN`). Uses matplotlib's Agg canvas directly:
    the pyplot backend is neither used nor changed.

    Args:
        tax: The taxonomy.
        path: The PNG file to write; its folder must exist.
        dpi: Resolution in dots per inch.
        font_size: Label size in points; the title is 3 points larger.

    Returns:
        The path written.

    Raises:
        TaxonomyError: matplotlib is not installed, or the image would exceed
            what Agg can write (lower ``dpi`` or use :func:`to_dot`).
    """
    mpl = _import_matplotlib()
    fig = mpl.Figure(dpi=dpi)
    canvas = mpl.FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    plain = mpl.FontProperties(size=font_size)
    bold = mpl.FontProperties(size=font_size, weight='bold')
    title_font = mpl.FontProperties(size=font_size + 3, weight='bold')

    labels = [' '.join(label.splitlines()) for label in node_labels(tax)]  # one row
    inner = child_counts(tax) > 0
    column, row = tree_layout(tax)
    widths = np.where(inner, _text_widths(renderer, labels, bold, dpi),
                      _text_widths(renderer, labels, plain, dpi))
    pad = _BOX_PAD * font_size / 72  # in inches
    gap, margin, top, bottom = 0.4, 0.2, 0.55, 0.2
    box_width = widths + 2 * pad
    column_width = np.zeros(tax.num_levels + 1)
    np.maximum.at(column_width, column, box_width)
    column_left = margin + np.concatenate([[0.0], np.cumsum(column_width + gap)[:-1]])
    title = ' '.join(summary(tax).splitlines())
    title_width = _text_widths(renderer, [title], title_font, dpi)[0]
    width = max(column_left[-1] + column_width[-1], margin + title_width) + margin
    content = top + bottom + tax.num_leaves * ROW_HEIGHT_IN
    height = max(MIN_HEIGHT_IN, content)
    if max(width, height) * dpi > _MAX_PIXELS:
        raise TaxonomyError(f'a PNG of taxonomy {tax.name!r} at {dpi} dpi would be '
                            f'{width * dpi:.0f} x {height * dpi:.0f} pixels, more than '
                            'matplotlib can write\n    hint: lower dpi, or export '
                            'with to_dot / to_mermaid')
    fig.set_size_inches(width, height)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, width)
    ax.set_ylim(height, 0.0)  # inches, y downwards: first leaf on top
    ax.set_axis_off()

    y = top + (height - content) / 2 + (row + 0.5) * ROW_HEIGHT_IN
    box_left = column_left[column]
    segments, colors = _connectors(tax, box_left, box_left + box_width, y, gap)
    ax.add_collection(mpl.LineCollection(segments, colors=colors, linewidths=0.9,
                                         zorder=1))
    fills, texts = node_fills(tax)
    for i, label in enumerate(labels):
        edge = level_colors(int(column[i]) + 1)[0] if inner[i] else LEAF_EDGE
        fill = fills[i]
        ax.text(box_left[i] + pad, y[i], label, ha='left', va='center', color=texts[i],
                fontproperties=bold if inner[i] else plain, parse_math=False,
                zorder=2, bbox={'boxstyle': f'round,pad={_BOX_PAD}', 'facecolor': fill,
                                'edgecolor': edge, 'linewidth': 1.2 if inner[i] else 0.6})
    ax.text(margin, top / 2, title, ha='left', va='center', fontproperties=title_font,
            parse_math=False)
    fig.savefig(path, format='png', dpi=dpi)
    return Path(path)
