"""Shared test paths."""
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
