"""Registries of the ``mmhier`` scope: empty children of MMSegmentation's.

mmhier registers its modules straight into ``mmseg.registry``. This module
exists for configs that inherit a shipped config as
``_base_ = ['mmhier::hier/resnet50_d8_cs_vistas_gtsdb.py']``: MMEngine tags
every object such a base defines with ``_scope_='mmhier'`` and builds it from
the registry of scope ``mmhier``, which it finds by importing
``mmhier.registry``. Each registry here is a child of the MMSeg registry of the
same name with no modules of its own, so every lookup falls through to MMSeg's
registry (and from there to MMEngine's). A first lookup imports the modules
of MMSeg's registry and mmhier's (:data:`LOCATIONS`), as a lookup in scope
``mmseg`` and the configs' ``custom_imports`` would.
"""
from mmengine.registry import Registry
from mmseg import registry as mmseg_registry

#: The scope name MMEngine gives objects from ``mmhier::`` bases.
SCOPE = 'mmhier'
#: Packages that register mmhier's modules into MMSeg's registries.
LOCATIONS = ('mmhier.models', 'mmhier.datasets', 'mmhier.evaluation', 'mmhier.engine')


class ChildRegistry(Registry):
    """A registry whose lookups first import its parent's modules too (MMSeg
    registers e.g. its visualizers only when its own registry is searched)."""

    def import_from_location(self) -> None:
        """Imports the parent's locations, then this registry's."""
        if self.parent is not None:
            self.parent.import_from_location()
        super().import_from_location()


def _child(parent: Registry) -> Registry:
    """An empty ``mmhier``-scope child of ``parent``."""
    return ChildRegistry(parent.name, parent=parent, scope=SCOPE,
                         locations=list(LOCATIONS))


HOOKS = _child(mmseg_registry.HOOKS)
DATASETS = _child(mmseg_registry.DATASETS)
DATA_SAMPLERS = _child(mmseg_registry.DATA_SAMPLERS)
TRANSFORMS = _child(mmseg_registry.TRANSFORMS)
MODELS = _child(mmseg_registry.MODELS)
WEIGHT_INITIALIZERS = _child(mmseg_registry.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmseg_registry.OPTIMIZERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmseg_registry.OPTIM_WRAPPER_CONSTRUCTORS)
TASK_UTILS = _child(mmseg_registry.TASK_UTILS)
PARAM_SCHEDULERS = _child(mmseg_registry.PARAM_SCHEDULERS)
METRICS = _child(mmseg_registry.METRICS)
MODEL_WRAPPERS = _child(mmseg_registry.MODEL_WRAPPERS)
VISBACKENDS = _child(mmseg_registry.VISBACKENDS)
VISUALIZERS = _child(mmseg_registry.VISUALIZERS)
RUNNERS = _child(mmseg_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmseg_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmseg_registry.LOOPS)
EVALUATOR = _child(mmseg_registry.EVALUATOR)
LOG_PROCESSORS = _child(mmseg_registry.LOG_PROCESSORS)
OPTIM_WRAPPERS = _child(mmseg_registry.OPTIM_WRAPPERS)
INFERENCERS = _child(mmseg_registry.INFERENCERS)

__all__ = ['SCOPE', 'LOCATIONS', 'ChildRegistry', *mmseg_registry.__all__]
