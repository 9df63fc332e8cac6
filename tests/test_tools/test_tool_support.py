"""mmhier.tool_support's parts on their own: accepted keys of a class, the
config source (bases, lines), attributing exceptions to the config (also
through MMCV-style wrapped messages), ``--cfg-options`` parsing,
checkpoint checks and a tool's model with a checkpoint's weights."""
import argparse

import pytest
import torch
from torch import nn

from mmhier.tool_support import (CheckpointError, ConfigError, ConfigOptionError,
                                  add_cfg_options_argument, build_model, check_fits_model,
                                  explain_config_error, load_config, read_checkpoint,
                                  read_model_checkpoint)
from mmhier.tool_support.config_files import (Location, find_assignment, find_key,
                                              find_type, source_problems)
from mmhier.tool_support.signatures import accepted_arguments


class Base(nn.Module):
    def __init__(self, channels, norm=None):
        super().__init__()


class Head(Base):
    def __init__(self, taxonomy, depth=1, **kwargs):
        super().__init__(**kwargs)


class Open:
    def __init__(self, size, **kwargs):
        pass


def test_accepted_arguments_follow_kwargs_to_the_base():
    head = accepted_arguments(Head)
    assert head.names == ('taxonomy', 'depth', 'channels', 'norm')
    assert head.required == ('taxonomy',) and not head.open
    assert head.unknown({'type': 'Head', 'taxonmy': 1, 'channels': 2}) == ['taxonmy']
    assert head.missing({'channels': 2}) == ['taxonomy']
    # **kwargs that reach object: any key may be fine, none reported unknown
    assert accepted_arguments(Open).open and accepted_arguments(Open).unknown({'x': 1}) == []
    assert accepted_arguments(lambda a, b=1: None).names == ('a', 'b')


def test_source_problems_lists_all_of_them(tmp_path):
    (tmp_path / 'broken_base.py').write_text('x = dict(a=1,\ny = 2\n')
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['./broken_base.py', './missing.py']\nz = 1\n")
    problems = source_problems(str(child))
    assert [(p.file, p.line) for p in problems] == [
        (str(tmp_path / 'broken_base.py'), 1), (str(child), 1)]
    assert 'syntax error' in problems[0].message
    assert 'missing.py does not exist' in problems[1].message
    with pytest.raises(ConfigError) as info:
        load_config(str(child))
    assert str(info.value).startswith(f'{tmp_path / "broken_base.py"}:1: syntax error')
    assert f'{child}:1: _base_ file {tmp_path / "missing.py"} does not exist' \
        in str(info.value)


def test_find_key_type_and_assignment(tmp_path):
    base = tmp_path / 'base.py'
    base.write_text("a = dict(type='A', depth=1)\n"
                    "b = dict(\n    type='mmseg.B',\n    depth=2)\n"
                    "c = {'type': 'C', 'depth': 3}\nrunner_type = 'X'\n")
    child = tmp_path / 'child.py'
    child.write_text("_base_ = './base.py'\nrunner_type = 'Y'\nrunner_type = 'Z'\n")
    config, base = str(child), str(base)
    assert find_key(config, 'depth', 'B') == Location(base, 4)
    assert find_key(config, 'depth', 'C') == Location(base, 5)
    assert find_key(config, 'depth') == Location(base, 1)
    assert find_type(config, 'B') == Location(base, 3)
    assert find_assignment(config, 'runner_type') == Location(config, 3)
    assert find_key(config, 'nowhere') is None


FAKE_REGISTRY = {'Head': Head}


def build_from_cfg(cfg, registry):
    """Like MMCV 1.x's builder: the original error wrapped in a message
    naming the class (``raise type(e)(f'class `X` in ...: {e}')``)."""
    args = dict(cfg)
    obj_cls = registry[args.pop('type')]
    try:
        return obj_cls(**args)
    except Exception as e:
        raise type(e)(f'class `{obj_cls.__name__}` in mmseg/models/head.py: {e}')


def test_wrapped_type_error_is_explained(tmp_path):
    config = tmp_path / 'wrapped.py'
    config.write_text("model = dict(\n    decode_head=dict(\n        type='Head',\n"
                      "        taxonmy='t.yaml', channels=8))\n")
    cfg = load_config(str(config))
    with pytest.raises(TypeError, match='class `Head` in mmseg/models/head.py') as info:
        build_from_cfg(cfg.model.decode_head, FAKE_REGISTRY)
    error = explain_config_error(info.value, str(config))
    assert isinstance(error, ConfigError) and error.line == 4
    assert str(error) == (f"{config}:4: model.decode_head: unknown key 'taxonmy' for Head "
                          "- did you mean 'taxonomy'?; Head needs 'taxonomy', which is "
                          "missing")


def test_internal_type_errors_are_not_explained(tmp_path):
    config = tmp_path / 'fine.py'
    config.write_text("model = dict(type='Head', taxonomy='t.yaml', channels=8)\n")

    def helper(value):
        return value
    with pytest.raises(TypeError) as info:  # a keyword no config dict holds
        helper(other=1)
    assert explain_config_error(info.value, str(config)) is None
    with pytest.raises(TypeError) as info:  # not a call that did not fit
        None + 1
    assert explain_config_error(info.value, str(config)) is None


