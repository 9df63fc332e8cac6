"""HierarchicalLoss vs flat cross-entropy over all leaves, side by side.

Both get logits at label resolution with ``requires_grad`` and are timed for
forward + backward (best of ``--repeat``), in the same process, on the same
labels: the flat loss uses the leaf of every labelled pixel, the hierarchical
loss the taxonomy node ids (half the batch per-pixel, half box pseudo labels).

``--node-sets K`` adds K union classes (node sets, partial labels) to the
first dataset - leaves 0|1, 2|3, ... of the tree, so some sets lie within one
classifier and some across branches - and relabels ``--node-set-share`` of its
pixels (and of the box pixels) with them; the hierarchical loss is then timed
on both the taxonomy with node sets and the original one, side by side.

Usage:
    python benchmarks/loss_speed.py [--batch 2] [--size 512 1024]
        [--taxonomy taxonomies/cs_vistas_gtsdb.yaml] [--device cpu|cuda]
        [--node-sets 8 [--node-set-share 0.3]] [--clock wall|cpu]
"""
from __future__ import annotations

import argparse
from typing import Callable

import torch
import torch.nn.functional as F
from timing import CLOCKS, best_times

from mmhier.models import HierarchicalLoss
from mmhier.structures import encode_labels
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.records import ENCODINGS


def with_node_sets(tax: Taxonomy, count: int) -> tuple[Taxonomy, list[int]]:
    """The taxonomy with ``count`` union classes of leaf pairs added to its
    first dataset.

    Returns:
        The new taxonomy and the new classes' label ids.
    """
    data = tax.to_dict()
    entry = data['datasets'][tax.dataset_keys[0]]
    leaves, start = tax.leaves, entry['num_ids']
    if count < 1 or 2 * count > len(leaves):
        raise SystemExit(f'--node-sets must be 1..{len(leaves) // 2} for {tax.name}')
    ids = list(range(start, start + count))
    for i, label_id in enumerate(ids):
        pair = [leaves[2 * i], leaves[2 * i + 1]]
        entry['classes'][label_id] = {'name': ' or '.join(pair), 'nodes': pair}
    entry['num_ids'] = start + count
    if entry['num_ids'] - 1 > ENCODINGS[entry['encoding']]:
        entry['encoding'] = 'int32'
    return Taxonomy.from_dict(data, f'{tax.source} + {count} node sets'), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--taxonomy', default='taxonomies/cs_vistas_gtsdb.yaml')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--size', type=int, nargs=2, default=[512, 1024])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--clock', choices=sorted(CLOCKS), default='wall',
                        help='wall time, or CPU time of the process (steadier on a '
                             'shared machine; CPU only)')
    parser.add_argument('--node-sets', type=int, default=0,
                        help='union classes to add (0: none, the plain benchmark)')
    parser.add_argument('--node-set-share', type=float, default=0.3,
                        help='share of pixels relabelled with a node set')
    args = parser.parse_args()
    torch.manual_seed(0)
    tax = load_taxonomy(args.taxonomy)
    device = torch.device(args.device)
    n, (h, w) = args.batch, args.size
    leaf_nodes = torch.tensor(tax.leaf_indices.tolist(), device=device)
    leaf = torch.randint(0, tax.num_leaves, (n, h, w), device=device)
    node = leaf_nodes[leaf]
    is_box = torch.zeros(n, 1, 1, dtype=torch.long, device=device)
    is_box[n // 2:] = 1
    keys = [tax.dataset_keys[0]] * (n - n // 2) + [tax.dataset_keys[-1]] * (n // 2)
    hier_logits = [torch.randn(n, c.num_outputs, h, w, device=device, requires_grad=True)
                   for c in tax.classifiers]
    flat_logits = torch.randn(n, tax.num_leaves, h, w, device=device, requires_grad=True)

    def loss_step(taxonomy: Taxonomy, targets: torch.Tensor) -> Callable[[], None]:
        loss = HierarchicalLoss(taxonomy).to(device)
        labels = encode_labels(targets, is_box, taxonomy.num_targets)
        dataset_index = torch.tensor(loss.dataset_index(keys), device=device)

        def hier() -> None:
            out = loss(hier_logits, labels, dataset_index)
            sum(v for k, v in out.items() if k.startswith('loss_')).backward()
        return hier

    def flat() -> None:
        F.cross_entropy(flat_logits, leaf, ignore_index=-1).backward()

    arms = [flat, loss_step(tax, node)]
    if args.node_sets:
        partial, ids = with_node_sets(tax, args.node_sets)
        table = torch.as_tensor(partial.label_to_target(partial.dataset_keys[0]).copy(),
                                device=device)
        pick = torch.randint(0, len(ids), (n, h, w), device=device)
        chosen = torch.rand(n, h, w, device=device) < args.node_set_share
        targets = torch.where(chosen, table[torch.as_tensor(ids, device=device)[pick]], node)
        arms.append(loss_step(partial, targets))
    times = best_times(arms, args.repeat, args.device, CLOCKS[args.clock])  # interleaved
    t_flat, t_hier = times[:2]
    print(f'taxonomy {tax.name}: {tax.num_classifiers} classifiers, {tax.num_leaves} '
          f'leaves; logits {n}x{h}x{w} on {args.device}, {args.clock} time')
    print(f'flat cross-entropy     {t_flat * 1e3:9.1f} ms')
    print(f'HierarchicalLoss       {t_hier * 1e3:9.1f} ms')
    print(f'ratio hierarchical / flat: {t_hier / t_flat:.2f} (target <= 1.2)')
    if args.node_sets:
        partial_classifiers = sum(HierarchicalLoss(partial).tables.partial_classifiers)
        print(f'with {len(ids)} node sets on {args.node_set_share:.0%} of the pixels '
              f'({partial_classifiers} classifiers get partial labels):')
        print(f'HierarchicalLoss       {times[2] * 1e3:9.1f} ms')
        print(f'ratio node sets / flat: {times[2] / t_flat:.2f} (target <= 1.3); '
              f'node sets / no node sets: {times[2] / t_hier:.2f}')

if __name__ == '__main__':
    main()
