"""mmhier.taxonomy is usable without torch or mmseg installed."""
import subprocess
import sys

from tests.conftest import REPO_ROOT

BLOCK_HEAVY = '''
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'torch', 'mmseg', 'mmcv', 'mmengine'}:
            raise ImportError(f'{name} is blocked in this test')
sys.meta_path.insert(0, Block())
import mmhier, mmhier.taxonomy
from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.cli import main
tax = Taxonomy.from_file('taxonomies/cs_vistas_gtsdb.yaml')
assert main(['show', 'taxonomies/tiny_street.yaml']) == 0
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'mmseg'})
print('classifiers', tax.num_classifiers, 'heavy', heavy)
'''


def test_taxonomy_imports_without_torch_or_mmseg():
    run = subprocess.run([sys.executable, '-c', BLOCK_HEAVY], cwd=REPO_ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith('classifiers 5 heavy []')
