"""Installation of mmhier.

The taxonomy part needs only ``requirements/runtime.txt``. The pinned
MMSegmentation stack (torch, onedl-mmengine, mmcv-lite, onedl-mmsegmentation)
needs a specific install order with ``--no-deps`` steps that pip metadata
cannot express; ``tools/setup_env.sh`` performs it (see README).

Besides the ``mmhier`` packages, a wheel holds:

* ``mmhier/.mim/{configs,taxonomies}`` and ``mmhier/.mim/model-index.yml``:
  the shipped configs and taxonomies as package data (in the checkout these
  are symlinks to the top-level folders, so editable installs see the live
  files; wheels and sdists get copies);
* ``mmhier_config_alias.py`` and ``mmhier_config_alias.pth`` at the top of
  site-packages: the start-up hook that lets ``mmseg::`` / ``mmhier::``
  config bases resolve on MMSegmentation forks (see that module). The
  ``.pth`` is written by :class:`BuildPy`, in wheels and editable wheels.
"""
import os
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ALIAS_MODULE = 'mmhier_config_alias'
ALIAS_PTH = f'{ALIAS_MODULE}.pth'
# One import line: Python runs it at start-up for every .pth in site-packages.
ALIAS_PTH_LINE = f'import {ALIAS_MODULE}; {ALIAS_MODULE}.install()\n'


def read_requirements(name: str) -> list[str]:
    """Requirement specifiers of ``requirements/<name>``, comments dropped."""
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [line.split('#')[0].strip() for line in lines
            if line.split('#')[0].strip()]


def read_version() -> str:
    scope: dict = {}
    exec((HERE / 'mmhier' / 'version.py').read_text(), scope)
    return scope['__version__']


class BuildPy(build_py):
    """``build_py`` that also writes :data:`ALIAS_PTH` to the top of the wheel.

    Regular wheels take it from ``build_lib``. An editable wheel ignores
    ``build_lib`` (its modules stay in the checkout) and ships what lands in
    the ``install`` command's ``install_lib``, its unpacked root.
    """

    def run(self) -> None:
        super().run()
        target_dir = (self.get_finalized_command('install').install_lib
                      if getattr(self, 'editable_mode', False) else self.build_lib)
        self.mkpath(target_dir)
        with open(os.path.join(target_dir, ALIAS_PTH), 'w', encoding='utf-8') as fh:
            fh.write(ALIAS_PTH_LINE)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if not getattr(self, 'editable_mode', False):
            outputs.append(os.path.join(self.build_lib, ALIAS_PTH))
        return outputs


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
    py_modules=[ALIAS_MODULE],
    package_data={'mmhier': ['.mim/model-index.yml', '.mim/configs/**/*.py',
                             '.mim/taxonomies/*.yaml']},
    cmdclass={'build_py': BuildPy},
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        # TensorboardVisBackend (configs/_base_/tensorboard.py)
        'tensorboard': ['tensorboard>=2.14'],
        # tools/export.py (mmhier.deploy): ONNX export through torch.onnx's
        # dynamo exporter (onnx, onnxscript) and --verify (onnxruntime);
        # the versions tested with torch 2.13.0 on Python 3.11.
        'deploy': ['onnx==1.23.2', 'onnxscript==0.7.2', 'onnxruntime==1.32.0'],
    },
    entry_points={
        'console_scripts': ['mmhier-taxonomy = mmhier.taxonomy.cli:main'],
    },
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'Topic :: Scientific/Engineering :: Image Recognition',
    ],
)
