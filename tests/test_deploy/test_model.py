"""DeployableSegmentor: preprocessing, backbone, head, upsampling and decision
in one module; eager, it gives the node ids of MMSeg's predict."""
import numpy as np
import pytest
import torch

from mmhier.deploy import (DeployableSegmentor, ExportError, Preprocessing,
                           UnsupportedModelError, deploy_config, load_deploy_model)
from mmhier.deploy.verify import eager_outputs, sample_images
from tests.test_deploy.conftest import build_from


def test_eager_forward_is_model_predict(hier_wrapper):
    images = sample_images((37, 45), batch=2)
    with torch.no_grad():
        nodes, scores = hier_wrapper(torch.from_numpy(images))
    predicted, eager_scores, _ = eager_outputs(hier_wrapper, images)
    assert torch.equal(nodes, torch.from_numpy(predicted))
    assert torch.equal(scores, torch.from_numpy(eager_scores))
    head = hier_wrapper.head
    assert len(np.unique(predicted)) >= 3            # the decision varies over the image
    assert set(np.unique(predicted).tolist()) <= set(head.output_nodes.tolist())
    assert scores.shape == (2, len(head.output_nodes), 37, 45)


def test_preprocessing_follows_the_data_preprocessor(hier_wrapper):
    pre = hier_wrapper.preprocessing
    assert (pre.input_order, pre.network_order, pre.swap) == ('bgr', 'rgb', True)
    assert pre.mean == pytest.approx((123.675, 116.28, 103.53))
    image = torch.from_numpy(sample_images((8, 8), 1))
    network = hier_wrapper.normalized(image)
    expected = (image[0, [2, 1, 0]] - torch.tensor(pre.mean).view(3, 1, 1)) \
        / torch.tensor(pre.std).view(3, 1, 1)
    assert torch.equal(network[0], expected)
    rgb = DeployableSegmentor(hier_wrapper.segmentor, ('nodes',), input_order='rgb')
    assert not rgb.preprocessing.swap
    assert torch.equal(rgb.normalized(image.flip(1)), network)
    with pytest.raises(ExportError, match='channel order'):
        Preprocessing.of(hier_wrapper.segmentor.data_preprocessor, 'bgra')


def test_outputs_must_be_nodes_or_scores(hier_wrapper):
    with pytest.raises(ExportError, match='outputs must be'):
        DeployableSegmentor(hier_wrapper.segmentor, ('logits',))
    assert DeployableSegmentor(hier_wrapper.segmentor, ('scores', 'nodes')).outputs == (
        'nodes', 'scores')


def test_model_without_mmhier_head_is_refused(tiny):
    config, _ = tiny['fcn']
    with pytest.raises(UnsupportedModelError, match="decode_head is 'FCNHead', not an mmhier"):
        deploy_config(str(config))
    with pytest.raises(UnsupportedModelError, match='not an mmhier head'):
        DeployableSegmentor(build_from(config).eval())


def test_flat_model_deploys_like_its_predict(tiny):
    config, checkpoint = tiny['flat']
    wrapper = DeployableSegmentor(load_deploy_model(deploy_config(str(config)),
                                                    str(checkpoint)), ('nodes', 'scores'))
    images = sample_images((29, 35), batch=1)
    with torch.no_grad():
        nodes, scores = wrapper(torch.from_numpy(images))
    predicted, eager_scores, _ = eager_outputs(wrapper, images)
    assert torch.equal(nodes, torch.from_numpy(predicted))
    torch.testing.assert_close(scores.sum(dim=1), torch.ones(1, 29, 35))
    with pytest.raises(ExportError, match='need a HierarchicalDecodeHead'):
        deploy_config(str(config), level=1)
