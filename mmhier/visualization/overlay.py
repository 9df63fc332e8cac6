"""Pictures of taxonomy labels and predictions: colour overlays and
hierarchy legends.

A **node map** is an ``(H, W)`` integer array of taxonomy node ids (what
``TaxonomyEncoderDecoder`` predicts); values outside ``0 .. num_nodes - 1``
(e.g. ``-1``, ignored) are not coloured. A **label map** follows the
label-map contract of :mod:`mmhier.structures.label_encoding` (target for
per-pixel labels, target + ``T`` for box pseudo labels, ``-1`` ignored; a
target is a node id, or a node set drawn in the colour of its members'
deepest common ancestor); :func:`label_overlay` draws one. Colours are blended with
:func:`~mmhier.taxonomy.oklab.mix_srgb8` at :data:`OVERLAY_ALPHA` unless told
otherwise. Drawing uses matplotlib's Agg canvas directly (``Figure`` +
``FigureCanvasAgg``): no pyplot, no global state, no display needed.
"""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

from mmhier.structures.label_encoding import IGNORE_INDEX, decode_labels
from mmhier.structures.label_space import LabelCodec
from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.oklab import mix_srgb8
from mmhier.taxonomy.palette import OVERLAY_ALPHA, hierarchical_palette

#: Box pseudo labels are drawn as diagonal stripes this many pixels wide:
#: pixel ``(y, x)`` of a box is coloured iff ``(x + y) // BOX_STRIPE_WIDTH``
#: is even; the pixels between the stripes keep the image.
BOX_STRIPE_WIDTH = 3
#: Legend layout in pixels.
LEGEND_WIDTH = 240
ROW_HEIGHT = 18
MARGIN = 6
INDENT = 14
#: Smallest font (pixels) before long names are cut at the legend's edge.
MIN_FONT_PX = 7
_DPI = 100
_BACKGROUND = (255, 255, 255)


def _check_palette(palette: np.ndarray) -> np.ndarray:
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f'palette must have shape (num_nodes, 3), got {palette.shape}')
    return palette.astype(np.uint8, copy=False)


