"""``--verify``: an exported model against PyTorch eager, size by size.

At every size, test images go through the exported model and through the
eager model exactly as MMSeg runs it (the config's ``data_preprocessor`` and
``model.predict``: node ids of ``pred_sem_seg``). The report counts pixels
with identical node ids and explains every difference: the classifier where
the two decisions part (for the greedy rule: the deepest common ancestor of
the two nodes; for the path rule and flat heads: the two output scores) and
the eager margin there between the two children it chose from. Two runtimes
compute convolutions and the columns of the bilinear upsampling with
differently rounded float32 arithmetic, so where two candidates are as close
as that rounding, either may come out larger. How large the rounding is, is
measured, not assumed: the same model in float64 gives the values float32
approximates, and the largest ``|fp32 - fp64|`` of the compared values over
the image is eager PyTorch's own rounding error. A difference is a
**near-tie** when the eager margin is at most :data:`TIE_FACTOR` times that
error (the errors of both runtimes in both candidates). Any other difference
is a defect, and verification fails.

Scores (when exported) are compared by their largest absolute difference.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from mmhier.deploy.model import DeployableSegmentor
from mmhier.deploy.runtime import ExportedModel
from mmhier.models.heads import HierarchicalDecodeHead
from mmhier.models.resize import upsample

#: Share of identical node ids every size needs.
MIN_IDENTICAL_SHARE = 0.9999
#: A difference is a near-tie when the eager margin between its two candidates
#: is at most this many times eager's own float32 rounding error of the
#: compared values (two runtimes, two candidates).
TIE_FACTOR = 4.0
#: Largest absolute difference of exported and eager scores.
SCORE_TOLERANCE = 1e-3


@dataclass
class SizeResult:
    """Verification at one size.

    Attributes:
        size: ``(H, W)``.
        note: Why this size (export size, not a multiple of 8, larger).
        batch: Images run at once.
        pixels: Pixels compared (all images).
        differing: Pixels whose node ids differ.
        ties: Of these, near-ties.
        rounding: Eager's float32 rounding error of the compared values
            (largest ``|fp32 - fp64|`` of the classifiers involved).
        max_tie_ratio: Largest margin / rounding among the near-ties.
        worst_ratio: Largest margin / rounding among all differences.
        fp64_differing: Pixels where eager float32 PyTorch itself decides
            differently from float64 PyTorch (``None``: not computed).
        score_diff: Largest absolute score difference (``None``: no scores).
    """

    size: tuple[int, int]
    note: str
    batch: int
    pixels: int = 0
    differing: int = 0
    ties: int = 0
    rounding: float = 0.0
    max_tie_ratio: float = 0.0
    worst_ratio: float = 0.0
    fp64_differing: Optional[int] = None
    score_diff: Optional[float] = None

    @property
    def identical_share(self) -> float:
        return 1.0 - self.differing / max(1, self.pixels)

    @property
    def passed(self) -> bool:
        return (self.identical_share >= MIN_IDENTICAL_SHARE and self.ties == self.differing
                and (self.score_diff is None or self.score_diff <= SCORE_TOLERANCE))


def verification_sizes(size: Sequence[int], dynamic: bool) -> list[tuple[tuple[int, int], str]]:
    """Sizes to verify at: the export size; for dynamic graphs also one
    that is not a multiple of 8 and one larger than the export size."""
    height, width = (int(s) for s in size)
    sizes = [((height, width), 'export size')]
    if dynamic:
        odd = [max(3, s * 3 // 4 + 3) for s in (height, width)]
        odd = [s + 1 if s % 8 == 0 else s for s in odd]
        sizes.append(((odd[0], odd[1]), 'not a multiple of 8'))
        sizes.append(((height * 3 // 2 + 5, width * 3 // 2 + 7), 'larger than the export size'))
    return sizes


def sample_images(size: tuple[int, int], batch: int, channels: int = 3, seed: int = 0,
                image: Optional[np.ndarray] = None) -> np.ndarray:
    """Test images with integer pixel values 0..255.

    Args:
        size: ``(H, W)``.
        batch: Number of images.
        channels: Channels.
        seed: Seed of the synthetic images.
        image: An ``(h, w, C)`` uint8 image to resize to ``size`` (the same
            for every batch entry, flipped left-right from the second on);
            default: smooth random scenes (colour blobs plus noise).

    Returns:
        float32 ``(batch, C, H, W)``.
    """
    height, width = size
    if image is not None:
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
        x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
        x = torch.cat([x if i % 2 == 0 else x.flip(-1) for i in range(batch)])
        return x.round().clamp(0, 255).numpy()
    generator = torch.Generator().manual_seed(seed)
    blobs = torch.rand(batch, channels, 6, 10, generator=generator) * 255
    x = F.interpolate(blobs, size=size, mode='bicubic', align_corners=False)
    x = x + torch.randn(batch, channels, height, width, generator=generator) * 12
    return x.round().clamp(0, 255).numpy()


def _decision_values(segmentor: torch.nn.Module, network_input: torch.Tensor,
                     size: tuple[int, int]):
    """What the eager decision compares: per classifier ``j`` (greedy:
    upsampled logits) or over the output nodes (path rule: path
    probabilities; flat head: resized logits), computed lazily; and a
    function giving the decision itself."""
    head = segmentor.decode_head
    with torch.no_grad():
        logits = head.forward(segmentor.extract_feat(network_input))

    def decide() -> np.ndarray:
        with torch.no_grad():
            return head.decide(logits, size).numpy()

    if isinstance(head, HierarchicalDecodeHead):
        if head.decision == 'greedy':
            return (lambda j: upsample(logits[j], size, head.align_corners)), decide
        return (lambda j: head.output_scores(logits, size)), decide
    return (lambda j: head._resized(logits, size)), decide


@dataclass
class Differences:
    """Why node ids differ at some pixels.

    Attributes:
        margin: ``(P,)`` eager margin between the two candidates (eager's
            pick minus the export's; ``>= 0``, eager picks the first maximum).
        rounding: ``(P,)`` eager's float32 rounding error of the values
            compared there: the largest ``|fp32 - fp64|`` of that classifier's
            (or the output scores') values over the image.
        fp64_differing: Pixels where eager float32 PyTorch itself decides
            differently from float64 PyTorch (the precision floor).
    """

    margin: np.ndarray
    rounding: np.ndarray
    fp64_differing: int = 0

    @property
    def ratio(self) -> np.ndarray:
        """Margin in units of the rounding error."""
        return self.margin / np.maximum(self.rounding, np.finfo(np.float64).tiny)

    @property
    def near_tie(self) -> np.ndarray:
        """Whether each difference is a near-tie (:data:`TIE_FACTOR`)."""
        return self.margin <= TIE_FACTOR * self.rounding


def explain_differences(wrapper: DeployableSegmentor, network_input: torch.Tensor,
                        size: tuple[int, int], where: np.ndarray, eager: np.ndarray,
                        exported: np.ndarray) -> Differences:
    """Eager margin and float32 rounding error at every differing pixel.

    For the greedy rule the candidates are the children, on the paths to the
    two nodes, of the classifier where the paths part (their deepest common
    ancestor), compared by their upsampled logits; for the path rule and the
    flat head, the two output nodes' path probabilities or resized logits.
    The rounding error comes from the same model run in float64.

    Args:
        wrapper: The exported module (holds the eager model).
        network_input: The preprocessed input of the images.
        size: ``(H, W)``.
        where: ``(P, 3)`` (image, row, column) of the differing pixels.
        eager: ``(P,)`` eager node ids there.
        exported: ``(P,)`` exported node ids there.
    """
    head = wrapper.head
    values, decide = _decision_values(wrapper.segmentor, network_input, size)
    exact, decide_exact = _decision_values(copy.deepcopy(wrapper.segmentor).double(),
                                           network_input.double(), size)
    n, y, x = (torch.as_tensor(where[:, i]) for i in range(3))
    if isinstance(head, HierarchicalDecodeHead) and head.decision == 'greedy':
        taxonomy = head.taxonomy
        anc = taxonomy.ancestor_at_level
        split = (anc[:, eager] != anc[:, exported]).argmax(axis=0)        # first level apart
        group = taxonomy.classifier_of_node[anc[split - 1, eager]]      # classifier there
        pos_a = taxonomy.classifier_targets[group, eager]
        pos_b = taxonomy.classifier_targets[group, exported]
    else:
        channel = np.full(head.taxonomy.num_nodes, -1, dtype=np.int64)
        channel[head.output_nodes.numpy()] = np.arange(len(head.output_nodes))
        group, pos_a, pos_b = np.zeros_like(eager), channel[eager], channel[exported]
    margin, rounding = np.zeros(len(eager)), np.zeros(len(eager))
    for j in np.unique(group).tolist():
        pick = group == j
        sel = torch.as_tensor(pick)
        with torch.no_grad():
            full = values(j)
            rounding[pick] = float((full.double() - exact(j)).abs().max())
            pixels = full[n[sel], :, y[sel], x[sel]].double()            # (P_j, K)
        rows = torch.arange(len(pixels))
        margin[pick] = (pixels[rows, torch.as_tensor(pos_a[pick])]
                        - pixels[rows, torch.as_tensor(pos_b[pick])]).numpy()
    return Differences(margin, rounding, int((decide() != decide_exact()).sum()))


def eager_outputs(wrapper: DeployableSegmentor, images: np.ndarray
                  ) -> tuple[np.ndarray, Optional[np.ndarray], torch.Tensor]:
    """Node ids as MMSeg's ``model.predict`` gives them, eager scores and the
    network input, for ``images`` in the wrapper's input channel order."""
    model = wrapper.segmentor
    pipeline = images[:, ::-1] if wrapper.preprocessing.input_order == 'rgb' else images
    inputs = [torch.from_numpy(np.ascontiguousarray(img)) for img in pipeline]  # BGR, as loaded
    with torch.no_grad():
        network_input = model.data_preprocessor(dict(inputs=inputs), False)['inputs']
        samples = model.predict(network_input)
        nodes = np.stack([s.pred_sem_seg.data[0].numpy() for s in samples])
        scores = None
        if 'scores' in wrapper.outputs:
            logits = wrapper.head.forward(model.extract_feat(network_input))
            scores = wrapper.head.output_scores(logits, images.shape[-2:]).float().numpy()
    return nodes, scores, network_input


def verify(wrapper: DeployableSegmentor, exported: ExportedModel,
           sizes: Sequence[tuple[tuple[int, int], str]], batch: int = 1,
           image: Optional[np.ndarray] = None) -> list[SizeResult]:
    """Compare ``exported`` with the eager model at every size.

    Args:
        wrapper: The module that was exported (holds the eager model).
        exported: The loaded export.
        sizes: ``((H, W), note)`` pairs (:func:`verification_sizes`).
        batch: Images per run at the first size (dynamic batch); 1 after.
        image: Optional ``(h, w, C)`` uint8 image in the input channel order.

    Returns:
        One result per size.
    """
    results = []
    for i, (size, note) in enumerate(sizes):
        images = sample_images(size, batch if i == 0 else 1, wrapper.channels, seed=i,
                             image=image)
        result = SizeResult(size, note, len(images))
        out = exported(images)
        eager_nodes, eager_scores, network_input = eager_outputs(wrapper, images)
        if 'nodes' in out:
            nodes = out['nodes']
            result.pixels = int(eager_nodes.size)
            where = np.argwhere(nodes != eager_nodes)
            result.differing = len(where)
            if len(where):
                why = explain_differences(wrapper, network_input, size, where,
                                          eager_nodes[tuple(where.T)], nodes[tuple(where.T)])
                tie, ratio = why.near_tie, why.ratio
                result.ties = int(tie.sum())
                result.rounding = float(why.rounding.max())
                result.max_tie_ratio = float(ratio[tie].max()) if tie.any() else 0.0
                result.worst_ratio = float(ratio.max())
                result.fp64_differing = why.fp64_differing
        if 'scores' in out:
            result.score_diff = float(np.abs(out['scores'] - eager_scores).max())
        results.append(result)
    return results


def report_lines(results: Sequence[SizeResult], runtime: str) -> list[str]:
    """The human-readable verification report."""
    lines = [f'verify: {runtime} against PyTorch eager (data_preprocessor + model.predict), '
             f'{len(results)} size(s)']
    for r in results:
        head = f'  {r.size[0]}x{r.size[1]} ({r.note}, batch {r.batch}):'
        if r.pixels:
            text = (f'{head} {r.pixels - r.differing}/{r.pixels} pixels identical '
                    f'({100 * r.identical_share:.4f} %)')
            if r.differing:
                text += (f'; {r.differing} differ, {r.ties} of them near-ties (eager margin '
                         f'between the two candidates <= {r.max_tie_ratio:.2f} x eager\'s own '
                         f'float32 rounding of them, max |fp32 - fp64| = {r.rounding:.1e}; '
                         f'near-tie: <= {TIE_FACTOR:g} x)')
                if r.ties < r.differing:
                    text += (f', {r.differing - r.ties} NOT near-ties (margin up to '
                             f'{r.worst_ratio:.1f} x the rounding)')
                if r.fp64_differing is not None:
                    text += (f'; for scale: eager float32 itself decides {r.fp64_differing} '
                             'pixels differently from float64')
        else:
            text = head
        if r.score_diff is not None:
            text += f'; scores max |exported - eager| = {r.score_diff:.2e}'
        lines.append(text)
    if any(r.differing for r in results):
        lines.append('  near-ties: the two runtimes round the convolutions and the columns of '
                     'the bilinear upsampling differently in float32, so where two candidates '
                     'are within that rounding either may win')
    passed = all(r.passed for r in results)
    lines.append(f'verify: {"passed" if passed else "FAILED"} (every size needs >= '
                 f'{100 * MIN_IDENTICAL_SHARE:g} % identical node ids, differences only at '
                 f'near-ties, scores within {SCORE_TOLERANCE:g})')
    return lines
