"""Import a model released with OpenAI's circuit-sparsity work (Gao et al. 2025) into our model folder format
(docs/model-folder.md), with its released circuits (viz_data.pt) as tasks/ and circuits/ files.

Run as `python train/openai_import <released-model-dir> [options]` (cli.py lists them; docs/openai-import.md says
what is converted, and what is verified or assumed). Every .pt file is read with torch.load(weights_only=True)
only (safe_load.py); a pickle that would import or call anything else is refused. A released circuit file is read
by its content (viz_load.py): a torch.save zip as any .pt, a bare pickle (viz_data.pkl) with the same allowlist.

One module per job: safe_load (reading .pt files), config (beeg_config.json), weights (final_model.pt),
tokenizer_means (tokenizer and means), evaluate_edges (task loss under ablation, circuit edges), viz_load (reading
a viz file by content), viz_read and viz_import (viz_data.pt -> task and circuit files), pipeline (the whole
conversion), cli (the command line).
"""
import os
import sys

# The package sits in train/ and uses the trainer's modules (model, model_folder, ...) as top-level imports.
_TRAIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TRAIN not in sys.path:
    sys.path.insert(0, _TRAIN)

from .common import OpenAIImportError  # noqa: E402
from .config import convert_config  # noqa: E402
from .evaluate_edges import circuit_edges  # noqa: E402
from .pipeline import import_released  # noqa: E402
from .safe_load import safe_torch_load  # noqa: E402
from .tokenizer_means import means_from_baseline, means_from_corpus  # noqa: E402
from .viz_import import import_viz  # noqa: E402
from .cli import main  # noqa: E402


__all__ = ["OpenAIImportError", "circuit_edges", "convert_config", "import_released", "import_viz", "main",
           "means_from_baseline", "means_from_corpus", "safe_torch_load"]