def test_cfg_options_problems_are_reported_together(tmp_path):
    config = tmp_path / 'opts.py'
    config.write_text("pipeline = [dict(type='A'), dict(type='B')]\nsteps = 3\n")
    parser = argparse.ArgumentParser()
    add_cfg_options_argument(parser)
    args = parser.parse_args(['--cfg-options', 'noequals', 'pipeline.5.type=C',
                              'steps.x=1', 'pipeline.1.type=D', 'a.=1'])
    assert dict(args.cfg_options) == {'pipeline.5.type': 'C', 'steps.x': 1,
                                      'pipeline.1.type': 'D'}
    with pytest.raises(ConfigOptionError) as info:
        load_config(str(config), args.cfg_options)
    message = str(info.value)
    assert message.startswith(f'{config}: ')
    for piece in ("'noequals': expected KEY=VALUE", "'a.=1': the key 'a.' has an empty part",
                  "pipeline.5.type: pipeline is a list of 2 items; '5' is no index",
                  'steps.x: steps is 3 (int) in the config, it has no keys'):
        assert piece in message
    good = parser.parse_args(['--cfg-options', 'pipeline.1.type=D', 'steps=[1,(2,3)]'])
    cfg = load_config(str(config), good.cfg_options)
    assert cfg.pipeline[1].type == 'D' and cfg.steps == [1, (2, 3)]


def test_read_checkpoint_formats_and_contents(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 1))
    legacy = tmp_path / 'legacy.pth'
    torch.save({'state_dict': model.state_dict()}, legacy,
               _use_new_zipfile_serialization=False)
    checkpoint = read_checkpoint(str(legacy))
    check_fits_model(str(legacy), checkpoint, model)
    # saved from a DDP-wrapped model: MMEngine strips 'module.'
    wrapped = {'state_dict': {f'module.{k}': v for k, v in model.state_dict().items()}}
    check_fits_model('w.pth', wrapped, model)
    bare = tmp_path / 'bare.pth'
    torch.save(model.state_dict(), bare)
    check_fits_model(str(bare), read_checkpoint(str(bare)), model)
    nested = tmp_path / 'nested.pth'
    torch.save({'state_dict': [1, 2]}, nested)
    with pytest.raises(CheckpointError, match='holds no weights'):
        read_checkpoint(str(nested))
    with pytest.raises(CheckpointError, match=r"no shape fits, e.g. '0.weight': \(3,\)"):
        check_fits_model('x.pth', {'0.weight': torch.zeros(3)}, model)


class ToolSupportToy(nn.Module):
    """A segmentor stand-in for :func:`build_model` (registered below)."""

    def __init__(self, channels, train_cfg=None):
        super().__init__()
        self.conv = nn.Conv2d(channels, 2, 1)
        self.norm = nn.BatchNorm2d(2)
        self.train_cfg = train_cfg


def test_build_model_checks_the_model_then_loads_checked_weights(tmp_path):
    from mmengine.config import Config
    from mmseg.registry import MODELS
    MODELS.register_module(module=ToolSupportToy, force=True)
    cfg = Config(dict(default_scope='mmseg',
                      model=dict(type='ToolSupportToy', channels=3, train_cfg=dict(x=1))))
    torch.manual_seed(0)
    initial = build_model(cfg, None)   # no checkpoint: the initial weights
    assert isinstance(initial, ToolSupportToy) and not initial.training
    assert initial.train_cfg is None and initial.cfg is cfg
    # saved from a DDP-wrapped model, weights of its own
    weights = {f'module.{k}': v + 1 for k, v in initial.state_dict().items()}
    path = tmp_path / 'ddp.pth'
    torch.save({'meta': {}, 'state_dict': weights}, path)
    read = read_model_checkpoint(str(path))
    assert read['state_dict'].keys() == weights.keys()
    seen = []
    model = build_model(cfg, str(path), read, check_model=lambda m: seen.append(
        m.conv.weight.detach().clone()))
    torch.testing.assert_close(model.conv.weight, initial.conv.weight + 1, rtol=0, atol=0)
    torch.testing.assert_close(model.norm.running_var, torch.full((2,), 2.0))
    assert len(seen) == 1 and not torch.equal(seen[0], model.conv.weight)   # checked first
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {'conv.weight': torch.zeros(5, 3, 1, 1)}}, other)
    with pytest.raises(CheckpointError, match='other.pth'):
        build_model(cfg, str(other))      # read here: weights that do not fit

    def refuse(model):
        raise ValueError(f'{type(model).__name__} is not the model this tool needs')
    with pytest.raises(ValueError, match='ToolSupportToy is not the model'):
        build_model(cfg, str(other), check_model=refuse)   # before the weights
    with pytest.raises(CheckpointError, match='does not exist'):
        read_model_checkpoint(str(tmp_path / 'missing.pth'))
