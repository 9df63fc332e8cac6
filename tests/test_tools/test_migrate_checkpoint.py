"""tools/migrate_checkpoint.py: a head trained on street_v1 (two datasets)
is carried to street_v2 (a renamed leaf, a new crosswalk, sign classes
regrouped, a new vegetation subtree and a dataset labelling it). Carried
classifiers give the same logits as before; with ``trainable_classifiers``
the carried parts stay exactly as they were while the new branch learns."""
from pathlib import Path

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmhier.models  # noqa: F401  (registers)
from mmhier.taxonomy import Taxonomy
from tests.test_tools.test_train_test_tools import load_tool

DATA = Path(__file__).resolve().parents[1] / 'data' / 'taxonomy_diff'
V1, V2 = DATA / 'street_v1.yaml', DATA / 'street_v2.yaml'
FEATURES = 6


def build_head(taxonomy, **kwargs):
    return MODELS.build(dict(type='HierarchicalDecodeHead', taxonomy=str(taxonomy),
                             in_channels=FEATURES, channels=8, branch=dict(width=8),
                             dropout_ratio=0.0, norm_cfg=dict(type='BN'), **kwargs))


def batch(tax: Taxonomy, dataset: str, seed: int, size=(8, 10)):
    """Features whose first channels say the class, and labels of one dataset."""
    generator = torch.Generator().manual_seed(seed)
    classes = [c for c in tax.dataset(dataset).classes if c.node is not None]
    pick = torch.randint(0, len(classes), (2, *size), generator=generator)
    nodes = torch.as_tensor([tax.index(c.node) for c in classes])[pick]
    features = torch.randn(2, FEATURES, *size, generator=generator) * 0.1
    features[:, :len(classes)] += torch.nn.functional.one_hot(pick, len(classes)) \
        .permute(0, 3, 1, 2).float()
    samples = []
    for labels in nodes:
        sample = SegDataSample(metainfo=dict(dataset_key=dataset))
        sample.gt_sem_seg = PixelData(data=labels[None].repeat_interleave(2, 1)
                                      .repeat_interleave(2, 2))
        samples.append(sample)
    return [features], samples


def train(head, batches, steps: int, lr: float = 0.1):
    params = [p for p in head.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr)
    head.train()
    for step in range(steps):
        features, samples = batches[step % len(batches)]
        losses = head.loss(features, samples, None)
        optimizer.zero_grad()
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        optimizer.step()


@pytest.fixture(scope='module')
def migrated(tmp_path_factory):
    torch.manual_seed(0)
    v1 = Taxonomy.from_file(V1)
    old = build_head(V1)
    train(old, [batch(v1, 'city', 0), batch(v1, 'lanes', 1)], 6)
    root = tmp_path_factory.mktemp('migrate')
    checkpoint, out = root / 'v1.pth', root / 'v2.pth'
    torch.save({'meta': {'iter': 6}, 'state_dict': {
        **{f'decode_head.{k}': v for k, v in old.state_dict().items()},
        'backbone.stem.weight': torch.ones(3)}}, checkpoint)
    tool = load_tool('migrate_checkpoint')
    status = tool.main([str(checkpoint), str(V2), '--out', str(out)])
    assert status == 0
    return old.eval(), torch.load(out, weights_only=True)


def new_head(state, **kwargs):
    head = build_head(V2, **kwargs)
    head.load_state_dict({k[len('decode_head.'):]: v for k, v in state['state_dict'].items()
                          if k.startswith('decode_head.')})
    return head


def test_carried_classifiers_give_the_same_logits(migrated):
    old, state = migrated
    assert state['state_dict']['backbone.stem.weight'].tolist() == [1.0, 1.0, 1.0]
    assert 'iter' not in state['meta'] and \
        state['meta']['taxonomy_hash'] == Taxonomy.from_file(V2).tree_hash
    head = new_head(state).eval()
    features, _ = batch(Taxonomy.from_file(V1), 'city', 5)
    with torch.no_grad():
        before, after = old.forward(features), head.forward(features)
    # classifiers (v1 -> v2): root 0 -> 0 (+ vegetation), driveable 1 -> 1
    # (road, crosswalk, marking), traffic sign 2 -> 2 (unchanged), front 3 -> 3
    # (regrouped: nothing carried)
    assert torch.equal(after[0][:, :3], before[0])
    assert torch.equal(after[1][:, [0, 2]], before[1])
    assert torch.equal(after[2], before[2])
    # the decision is unchanged wherever it does not reach a new output
    old_nodes = old.decide(before, (16, 20))
    new_nodes = head.decide(after, (16, 20))
    v1, v2 = Taxonomy.from_file(V1), Taxonomy.from_file(V2)
    renamed = {'lane marking': 'marking'}
    old_names = [renamed.get(v1.nodes[i], v1.nodes[i]) for i in old_nodes.flatten().tolist()]
    new_names = [v2.nodes[i] for i in new_nodes.flatten().tolist()]
    routed = [(a, b) for a, b in zip(old_names, new_names)
              if b in ('sky', 'road', 'marking', 'back')]
    assert len(routed) > 100 and all(a == b for a, b in routed)


