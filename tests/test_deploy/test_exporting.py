"""Exported graphs: ONNX through onnxruntime and torch.export programs give
MMSeg's node ids at any input size (batch, height and width dynamic), and
bad opsets are refused. The exports are the session's (``conftest.py``)
except the path-rule model's, made once here."""
import numpy as np
import onnx
import pytest
import torch

from mmhier.deploy import (DeployableSegmentor, ExportedModel, UnsupportedOpsetError,
                           deploy_config, deploy_metadata, export_program, load_deploy_model,
                           save_exported_program, save_onnx, sidecar_path)
from mmhier.deploy.exporting import check_opset, input_size_range, require
from mmhier.deploy.verify import eager_outputs, sample_images
from tests.test_deploy.conftest import LEVEL1_SIZE, SIZE

#: (batch, H, W): the export size, odd sizes, smaller and larger ones.
RUNS = [(2, *SIZE), (1, 37, 45), (1, 61, 99), (3, 33, 33), (1, 80, 121)]
#: Opset of the path-rule model's export (the others use the default, 18).
PATH_OPSET = 21


@pytest.fixture(scope='module')
def path_onnx(tiny, tmp_path_factory):
    """The path-rule tiny model exported to ONNX at :data:`PATH_OPSET`,
    dynamic, node ids only: ``(path, wrapper)``."""
    config, checkpoint = tiny['path']
    wrapper = DeployableSegmentor(load_deploy_model(deploy_config(str(config)),
                                                    str(checkpoint)), ('nodes',))
    program = export_program(wrapper, SIZE, dynamic=True)
    path = tmp_path_factory.mktemp('path') / 'path.onnx'
    save_onnx(program, str(path), wrapper.outputs, PATH_OPSET,
              deploy_metadata(wrapper, export_size=SIZE, dynamic=True))
    return path, wrapper


def test_onnx_decides_like_pytorch_at_every_size(hier_wrapper, hier_onnx):
    exported = ExportedModel(str(hier_onnx))
    assert exported.output_names == ['nodes', 'scores']
    for i, (batch, height, width) in enumerate(RUNS):
        images = sample_images((height, width), batch, seed=i)
        out = exported(images)
        nodes, scores, _ = eager_outputs(hier_wrapper, images)
        assert out['nodes'].shape == (batch, height, width) and out['nodes'].dtype == np.int64
        assert out['scores'].shape == (batch, len(hier_wrapper.output_nodes), height, width)
        # random weights with unit-scale classifiers: no near-ties at these sizes
        np.testing.assert_array_equal(out['nodes'], nodes)
        np.testing.assert_allclose(out['scores'], scores, atol=1e-4)
        assert len(np.unique(nodes)) >= 3


def test_onnx_graph_has_dynamic_batch_height_width(hier_onnx, hier_program):
    model = onnx.load(str(hier_onnx))
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert [type(d) for d in dims] == [str, int, str, str] and dims[1] == 3
    assert [i.name for i in model.graph.input] == ['image']
    assert [o.name for o in model.graph.output] == ['nodes', 'scores']
    assert model.opset_import[0].version == 18
    ranges = input_size_range(hier_program)
    assert ranges['batch'][1] is None and ranges['height'][1] is None
    assert 1 <= ranges['height'][0] <= SIZE[0] and 1 <= ranges['width'][0] <= SIZE[1]


def test_static_export_fixes_the_size(level1_exported):
    # tools/export.py without --dynamic, as torch.export.load reads it back
    assert input_size_range(level1_exported.program) == {
        'batch': (1, 1), 'height': (LEVEL1_SIZE[0],) * 2, 'width': (LEVEL1_SIZE[1],) * 2}


def test_exported_program_with_sidecar(hier_wrapper, hier_program, tmp_path):
    path = str(tmp_path / 'hier.pt2')
    metadata = deploy_metadata(hier_wrapper, export_size=SIZE, dynamic=True)
    sidecar = save_exported_program(hier_program, path, metadata)
    assert sidecar == sidecar_path(path) == path + '.json'
    exported = ExportedModel(path)
    assert exported.format == 'exported-program' and exported.metadata == metadata
    for batch, height, width in RUNS[1:3]:
        images = sample_images((height, width), batch, seed=height)
        out = exported(images)
        nodes, scores, _ = eager_outputs(hier_wrapper, images)
        # the same kernels as eager: identical node ids and scores
        np.testing.assert_array_equal(out['nodes'], nodes)
        np.testing.assert_array_equal(out['scores'], scores)


