"""Fixtures for model tests: a small taxonomy with boxes, built in memory."""
import pytest
from mmseg.utils import register_all_modules

from mmhier.taxonomy import Taxonomy

# mmseg's modules and default scope, as tools/train.py would set them up.
register_all_modules(init_default_scope=True)

TOY = '''
name: loss_toy
tree:
  root:
    sky:
    sign:
      back:
      front: [stop, yield]
datasets:
  fine:
    annotation: pixel
    classes: {0: sky, 1: back, 2: front}
  boxes:
    annotation: box
    classes: {0: stop, 1: yield}
    supervision: {skip: [root, sign]}
'''


@pytest.fixture(scope='session')
def toy():
    """Nodes (preorder): 0 root, 1 sky, 2 sign, 3 back, 4 front, 5 stop,
    6 yield. Classifiers: 0 root (sky, sign), 1 sign (back, front),
    2 front (stop, yield). ``fine`` trains root and sign, ``boxes`` front."""
    return Taxonomy.from_string(TOY)
