"""Carry a trained model to a grown taxonomy.

::

    python tools/migrate_checkpoint.py CHECKPOINT NEW_TAXONOMY --out FILE [--seed 0]

The old taxonomy is the copy embedded in CHECKPOINT. Prints the taxonomy
diff (``mmhier-taxonomy diff``) and what was carried: backbone, neck and
shared layers are copied; classifier branches whose children are unchanged
are copied whole; a classifier that gained or lost children keeps its
adaptation and its carried children's outputs, new outputs start fresh; new
classifiers get new branches; removed ones are dropped
(:mod:`mmhier.models.heads.migration`). FILE holds the weights only
(``meta`` and ``state_dict``: no optimiser state, so train from it with
``load_from``, not ``--resume``) and the new taxonomy's record.

To train only the new and changed branches, set the head's
``trainable_classifiers`` to the list this tool prints last.

Exit status: 0 written; 1 a user error in one ``error:`` line (missing or
damaged checkpoint, invalid taxonomy, a checkpoint without exactly one
mmhier head); 2 bad usage. ``--debug`` (or ``MMHIER_DEBUG=1``) prints the
traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script without installing mmhier
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from mmhier.tool_support import (ToolError, add_debug_argument, check_checkpoint,  # noqa: E402
                                 run_tool)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Carry a trained mmhier checkpoint to a grown taxonomy.',
        epilog='exit status: 0 written, 1 user error, 2 bad usage')
    parser.add_argument('checkpoint', metavar='CHECKPOINT')
    parser.add_argument('taxonomy', metavar='NEW_TAXONOMY', help='taxonomy YAML file')
    parser.add_argument('--out', required=True, metavar='FILE', help='migrated checkpoint')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the new outputs and branches (default: 0)')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
    from mmhier.models.heads.migration import migrate_state_dict
    from mmhier.taxonomy import Taxonomy
    checkpoint = check_checkpoint(args.checkpoint, purpose='CHECKPOINT argument')
    new = Taxonomy.from_file(args.taxonomy)
    state_dict = checkpoint.get('state_dict', checkpoint)
    migration = migrate_state_dict(state_dict, new, seed=args.seed)
    print(migration.diff.format_text())
    print(migration.format_text())
    meta = checkpoint.get('meta')
    meta = dict(meta) if isinstance(meta, dict) else {}
    meta.update(migrated_from=str(args.checkpoint), taxonomy_hash=new.tree_hash)
    for key in ('iter', 'epoch', 'message_hub'):
        meta.pop(key, None)
    out = Path(args.out)
    if out.is_dir():
        raise ToolError(f'--out {out}: is a folder; give a file name')
    try:
        torch.save({'meta': meta, 'state_dict': migration.state_dict}, out)
    except OSError as exc:
        raise ToolError(f'--out {out}: cannot write: {exc}') from None
    trainable = migration.fresh + list(migration.adapted)
    print(f'wrote {out}')
    print(f'trainable_classifiers={trainable!r}')


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    return run_tool(lambda: run(args), debug=args.debug)


if __name__ == '__main__':
    sys.exit(main())
