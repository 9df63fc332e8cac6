"""HierarchicalLoss vs flat cross-entropy over all leaves, side by side.

Both get logits at label resolution with ``requires_grad`` and are timed for
forward + backward (best of ``--repeat``), in the same process, on the same
labels: the flat loss uses the leaf of every labelled pixel, the hierarchical
loss the taxonomy node ids (half the batch per-pixel, half box pseudo labels).

Usage:
    python benchmarks/loss_speed.py [--batch 2] [--size 512 1024]
        [--taxonomy taxonomies/cs_vistas_gtsdb.yaml] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from timing import best_time

from mmhier.models import HierarchicalLoss
from mmhier.structures import encode_labels
from mmhier.taxonomy import load_taxonomy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--taxonomy', default='taxonomies/cs_vistas_gtsdb.yaml')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--size', type=int, nargs=2, default=[512, 1024])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--device', default='cpu')
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
    labels = encode_labels(node, is_box, tax.num_nodes)
    keys = [tax.dataset_keys[0]] * (n - n // 2) + [tax.dataset_keys[-1]] * (n // 2)
    loss = HierarchicalLoss(tax).to(device)
    dataset_index = torch.tensor(loss.dataset_index(keys), device=device)
    hier_logits = [torch.randn(n, c.num_outputs, h, w, device=device, requires_grad=True)
                   for c in tax.classifiers]
    flat_logits = torch.randn(n, tax.num_leaves, h, w, device=device, requires_grad=True)

    def hier() -> None:
        out = loss(hier_logits, labels, dataset_index)
        sum(v for k, v in out.items() if k.startswith('loss_')).backward()

    def flat() -> None:
        F.cross_entropy(flat_logits, leaf, ignore_index=-1).backward()

    t_hier = best_time(hier, args.repeat, args.device)
    t_flat = best_time(flat, args.repeat, args.device)
    print(f'taxonomy {tax.name}: {tax.num_classifiers} classifiers, {tax.num_leaves} '
          f'leaves; logits {n}x{h}x{w} on {args.device}')
    print(f'flat cross-entropy     {t_flat * 1e3:9.1f} ms')
    print(f'HierarchicalLoss       {t_hier * 1e3:9.1f} ms')
    print(f'ratio hierarchical / flat: {t_hier / t_flat:.2f} (target <= 1.2)')


if __name__ == '__main__':
    main()
