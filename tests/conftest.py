"""Shared test paths and helpers."""
import importlib.metadata
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TAXONOMIES = REPO_ROOT / 'taxonomies'
TEST_DATA = Path(__file__).resolve().parent / 'data'


@pytest.fixture(scope='session')
def shipped():
    """Loads a shipped taxonomy by stem, cached for the session."""
    from mmhier.taxonomy import Taxonomy
    cache = {}

    def load(stem: str) -> Taxonomy:
        if stem not in cache:
            cache[stem] = Taxonomy.from_file(TAXONOMIES / f'{stem}.yaml')
        return cache[stem]
    return load


def upstream_mmseg_installed() -> bool:
    """Whether upstream ``mmsegmentation`` (not the pinned fork) is installed."""
    try:
        importlib.metadata.version('mmsegmentation')
        return True
    except importlib.metadata.PackageNotFoundError:
        return False