def colorize(node_map: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour every pixel by its node.

    Args:
        node_map: Node id per pixel.
        palette: ``(num_nodes, 3)`` uint8 RGB, e.g. :func:`hierarchical_palette`.

    Returns:
        ``(colours, valid)``: ``(H, W, 3)`` uint8 RGB (black where invalid)
        and the ``(H, W)`` bool map of pixels holding a node id of the palette.

    Raises:
        ValueError: ``node_map`` is not 2-D or not integer, or the palette is
            not ``(N, 3)``.
    """
    palette = _check_palette(palette)
    node_map = np.asarray(node_map)
    if node_map.ndim != 2 or node_map.dtype.kind not in 'iu':
        raise ValueError('node_map must be a 2-D integer array of node ids, got '
                         f'{node_map.dtype} of shape {node_map.shape}')
    valid = (node_map >= 0) & (node_map < len(palette))
    colours = np.zeros(node_map.shape + (3,), dtype=np.uint8)
    colours[valid] = palette[node_map[valid]]
    return colours, valid


def overlay(image: np.ndarray, node_map: np.ndarray, palette: np.ndarray,
            alpha: float = OVERLAY_ALPHA) -> np.ndarray:
    """Blend node colours over an image.

    Args:
        image: ``(H, W, 3)`` uint8 RGB image (or ``(H, W)`` grey).
        node_map: ``(H, W)`` node ids; pixels without a valid id keep the image.
        palette: ``(num_nodes, 3)`` uint8 RGB.
        alpha: Weight of the colours: 0 = image only, 1 = colours only.

    Returns:
        ``(H, W, 3)`` uint8 RGB.

    Raises:
        ValueError: ``alpha`` outside ``[0, 1]`` or image and node map sizes
            differ.
    """
    image = _check_image(image, node_map, alpha, 'node map')
    colours, valid = colorize(node_map, palette)
    out = image.copy()
    out[valid] = mix_srgb8(image[valid], colours[valid], alpha)
    return out


def _check_image(image: np.ndarray, labels: np.ndarray, alpha: float,
                 what: str) -> np.ndarray:
    """``image`` as ``(H, W, 3)`` uint8 after checking it against ``labels``."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be (H, W, 3) RGB, got shape {image.shape}')
    if image.shape[:2] != np.shape(labels):
        raise ValueError(f'image is {image.shape[1]}x{image.shape[0]} but the {what} '
                         f'is {np.shape(labels)[1]}x{np.shape(labels)[0]} (WxH)')
    if image.dtype != np.uint8:
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return image


def box_stripes(shape: tuple[int, int]) -> np.ndarray:
    """The ``(H, W)`` bool map of the pixels a box pseudo label colours
    (:data:`BOX_STRIPE_WIDTH`)."""
    y, x = np.ogrid[:shape[0], :shape[1]]
    return ((x + y) // BOX_STRIPE_WIDTH) % 2 == 0


def label_overlay(image: np.ndarray, labels: np.ndarray, palette: np.ndarray,
                  alpha: float = OVERLAY_ALPHA, *,
                  codec: Optional[LabelCodec] = None) -> np.ndarray:
    """Blend a label map (the label-map contract) over an image.

    Per-pixel labels (node ``v``) are blended with ``palette[v]`` like
    :func:`overlay`; box pseudo labels (``v + T``) are blended with
    ``palette[v]`` on diagonal stripes (:func:`box_stripes`) and keep the
    image between them; ignored pixels (``-1``) and values outside the
    contract keep the image. With a ``codec``, node-set labels are drawn in
    the colour of the set's deepest common ancestor
    (:attr:`~mmhier.structures.LabelCodec.display_nodes`).

    Args:
        image: ``(H, W, 3)`` uint8 RGB image (or ``(H, W)`` grey).
        labels: ``(H, W)`` integer label map.
        palette: ``(num_nodes, 3)`` uint8 RGB.
        alpha: Weight of the colours: 0 = image only, 1 = colours only.
        codec: The taxonomy's label encoding (``label_codec(taxonomy)``);
            default: the encoding of ``len(palette)`` nodes and no node sets.

    Returns:
        ``(H, W, 3)`` uint8 RGB.

    Raises:
        ValueError: ``alpha`` outside ``[0, 1]``, sizes differ, ``labels`` not
            a 2-D integer array, the palette not ``(N, 3)`` or not one colour
            per node of ``codec``'s taxonomy.
    """
    palette = _check_palette(palette)
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in 'iu':
        raise ValueError('labels must be a 2-D integer label map, got '
                         f'{labels.dtype} of shape {labels.shape}')
    if codec is not None and codec.num_nodes != len(palette):
        raise ValueError(f'palette has {len(palette)} colours but taxonomy '
                         f'{codec.taxonomy.name!r} has {codec.num_nodes} nodes')
    image = _check_image(image, labels, alpha, 'label map')
    labels = labels.astype(np.int64)
    nodes, is_box = label_map_nodes(labels, codec) if codec is not None \
        else decode_labels(labels, len(palette))
    nodes = np.where(is_box & ~box_stripes(labels.shape), -1, nodes)
    return overlay(image, nodes, palette, alpha)


def label_map_nodes(labels: np.ndarray, codec: LabelCodec) -> tuple[np.ndarray, np.ndarray]:
    """The node every label of a label map is drawn as, and its box flag.

    Args:
        labels: Integer label map (the label-map contract).
        codec: The taxonomy's label encoding.

    Returns:
        ``(nodes, is_box)``: the target's node, a node set's deepest common
        ancestor (:attr:`~mmhier.structures.LabelCodec.display_nodes`), ``-1``
        for ignored pixels and values outside the contract; true where the
        label is a box pseudo label.

    Shape:
        Both of ``labels``' shape.
    """
    labels = np.asarray(labels, dtype=np.int64)
    valid = (labels >= IGNORE_INDEX) & (labels < codec.num_labels)
    nodes = np.where(valid, codec.display_nodes[np.where(valid, labels, IGNORE_INDEX)],
                     IGNORE_INDEX)
    return nodes, valid & (labels >= codec.num_targets)


def legend_rows(taxonomy: Taxonomy, nodes_present: Iterable[int]) -> list[int]:
    """The nodes a legend lists: those present and all their ancestors
    except the root, in preorder (so children follow their parent).

    Args:
        taxonomy: The taxonomy.
        nodes_present: Node ids found in a prediction; ids outside the
            taxonomy (e.g. ``-1``) are skipped.

    Returns:
        Node ids in preorder.
    """
    parent = taxonomy.parent_index
    keep = np.zeros(taxonomy.num_nodes, dtype=bool)
    for node in np.unique(np.asarray(list(nodes_present), dtype=np.int64)):
        node = int(node)
        if not 0 <= node < taxonomy.num_nodes:
            continue
        while node > 0 and not keep[node]:
            keep[node] = True
            node = int(parent[node])
    return np.flatnonzero(keep).tolist()  # node ids are in preorder


def _render(fig: Figure, canvas: FigureCanvasAgg, width: int, height: int) -> np.ndarray:
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    out = np.full((height, width, 3), _BACKGROUND, dtype=np.uint8)
    h, w = min(height, rgba.shape[0]), min(width, rgba.shape[1])
    out[:h, :w] = rgba[:h, :w, :3]
    return out


def legend_image(taxonomy: Taxonomy, nodes_present: Iterable[int],
                 palette: Optional[np.ndarray] = None, width: int = LEGEND_WIDTH,
                 height: Optional[int] = None, row_height: int = ROW_HEIGHT) -> np.ndarray:
    """A legend panel that shows the hierarchy of the predicted nodes.

    The taxonomy name heads an indented tree: every present node and its
    ancestors, children beneath their parent, each with its colour swatch;
    thin lines join parents to children. Ancestors that are not themselves
    predicted are named in grey italics. Names too long for ``width`` shrink
    the font (down to :data:`MIN_FONT_PX`), then are cut at the edge.

    Args:
        taxonomy: The taxonomy.
        nodes_present: Node ids in the prediction (e.g. ``np.unique`` of it).
        palette: ``(num_nodes, 3)`` uint8 RGB; default
            :func:`hierarchical_palette`.
        width: Panel width in pixels.
        height: Minimum panel height in pixels (e.g. the image height); the
            panel grows when the rows need more.
        row_height: Height of one row in pixels.

    Returns:
        ``(max(height, needed), width, 3)`` uint8 RGB on white.

    Raises:
        ValueError: ``width`` or ``row_height`` too small to draw in.
    """
    if width < 4 * MARGIN + INDENT or row_height < 4:
        raise ValueError(f'legend width {width} / row height {row_height} is too small')
    palette = hierarchical_palette(taxonomy) if palette is None else _check_palette(palette)
    present = {int(n) for n in np.asarray(list(nodes_present), dtype=np.int64).ravel()}
    rows = legend_rows(taxonomy, present)
    needed = 2 * MARGIN + (len(rows) + 1) * row_height
    height = max(needed, height or 0)
    fig = Figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI, facecolor='white')
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # y grows downwards, as in images
    ax.set_axis_off()
    swatch = row_height - 4
    font_px = 0.62 * row_height
    level = taxonomy.node_level
    x_of = {int(n): MARGIN + (int(level[n]) - 1) * INDENT for n in rows}
    renderer = canvas.get_renderer()
    widest = max((x_of[n] + swatch + 4 + renderer.get_text_width_height_descent(
        taxonomy.nodes[n], FontProperties(size=font_px * 72 / _DPI), ismath=False)[0]
        for n in rows), default=0)
    if widest > width - MARGIN:
        room = width - MARGIN - min(x_of[n] + swatch + 4 for n in rows)
        used = widest - (width - MARGIN) + room
        font_px = max(MIN_FONT_PX, font_px * room / max(used, 1))
    fontsize = font_px * 72 / _DPI

    def middle(row: int) -> float:
        return MARGIN + (row + 1.5) * row_height

    ax.text(MARGIN, middle(-1), taxonomy.name, fontsize=fontsize, fontweight='bold',
            va='center', ha='left', parse_math=False, clip_on=True)
    position = {n: r for r, n in enumerate(rows)}
    parent = taxonomy.parent_index
    for row, node in enumerate(rows):
        x, y = x_of[node], middle(row)
        ax.add_patch(Rectangle((x, y - swatch / 2), swatch, swatch,
                               facecolor=palette[node] / 255.0, edgecolor='0.3',
                               linewidth=0.6))
        absent = node not in present
        ax.text(x + swatch + 4, y, taxonomy.nodes[node], fontsize=fontsize, va='center',
                ha='left', color='0.45' if absent else 'black',
                style='italic' if absent else 'normal', parse_math=False, clip_on=True)
        up = int(parent[node])
        if up > 0:  # tree line: down from the parent's swatch, across to this one
            px = x_of[up] + swatch / 2
            top = middle(position[up]) + swatch / 2
            ax.plot([px, px, x], [top, y, y], color='0.6', linewidth=0.7,
                    solid_joinstyle='miter')
    return _render(fig, canvas, width, height)


def render_prediction(image: np.ndarray, node_map: np.ndarray, taxonomy: Taxonomy,
                      palette: Optional[np.ndarray] = None,
                      alpha: float = OVERLAY_ALPHA,
                      legend_width: int = LEGEND_WIDTH) -> np.ndarray:
    """The image with the prediction blended in, and the legend on its right.

    Args:
        image: ``(H, W, 3)`` uint8 RGB image.
        node_map: ``(H, W)`` predicted node ids.
        taxonomy: The taxonomy the node ids belong to.
        palette: ``(num_nodes, 3)`` uint8 RGB; default
            :func:`hierarchical_palette`.
        alpha: Weight of the prediction colours in the blend.
        legend_width: Width of the legend panel in pixels.

    Returns:
        ``(max(H, legend height), W + legend_width, 3)`` uint8 RGB; below a
        short image the panel is white.
    """
    palette = hierarchical_palette(taxonomy) if palette is None else palette
    blended = overlay(image, node_map, palette, alpha)
    legend = legend_image(taxonomy, np.unique(node_map), palette, width=legend_width,
                          height=blended.shape[0])
    height, width = legend.shape[0], blended.shape[1] + legend_width
    out = np.full((height, width, 3), _BACKGROUND, dtype=np.uint8)
    out[:blended.shape[0], :blended.shape[1]] = blended
    out[:, blended.shape[1]:] = legend
    return out
