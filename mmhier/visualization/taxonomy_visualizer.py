"""MMSeg's local visualizer for taxonomy labels and predictions.

``TaxonomySegLocalVisualizer`` draws what mmhier's datasets and models hold
(the label-map contract of :mod:`mmhier.structures.label_encoding`: targets,
target + ``T`` for box pseudo labels, ``-1`` ignored; node sets in their
common ancestor's colour) with the
hierarchical palette, exactly as :func:`~mmhier.visualization.label_overlay`
and :func:`~mmhier.visualization.overlay` do. Registered in MMSeg's
``VISUALIZERS``, so MMSeg's ``browse_dataset.py`` and
``SegVisualizationHook`` (which draw with the config's ``visualizer``) show
the same pictures as mmhier's tools::

    visualizer = dict(type='TaxonomySegLocalVisualizer', name='visualizer',
                      taxonomy='taxonomies/cs_vistas_gtsdb.yaml',
                      vis_backends=[dict(type='LocalVisBackend')])
"""
from __future__ import annotations

import numbers
import os
from typing import Any, Optional, Union

import mmcv
import numpy as np
from mmengine.dist import master_only
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from mmhier.structures.label_space import label_codec
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.palette import OVERLAY_ALPHA, hierarchical_palette
from mmhier.visualization.errors import (LabelMapError, VisualizerConfigError,
                                         VisualizerTaxonomyMismatchError)
from mmhier.visualization.overlay import (INDENT, LEGEND_WIDTH, MARGIN, legend_image,
                                          label_map_nodes, label_overlay, overlay)

_BACKGROUND = 255


