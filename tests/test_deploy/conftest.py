"""Tiny configs and checkpoints for the deployment tests: a ResNet-18-like
backbone at 1/8 width (output stride 8) with an mmhier head on
taxonomies/tiny_street.yaml, built through the registry from config files;
and the exports the tests share (each made once per session)."""
import contextlib
import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'taxonomies' / 'tiny_street.yaml'
OTHER = REPO / 'taxonomies' / 'cs_vistas_gtsdb.yaml'
TOOL = REPO / 'tools' / 'export.py'
#: Export (example) size of the tests: (H, W).
SIZE = (40, 56)
#: Size of the static level-1 export of ``tools/export.py --shape``.
LEVEL1_SIZE = (48, 64)

CONFIG = '''\
custom_imports = dict(imports=['mmhier.models'], allow_failed_imports=False)
default_scope = 'mmseg'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='TaxonomyEncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=-1, size={size!r}),
    backbone=dict(type='ResNetV1c', depth=18, base_channels=8, stem_channels=8,
                  num_stages=4, out_indices=(3, ), dilations=(1, 1, 2, 4),
                  strides=(1, 2, 1, 1), norm_cfg=norm_cfg, contract_dilation=True),
    decode_head=dict(type={head!r},{taxonomy} in_channels=64, in_index=0,
                     channels=16, norm_cfg=norm_cfg, align_corners=False{extra}),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
'''
HEADS = {
    'hier': ('HierarchicalDecodeHead', ", branch=dict(width=16)"),
    'path': ('HierarchicalDecodeHead', ", branch=dict(width=16), decision='path'"),
    'shared': ('HierarchicalDecodeHead', ", branch=dict(width=16), "
               "shared_branch=dict(width=16), own_branches=dict(max_level=1)"),
    'flat': ('FlatTaxonomyHead', ', num_convs=1, kernel_size=1, concat_input=False'),
    'fcn': ('FCNHead', ', num_convs=1, kernel_size=1, concat_input=False, num_classes=5'),
}


def write_config(path: Path, head: str = 'hier', taxonomy: Path = TINY) -> Path:
    """Write the tiny config with one of :data:`HEADS` and return its path."""
    head_type, extra = HEADS[head]
    taxonomy_arg = '' if head == 'fcn' else f' taxonomy={str(taxonomy)!r},'
    path.write_text(CONFIG.format(size=SIZE, head=head_type, taxonomy=taxonomy_arg,
                                  extra=extra))
    return path


def build_from(config: Path):
    import mmhier.models  # noqa: F401  (registers)
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(Config.fromfile(str(config)).model)


def save_checkpoint(config: Path, path: Path, seed: int = 0) -> Path:
    """A checkpoint of freshly initialised weights, with unit-scale
    classifiers and batch-norm statistics of a few images, so that every
    classifier's decision varies over an image."""
    from mmhier.deploy import calibrate_batch_norm
    from mmhier.deploy.verify import sample_images
    torch.manual_seed(seed)
    model = build_from(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'classify' in name or 'conv_seg' in name:
                param.normal_(0.0, 1.0)
    calibrate_batch_norm(model, [sample_images(SIZE, 4, seed=seed + 100)])
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return path


def load_export_tool():
    """``tools/export.py`` as a module (for in-process runs)."""
    spec = importlib.util.spec_from_file_location('mmhier_tool_export', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='package', autouse=True)
def one_thread():
    """PyTorch on one thread while these tests run: the tiny models gain
    nothing from more, and on cores shared with other jobs the threads'
    spin-waiting made a 20 ms forward pass take seconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def tiny(tmp_path_factory):
    """``{name: (config, checkpoint)}`` for hier, path, shared (fused
    classifier branches), flat and fcn, and
    ``'other'``: a hierarchical checkpoint of another taxonomy. The path-rule
    model has the hierarchical model's weights (the rule is not a weight)."""
    root = tmp_path_factory.mktemp('deploy')
    files = {}
    for name in HEADS:
        config = write_config(root / f'{name}.py', name)
        checkpoint = (files['hier'][1] if name == 'path'
                      else save_checkpoint(config, root / f'{name}.pth'))
        files[name] = (config, checkpoint)
    other = write_config(root / 'other.py', 'hier', OTHER)
    files['other'] = (other, save_checkpoint(other, root / 'other.pth'))
    return files


@pytest.fixture(scope='session')
def hier_wrapper(tiny):
    """The hierarchical tiny model as a DeployableSegmentor (both outputs)."""
    from mmhier.deploy import DeployableSegmentor, deploy_config, load_deploy_model
    config, checkpoint = tiny['hier']
    model = load_deploy_model(deploy_config(str(config)), str(checkpoint))
    return DeployableSegmentor(model, ('nodes', 'scores'))


# Every export below is made once per session and shared by the tests that
# read it (an export takes seconds, the checks on it milliseconds).

@pytest.fixture(scope='session')
def hier_program(hier_wrapper):
    """The hierarchical tiny model recorded by ``torch.export``, dynamic
    batch/height/width, both outputs."""
    from mmhier.deploy import export_program
    return export_program(hier_wrapper, SIZE, dynamic=True)


@pytest.fixture(scope='session')
def hier_onnx(hier_wrapper, hier_program, tmp_path_factory) -> Path:
    """:func:`hier_program` as an ONNX file (opset 18)."""
    from mmhier.deploy import deploy_metadata, save_onnx
    path = tmp_path_factory.mktemp('onnx') / 'hier.onnx'
    metadata = deploy_metadata(hier_wrapper, export_size=SIZE, dynamic=True,
                               source={'config': 'hier.py'})
    save_onnx(hier_program, str(path), hier_wrapper.outputs, 18, metadata)
    return path


@pytest.fixture(scope='session')
def flat_onnx_by_script(tiny, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The flat tiny model exported by ``tools/export.py`` run as a script
    (without the repository on ``PYTHONPATH``, from another directory): ONNX
    at the default opset, dynamic, both outputs, verified.

    Returns:
        The ONNX file and the finished process.
    """
    config, checkpoint = tiny['flat']
    cwd = tmp_path_factory.mktemp('script')
    out = cwd / 'flat.onnx'
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(config), str(checkpoint), '--out', str(out),
         '--dynamic', '--output', 'both', '--verify'],
        capture_output=True, text=True, cwd=cwd, timeout=600,
        env={**os.environ, 'PYTHONPATH': '', 'OMP_NUM_THREADS': '1'})
    return out, proc


@pytest.fixture(scope='session')
def level1_by_tool(tiny, tmp_path_factory) -> tuple[Path, int, str]:
    """The hierarchical tiny model cut at level 1, exported by
    ``tools/export.py``'s ``main`` as a static exported program at 48x64.

    Returns:
        The ``.pt2`` file, the exit status and what the tool printed.
    """
    config, checkpoint = tiny['hier']
    out = tmp_path_factory.mktemp('level1') / 'level1.pt2'
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = load_export_tool().main([str(config), str(checkpoint), '--out', str(out),
                                          '--format', 'exported-program', '--level', '1',
                                          '--shape', *map(str, LEVEL1_SIZE)])
    return out, status, printed.getvalue()


@pytest.fixture(scope='session')
def level1_exported(level1_by_tool):
    """:func:`level1_by_tool`'s program, loaded (an ``ExportedModel``)."""
    from mmhier.deploy import ExportedModel
    path, status, printed = level1_by_tool
    assert status == 0, printed
    return ExportedModel(str(path))
