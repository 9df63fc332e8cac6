"""Batch-norm statistics of a random-weight model: the cumulative average of
every batch's statistics, through the data preprocessor, backbone and head."""
import torch

from mmhier.deploy import calibrate_batch_norm
from mmhier.deploy.verify import sample_images
from tests.test_deploy.conftest import build_from, write_config


def test_running_statistics_average_every_batch(tmp_path):
    torch.manual_seed(0)
    model = build_from(write_config(tmp_path / 'hier.py', 'hier'))
    stem, head = model.backbone.stem[1], model.decode_head.shared.bn
    seen = {stem: [], head: []}
    hooks = [m.register_forward_hook(lambda m, args, out: seen[m].append(args[0]))
             for m in seen]
    batches = [sample_images((24, 32), 2, seed=s) for s in (1, 2)]
    assert calibrate_batch_norm(model, batches) is model
    for hook in hooks:
        hook.remove()
    assert not model.training
    for norm, inputs in seen.items():
        assert len(inputs) == 2 and norm.momentum is None
        means = torch.stack([x.mean(dim=(0, 2, 3)) for x in inputs])
        variances = torch.stack([x.var(dim=(0, 2, 3)) for x in inputs])   # unbiased
        torch.testing.assert_close(norm.running_mean, means.mean(0))
        torch.testing.assert_close(norm.running_var, variances.mean(0))
        assert int(norm.num_batches_tracked) == 2
        assert (means[0] - means[1]).abs().max() > 1e-3   # two different batches