@VISUALIZERS.register_module()
class TaxonomySegLocalVisualizer(SegLocalVisualizer):
    """A ``SegLocalVisualizer`` that draws taxonomy node labels.

    * ground truth (``gt_sem_seg``, a label map): per-pixel labels blended
      with their node's colour at ``alpha``; box pseudo labels the same on
      diagonal stripes (:data:`~mmhier.visualization.overlay.BOX_STRIPE_WIDTH`),
      the image between them; ignored pixels (``-1``) keep the image;
    * predictions (``pred_sem_seg``, node ids): blended with the node's
      colour at ``alpha``;
    * colours from :func:`~mmhier.taxonomy.palette.hierarchical_palette`;
      names (``dataset_meta['classes']``) are the taxonomy's nodes;
    * ``with_labels=True`` (MMSeg's default) appends the hierarchy legend
      (:func:`~mmhier.visualization.legend_image` of the nodes drawn) on the
      right instead of writing names into the picture; the picture is padded
      with white below when the legend is taller.

    Ground truth and prediction sit side by side as in MMSeg. The taxonomy
    is given here or taken from ``dataset_meta['taxonomy']``, which mmhier
    datasets put into their ``metainfo`` (the runner and
    ``browse_dataset.py`` hand it over).

    Args:
        name: Name of the instance.
        image: Image to draw on first (RGB), optional.
        vis_backends: Visual backend configs.
        save_dir: Where the backends save.
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`; ``None``: the
            dataset's (``dataset_meta['taxonomy']``).
        alpha: Weight of the colours (0 = image only, 1 = colours only); the
            palette stands out over asphalt from
            :data:`~mmhier.taxonomy.palette.OVERLAY_ALPHA` (the default) up.
        legend_width: Width of the legend panel in pixels.
        **kwargs: Further ``mmengine.visualization.Visualizer`` arguments.

    Raises:
        VisualizerConfigError: ``alpha`` outside [0, 1], ``legend_width`` too
            small, or ``classes`` / ``palette`` / ``dataset_name`` given
            (names and colours come from the taxonomy).
        TaxonomyError: The taxonomy file is missing or invalid.
    """

    def __init__(self, name: str = 'visualizer', image: Optional[np.ndarray] = None,
                 vis_backends: Optional[Any] = None, save_dir: Optional[str] = None,
                 taxonomy: Union[str, os.PathLike, Taxonomy, None] = None,
                 alpha: float = OVERLAY_ALPHA, legend_width: int = LEGEND_WIDTH,
                 **kwargs: Any):
        given = [k for k in ('classes', 'palette', 'dataset_name')
                 if kwargs.pop(k, None) is not None]
        if given:
            raise VisualizerConfigError(
                f'TaxonomySegLocalVisualizer: remove {", ".join(given)} from the '
                'visualizer config; names and colours come from the taxonomy '
                '(taxonomy=<file>)')
        if (isinstance(alpha, bool) or not isinstance(alpha, numbers.Real)
                or not 0.0 <= alpha <= 1.0):
            raise VisualizerConfigError(
                f'TaxonomySegLocalVisualizer: alpha must be a number in [0, 1] '
                f'(weight of the colours), got {alpha!r}')
        if not isinstance(legend_width, int) or legend_width < 4 * MARGIN + INDENT:
            raise VisualizerConfigError(
                f'TaxonomySegLocalVisualizer: legend_width must be an int of at least '
                f'{4 * MARGIN + INDENT} pixels, got {legend_width!r}')
        self._taxonomy: Optional[Taxonomy] = None
        self._palette: Optional[np.ndarray] = None
        self.legend_width = legend_width
        super().__init__(name, image, vis_backends, save_dir, alpha=float(alpha), **kwargs)
        if taxonomy is not None:
            self._use(load_taxonomy(taxonomy), {})

    # ------------------------------------------------------------ taxonomy
    @property
    def taxonomy(self) -> Optional[Taxonomy]:
        """The taxonomy drawn with (``None`` until one is known)."""
        return self._taxonomy

    @property
    def palette(self) -> Optional[np.ndarray]:
        """``(num_nodes, 3)`` uint8 colours of the taxonomy's nodes."""
        return None if self._palette is None else self._palette.copy()

    def _use(self, taxonomy: Taxonomy, meta: dict) -> None:
        if self._taxonomy is None or self._taxonomy.tree_hash != taxonomy.tree_hash:
            self._palette = hierarchical_palette(taxonomy)
        self._taxonomy = taxonomy
        self._dataset_meta = {**meta, 'classes': taxonomy.nodes,
                              'palette': self._palette.tolist(),
                              'taxonomy': taxonomy.source}

    def set_dataset_meta(self, classes: Optional[list] = None,
                         palette: Optional[list] = None,
                         dataset_name: Optional[str] = None, **meta: Any) -> None:
        """Take a model's or dataset's meta info (what MMSeg's Inferencer
        passes: ``set_dataset_meta(**model.dataset_meta)``).

        Names and colours always come from the taxonomy: ``classes`` must be
        its node names, ``palette`` is replaced by the hierarchical palette.
        A ``taxonomy`` in ``meta`` (an mmhier dataset's metainfo names its
        file) becomes the visualizer's if it has none. ``dataset_name``
        (MMSeg's built-in class lists) does not apply to taxonomies.

        Raises:
            VisualizerConfigError: ``dataset_name`` is given.
            VisualizerTaxonomyMismatchError: ``classes`` or ``taxonomy``
                belong to another taxonomy.
        """
        if dataset_name is not None:
            raise VisualizerConfigError(
                f'TaxonomySegLocalVisualizer draws taxonomy nodes; dataset_name='
                f'{dataset_name!r} (one of MMSeg\'s built-in class lists) does not apply: '
                'leave it out and give the taxonomy')
        if classes is not None:
            meta['classes'] = classes
        if palette is not None:
            meta['palette'] = palette
        if meta:
            self.dataset_meta = meta

    @property  # type: ignore[override]
    @master_only
    def dataset_meta(self) -> Optional[dict]:
        """The dataset's meta info with ``classes``, ``palette`` and
        ``taxonomy`` of the visualizer's taxonomy."""
        return self._dataset_meta

    @dataset_meta.setter  # type: ignore[attr-defined]
    @master_only
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        """Take a dataset's ``metainfo``: its ``taxonomy`` (a file or
        :class:`Taxonomy`) becomes the visualizer's if it has none.

        Raises:
            VisualizerTaxonomyMismatchError: The dataset's taxonomy (or, without
                one, its ``classes``) differs from the visualizer's.
            TaxonomyError: The dataset names a taxonomy file that cannot be
                loaded.
        """
        meta = dict(dataset_meta or {})
        named = meta.get('taxonomy')
        own = self._taxonomy
        if named is not None:
            if isinstance(named, Taxonomy):
                theirs = named
            elif own is not None and os.fspath(named) == own.source:
                theirs = own
            else:
                theirs = load_taxonomy(named)
            if own is not None and theirs.label_hash != own.label_hash:
                raise VisualizerTaxonomyMismatchError(
                    f'TaxonomySegLocalVisualizer draws with taxonomy {own.source} '
                    f'({own.num_nodes} nodes), but the dataset\'s labels are nodes of '
                    f'{theirs.source} ({theirs.num_nodes} nodes, another tree or other node '
                    'sets): set the '
                    'visualizer\'s taxonomy to the dataset\'s file, or leave it out to '
                    'take the dataset\'s')
            self._use(own if own is not None else theirs, meta)
            return
        classes = meta.get('classes')
        if own is not None and classes is not None and tuple(classes) != own.nodes:
            raise VisualizerTaxonomyMismatchError(
                f'TaxonomySegLocalVisualizer draws node ids of taxonomy {own.source}, '
                f'but the dataset\'s classes ({len(classes)}, starting '
                f'{list(classes)[:3]}) are not its {own.num_nodes} node names: use an '
                'mmhier dataset of that taxonomy (its labels are node ids) or '
                'MMSeg\'s SegLocalVisualizer')
        if own is None:
            self._dataset_meta = meta
        else:
            self._use(own, meta)

    def _require_palette(self) -> np.ndarray:
        if self._palette is None:
            raise VisualizerConfigError(
                'TaxonomySegLocalVisualizer has no taxonomy to draw with: give it '
                'taxonomy=<file> in the visualizer config, or set its dataset_meta to '
                'the metainfo of an mmhier dataset (it names the taxonomy)')
        return self._palette

    # ------------------------------------------------------------- drawing
    @staticmethod
    def _label_map(sem_seg: Any, key: str, image: np.ndarray) -> np.ndarray:
        """The ``(H, W)`` integer map in a ``PixelData`` (or array)."""
        data = getattr(sem_seg, 'data', sem_seg)
        if hasattr(data, 'detach'):
            data = data.detach().cpu().numpy()
        data = np.asarray(data)
        if data.ndim == 3 and data.shape[0] == 1:
            data = data[0]
        if data.ndim != 2 or data.dtype.kind not in 'iu':
            raise LabelMapError(f'{key} must hold a (1, H, W) integer map, got '
                                f'{data.dtype} of shape {tuple(data.shape)}')
        if data.shape != tuple(np.shape(image)[:2]):
            raise LabelMapError(f'{key} is {data.shape[1]}x{data.shape[0]} but the image '
                                f'is {np.shape(image)[1]}x{np.shape(image)[0]} (WxH); '
                                'draw the sample on the image it was labelled on')
        return data

    def _draw_sem_seg(self, image: np.ndarray, sem_seg: Any,
                      classes: Optional[list] = None, palette: Optional[list] = None,
                      with_labels: Optional[bool] = True) -> np.ndarray:
        """Blend a label map over ``image`` (see :func:`label_overlay`).

        ``classes``, ``palette`` and ``with_labels`` are MMSeg's arguments and
        unused: names and colours are the taxonomy's, names go into the
        legend of :meth:`add_datasample`.
        """
        palette = self._require_palette()
        drawn = label_overlay(image, self._label_map(sem_seg, 'sem_seg', image),
                              palette, self.alpha, codec=label_codec(self._taxonomy))
        self.set_image(drawn)
        return drawn

    def draw_sample(self, image: np.ndarray, data_sample: Optional[SegDataSample] = None,
                    draw_gt: bool = True, draw_pred: bool = True,
                    with_labels: bool = True, with_image: bool = False) -> np.ndarray:
        """The picture :meth:`add_datasample` records, without recording it.

        Layout: ``[image |] [ground truth |] [prediction |] [legend]`` (as
        MMSeg's, plus the legend when ``with_labels`` and a label map or
        prediction was drawn).

        Args:
            image: ``(H, W, 3)`` uint8 RGB image.
            data_sample: Sample with ``gt_sem_seg`` (label map) and / or
                ``pred_sem_seg`` (node ids), depth maps optional.
            draw_gt: Draw the ground truth.
            draw_pred: Draw the prediction.
            with_labels: Append the hierarchy legend.
            with_image: Put the plain image first.

        Returns:
            uint8 RGB picture.

        Raises:
            VisualizerConfigError: No taxonomy is known yet.
            LabelMapError: A map is not ``(1, H, W)`` integers of the image's
                size.
        """
        palette = self._require_palette()
        panels, nodes = [], []
        for kind, wanted in (('gt', draw_gt), ('pred', draw_pred)):
            if not wanted or data_sample is None:
                continue
            panel = None
            if f'{kind}_sem_seg' in data_sample:
                key = f'{kind}_sem_seg'
                labels = self._label_map(data_sample.get(key), key, image)
                if kind == 'gt':
                    codec = label_codec(self._taxonomy)
                    panel = label_overlay(image, labels, palette, self.alpha, codec=codec)
                    labels = label_map_nodes(labels, codec)[0]
                else:
                    panel = overlay(image, labels, palette, self.alpha)
                nodes.append(np.unique(labels))
            if f'{kind}_depth_map' in data_sample:
                panel = self._draw_depth_map(image if panel is None else panel,
                                             data_sample.get(f'{kind}_depth_map'))
            if panel is not None:
                panels.append(panel)
        if not panels:
            return np.asarray(image)
        picture = np.concatenate(panels, axis=1)
        if with_image:
            picture = np.concatenate((np.asarray(image, dtype=np.uint8), picture), axis=1)
        if with_labels and nodes:
            legend = legend_image(self._taxonomy, np.concatenate(nodes), palette,
                                  width=self.legend_width, height=picture.shape[0])
            out = np.full((legend.shape[0], picture.shape[1] + legend.shape[1], 3),
                          _BACKGROUND, dtype=np.uint8)
            out[:picture.shape[0], :picture.shape[1]] = picture
            out[:, picture.shape[1]:] = legend
            picture = out
        return picture

    @master_only
    def add_datasample(self, name: str, image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None, draw_gt: bool = True,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, step: int = 0,
                       with_labels: Optional[bool] = True,
                       with_image: Optional[bool] = False) -> None:
        """Draw a sample (:meth:`draw_sample`), then show it, write it to
        ``out_file`` or record it with the backends, as MMSeg's visualizer
        does; :meth:`get_image` returns the whole picture afterwards.

        Args:
            name: Image identifier.
            image: ``(H, W, 3)`` uint8 RGB image.
            data_sample: Sample with ``gt_sem_seg`` and / or ``pred_sem_seg``.
            draw_gt: Draw the ground truth.
            draw_pred: Draw the prediction.
            show: Display the picture (backends are not written).
            wait_time: Seconds to show it (0: until closed).
            out_file: Write the picture here instead of to the backends.
            step: Global step recorded with the picture.
            with_labels: Append the hierarchy legend.
            with_image: Put the plain image first.

        Raises:
            VisualizerConfigError: No taxonomy is known yet.
            LabelMapError: A map is not ``(1, H, W)`` integers of the image's
                size.
        """
        picture = self.draw_sample(image, data_sample, draw_gt, draw_pred,
                                   bool(with_labels), bool(with_image))
        self.set_image(picture)
        if show:
            self.show(picture, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(picture), out_file)
        else:
            self.add_image(name, picture, step)