def test_frozen_carried_parts_stay_and_the_new_branch_learns(migrated):
    _, state = migrated
    trainable = ['vegetation', 'regulatory', 'warning', 'root', 'driveable', 'front']
    head = new_head(state, trainable_classifiers=trainable,
                    loss_decode=dict(type='HierarchicalLoss', level_weights=[1.0, 1.0]))
    v2 = Taxonomy.from_file(V2)
    before = {k: v.clone() for k, v in head.state_dict().items()}
    parks = batch(v2, 'parks', 7)
    with torch.no_grad():
        head.eval()
        loss_before = head.loss(*parks, None)['loss_vegetation'].item()
    train(head, [parks, batch(v2, 'signs', 8)], 30, lr=0.5)
    after = head.state_dict()
    moving = {v2.classifiers[j].node for j in range(v2.num_classifiers)
              if v2.classifiers[j].node in trainable}
    for key, value in before.items():
        index = key.split('.')[1] if key.startswith('branches.') else None
        owner = v2.classifiers[int(index)].node if index is not None else None
        if owner in moving:
            continue
        assert torch.equal(after[key], value), key     # weights and BN statistics
    vegetation = v2.classifier('vegetation').index
    assert not torch.equal(after[f'branches.{vegetation}.classify.weight'],
                           before[f'branches.{vegetation}.classify.weight'])
    with torch.no_grad():
        head.eval()
        loss_after = head.loss(*parks, None)['loss_vegetation'].item()
    assert loss_after < 0.5 * loss_before, (loss_before, loss_after)


def test_what_the_tool_prints(migrated, tmp_path, capsys):
    old, _ = migrated
    checkpoint = tmp_path / 'v1.pth'
    torch.save({'state_dict': {f'decode_head.{k}': v for k, v in old.state_dict().items()}},
               checkpoint)
    tool = load_tool('migrate_checkpoint')
    assert tool.main([str(checkpoint), str(V2), '--out', str(tmp_path / 'v2.pth')]) == 0
    printed = capsys.readouterr().out
    assert 'nodes renamed (1):\n  lane marking -> marking' in printed
    assert 'copied whole (1): traffic sign' in printed
    assert 'adapted (3): root (3 of 4 outputs carried), driveable (2 of 3 outputs ' \
        'carried), front (0 of 2 outputs carried)' in printed
    assert 'new branches (3): regulatory, warning, vegetation' in printed
    assert "trainable_classifiers=['regulatory', 'warning', 'vegetation', 'root', " \
        "'driveable', 'front']" in printed


@pytest.mark.parametrize('case, says', [
    ('missing', 'does not exist'),
    ('no_head', 'holds 0 mmhier heads'),
    ('bad_taxonomy', 'TaxonomyValidationError'),
    ('fused', 'shared_branch'),
    ('flat', 'not a HierarchicalDecodeHead with one branch per classifier'),
])
def test_bad_inputs_are_one_error_line(migrated, tmp_path, capsys, case, says):
    old, _ = migrated
    checkpoint, taxonomy = tmp_path / 'in.pth', V2
    state = {f'decode_head.{k}': v for k, v in old.state_dict().items()}
    if case == 'no_head':
        state = {'backbone.weight': torch.ones(2)}
    if case == 'bad_taxonomy':
        taxonomy = tmp_path / 'bad.yaml'
        taxonomy.write_text('name: x\ntree: {r: [a]}\n')
    if case == 'fused':
        fused = build_head(V1, shared_branch=dict(width=8))
        state = {f'decode_head.{k}': v for k, v in fused.state_dict().items()}
    if case == 'flat':
        flat = MODELS.build(dict(type='FlatTaxonomyHead', taxonomy=str(V1), in_channels=4,
                                 channels=4, num_convs=1, norm_cfg=dict(type='BN')))
        state = {f'decode_head.{k}': v for k, v in flat.state_dict().items()}
    if case != 'missing':
        torch.save({'state_dict': state}, checkpoint)
    tool = load_tool('migrate_checkpoint')
    assert tool.main([str(checkpoint), str(taxonomy), '--out', str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and says in err and 'Traceback' not in err
    assert not (tmp_path / 'o.pth').exists()


def test_trainable_classifiers_and_fused_branches_that_cannot_be_split():
    with pytest.raises(ValueError, match="share their fused branch"):
        build_head(V2, shared_branch=dict(width=8), trainable_classifiers=['vegetation'])
    head = build_head(V2, shared_branch=dict(width=8),
                      own_branches=dict(nodes=['vegetation']),
                      trainable_classifiers=['vegetation'])
    assert all(not p.requires_grad for p in head.fused.parameters())
    assert all(p.requires_grad for p in head.branches[0].parameters())