@pytest.mark.parametrize('name', ['path', 'flat'])
def test_path_rule_and_flat_heads_export(tiny, name, request):
    if name == 'path':
        path, wrapper = request.getfixturevalue('path_onnx')
    else:   # exported by tools/export.py (both outputs)
        path, _ = request.getfixturevalue('flat_onnx_by_script')
        config, checkpoint = tiny[name]
        wrapper = DeployableSegmentor(load_deploy_model(deploy_config(str(config)),
                                                        str(checkpoint)), ('nodes',))
    images = sample_images((45, 67), 1, seed=5)
    nodes, _, _ = eager_outputs(wrapper, images)
    np.testing.assert_array_equal(ExportedModel(str(path))(images)['nodes'], nodes)


def test_fused_branch_head_exports_to_onnx(tiny, tmp_path):
    """The large-taxonomy head (shared adaptation, fused classifiers, the
    transposed convolutions as an einsum) decides in onnxruntime as in
    PyTorch, at several sizes."""
    config, checkpoint = tiny['shared']
    wrapper = DeployableSegmentor(load_deploy_model(deploy_config(str(config)),
                                                    str(checkpoint)), ('nodes',))
    head = wrapper.head
    assert head.fused is not None and head.own_classifiers == [0]
    path = tmp_path / 'shared.onnx'
    save_onnx(export_program(wrapper, SIZE, dynamic=True), str(path), wrapper.outputs, 18,
              deploy_metadata(wrapper, export_size=SIZE, dynamic=True))
    exported = ExportedModel(str(path))
    for batch, height, width in RUNS[:3]:
        images = sample_images((height, width), batch, seed=height)
        nodes, _, _ = eager_outputs(wrapper, images)
        assert len(np.unique(nodes)) > 2
        np.testing.assert_array_equal(exported(images)['nodes'], nodes)


def test_level_of_detail_export(tiny, hier_wrapper, level1_exported):
    """tools/export.py --level 1 (static, exported program) against the
    level-1 model in PyTorch and the full model cut at level 1."""
    config, checkpoint = tiny['hier']
    cfg = deploy_config(str(config), level=1)
    wrapper = DeployableSegmentor(load_deploy_model(cfg, str(checkpoint)), ('nodes',))
    taxonomy = wrapper.head.taxonomy
    assert (taxonomy.node_level[wrapper.output_nodes.numpy()] <= 1).all()
    images = sample_images(LEVEL1_SIZE, 1, seed=3)
    nodes = level1_exported(images)['nodes']
    np.testing.assert_array_equal(nodes, eager_outputs(wrapper, images)[0])
    assert (taxonomy.node_level[nodes] == 1).all()
    # the same pixels as the full model, cut at level 1
    full = eager_outputs(hier_wrapper, images)[0]
    np.testing.assert_array_equal(nodes, taxonomy.ancestor_at_level[1][full])


def test_opsets(path_onnx):
    for opset in (16, 24, 9):
        with pytest.raises(UnsupportedOpsetError, match=f'--opset {opset} is not supported'):
            check_opset(opset)
    check_opset(17)
    check_opset(23)
    path, _ = path_onnx
    assert onnx.load(str(path)).opset_import[0].version == PATH_OPSET


def test_missing_deploy_package_names_the_extra():
    from mmhier.deploy import MissingDependencyError
    with pytest.raises(MissingDependencyError, match=r'mmhier\[deploy\]'):
        require('onnxruntime_not_installed')
    assert require('onnx') is onnx


def test_example_input_is_not_all_one_value():
    from mmhier.deploy.exporting import example_input
    x = example_input(3, (4, 5), batch=2)
    assert x.shape == (2, 3, 4, 5) and x.dtype == torch.float32
    assert 0 <= x.min() < x.max() <= 255 and torch.equal(x, x.round())
