"""Installation of mmhier.

The taxonomy part needs only ``requirements/runtime.txt``. The pinned
MMSegmentation stack (torch, onedl-mmengine, mmcv-lite, onedl-mmsegmentation)
needs a specific install order with ``--no-deps`` steps that pip metadata
cannot express; ``tools/setup_env.sh`` performs it (see README).
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def read_requirements(name: str) -> list[str]:
    """Requirement specifiers of ``requirements/<name>``, comments dropped."""
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [line.split('#')[0].strip() for line in lines
            if line.split('#')[0].strip()]


def read_version() -> str:
    scope: dict = {}
    exec((HERE / 'mmhier' / 'version.py').read_text(), scope)
    return scope['__version__']


setup(
    name='mmhier',
    version=read_version(),
    description='Label hierarchies and hierarchical heads for MMSegmentation: '
                'one network trained on many heterogeneous datasets',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['mmhier', 'mmhier.*']),
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    entry_points={
        'console_scripts': ['mmhier-taxonomy = mmhier.taxonomy.cli:main'],
    },
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'Topic :: Scientific/Engineering :: Image Recognition',
    ],
)
