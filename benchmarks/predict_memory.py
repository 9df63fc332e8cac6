"""Peak memory of deciding a 12 MP image, chunked vs. all at once.

The hierarchical head's logits sit at a quarter of the input resolution
(after its transposed convolution). Deciding needs them upsampled to the
image size; for a 4000x3000 image and the paper's taxonomy (111 classifier
outputs) that is 5.3 GB in fp32 if done at once. ``HierarchicalDecodeHead.decide``
upsamples and decides in bands of rows within ``max_upsample_bytes``; the
at-once variant upsamples every classifier with the same function
(``mmhier.models.resize.resize``), so the decisions must be identical.

Each variant runs in its own process; printed: peak resident memory above
the process's memory just before deciding, and the time. The decisions of
both variants are compared on the full image.

Usage:
    python benchmarks/predict_memory.py [--size 3000 4000] [--budget-mb 256]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

TAXONOMY = 'taxonomies/cs_vistas_gtsdb.yaml'


def rss_mb() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def child(variant: str, height: int, width: int, budget_mb: int, out: str) -> None:
    import numpy as np
    import torch

    import mmhier.models  # noqa: F401
    from mmhier.models import HierarchicalDecodeHead, greedy_decision
    from mmhier.models.resize import resize
    torch.set_num_threads(2)
    head = HierarchicalDecodeHead(TAXONOMY, in_channels=8, channels=8,
                                  branch=dict(width=8), norm_cfg=dict(type='BN'),
                                  max_upsample_bytes=budget_mb << 20)
    generator = torch.Generator().manual_seed(0)
    logits = [torch.randn(1, b.classify.out_channels, height // 4, width // 4,
                          generator=generator) for b in head.branches]
    before = rss_mb()
    start = time.perf_counter()
    with torch.no_grad():
        if variant == 'at_once':
            up = [resize(x, (height, width)) for x in logits]
            nodes = greedy_decision(up, head.tables)
            del up
        else:
            nodes = head.decide(logits, (height, width))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.save(out, nodes.numpy().astype(np.int16))
    print(json.dumps(dict(variant=variant, before_mb=before, peak_mb=peak,
                          extra_mb=peak - before, seconds=seconds)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, nargs=2, default=[3000, 4000])
    parser.add_argument('--budget-mb', type=int, default=256)
    parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
    parser.add_argument('--out', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    height, width = args.size
    if args.child:
        child(args.child, height, width, args.budget_mb, args.out)
        return
    import os
    import tempfile

    import numpy as np
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ('chunked', 'at_once'):
            path = os.path.join(tmp, f'{variant}.npy')
            run = subprocess.run([sys.executable, __file__, '--child', variant,
                                  '--size', str(height), str(width), '--budget-mb',
                                  str(args.budget_mb), '--out', path],
                                 capture_output=True, text=True)
            if run.returncode:
                print(f'{variant}: failed\n{run.stderr[-2000:]}')
                continue
            results[variant] = json.loads(run.stdout.strip().splitlines()[-1])
            results[variant]['nodes'] = np.load(path)
    mp = height * width / 1e6
    print(f'deciding a {width}x{height} ({mp:.0f} MP) image, taxonomy {TAXONOMY}, '
          f'budget {args.budget_mb} MB')
    for name, r in results.items():
        print(f'{name:<8} peak memory above start {r["extra_mb"]:8.0f} MB   '
              f'time {r["seconds"]:6.2f} s')
    if len(results) == 2:
        same = (results['chunked']['nodes'] == results['at_once']['nodes']).mean()
        ratio = results['at_once']['extra_mb'] / max(results['chunked']['extra_mb'], 1)
        print(f'identical decisions: {same * 100:.4f} % of pixels; memory ratio '
              f'at once / chunked: {ratio:.1f}x')


if __name__ == '__main__':
    main()
