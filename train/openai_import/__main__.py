"""Entry point: `python train/openai_import ARGS` (what scripts/import-openai.mjs runs) or, from train/,
`python -m openai_import ARGS`."""
import os
import sys

if not __package__:
    # Run as a folder: Python put this folder first on the path, where its modules (config, weights, ...) would
    # shadow others by name. Put train/ there instead, so the package is imported as a package.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from openai_import.cli import main  # noqa: E402

sys.exit(main())
