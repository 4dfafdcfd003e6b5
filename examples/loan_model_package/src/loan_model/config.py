"""Settings of the package: where the model lives, which types it may contain, the decision threshold.

Paths are built from the package's own location, never hard-coded, and an environment variable can
override them in production (`export LOAN_MODEL_PATH=/srv/models/model.skops`).
"""

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
TRAINED_MODELS = PACKAGE_ROOT / "trained_models"
MODEL_PATH = Path(os.environ.get("LOAN_MODEL_PATH", TRAINED_MODELS / "model.skops"))
MODEL_INFO_PATH = TRAINED_MODELS / "model_info.json"

#: Types skops may create when it loads the model, beyond its own safe list. A file that needs any
#: other type is refused: loading never runs code we did not approve.
TRUSTED_TYPES = ("numpy.dtype",)

#: An application is approved ("Y") when its probability reaches this value.
THRESHOLD = 0.5
