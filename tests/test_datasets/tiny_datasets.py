"""A tiny in-memory dataset for the multi-dataset and sampler tests."""
from __future__ import annotations

from typing import Optional

from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS


@DATASETS.register_module(name='_TinyTestDataset', force=True)
class _Tiny(BaseDataset):
    """``size`` samples; sample ``i`` is ``dict(inputs=dict(key=key, local=i))``;
    ``loads`` counts how often the data list was loaded."""

    def __init__(self, size: int, key: Optional[str], annotation: str = 'pixel',
                 **kwargs):
        self.size, self.key, self.loads = size, key, 0
        meta = dict(annotation=annotation, classes=(f'{key}_a', f'{key}_b'))
        if key is not None:
            meta['dataset_key'] = key
        super().__init__(metainfo=meta, serialize_data=False, **kwargs)

    @classmethod
    def _load_metainfo(cls, metainfo=None) -> dict:
        return dict(metainfo or {})      # strings are values, not meta files

    def load_data_list(self) -> list:
        self.loads += 1
        return [dict(key=self.key, local=i) for i in range(self.size)]

    def prepare_data(self, idx: int) -> dict:
        return dict(inputs=dict(key=self.key, local=idx))
