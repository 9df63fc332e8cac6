"""``python -m mmhier.taxonomy`` runs the ``mmhier-taxonomy`` CLI."""
import sys

from mmhier.taxonomy.cli import main

sys.exit(main())
