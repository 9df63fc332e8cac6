"""Label taxonomies: YAML files that become validated trees and lookup tables.

This subpackage needs only numpy, networkx and PyYAML (matplotlib for PNG
export); it imports neither torch nor mmseg.
"""
from mmhier.taxonomy.errors import (Problem, TaxonomyEncodingError, TaxonomyError,
                                    TaxonomyFileError, TaxonomyLimitError,
                                    TaxonomyMismatchError, TaxonomySyntaxError,
                                    TaxonomyUnsupportedYAMLError,
                                    TaxonomyValidationError, UnknownDatasetError,
                                    UnknownNodeError)
from mmhier.taxonomy.id_ranges import IdRanges
from mmhier.taxonomy.spec import DatasetClass, DatasetSpec, TaxonomySpec, parse_spec
from mmhier.taxonomy.loading import (load_taxonomy, resolve_taxonomy_path,
                                     shipped_taxonomy_names)
from mmhier.taxonomy.taxonomy import IGNORE, Classifier, Taxonomy, validate_file
from mmhier.taxonomy.validation import ValidationResult, validate_spec

__all__ = [
    'IGNORE', 'Classifier', 'DatasetClass', 'DatasetSpec', 'IdRanges', 'Problem',
    'Taxonomy', 'TaxonomyEncodingError', 'TaxonomyError', 'TaxonomyFileError',
    'TaxonomyLimitError', 'TaxonomyMismatchError', 'TaxonomySpec',
    'TaxonomySyntaxError', 'TaxonomyUnsupportedYAMLError',
    'TaxonomyValidationError', 'UnknownDatasetError', 'UnknownNodeError',
    'ValidationResult', 'load_taxonomy', 'parse_spec', 'resolve_taxonomy_path',
    'shipped_taxonomy_names',
    'validate_file', 'validate_spec'
]
