"""MLflow experiments as a zoo: `cz.open_zoo("mlflow:http://127.0.0.1:5000?experiment=digits")`.

Read through the `mlflow` client (optional: `pip install 'ckptzoo-widgets[mlflow]'`), from a
tracking server (`mlflow:http://...`), a database (`mlflow:sqlite:///mlflow.db`, or the bare
`sqlite:///...`) or a local `mlruns/` folder (`mlflow:mlruns/`, or the folder itself).

- Each active run is a model: its run name, parameters, tags, metrics (the latest of each),
  its status (`running`, `failed` ... as a tag) and its metric histories as `curves`.
- Its checkpoints are MLflow 3's logged models of the run (the step they were logged at, their
  linked metrics) and artifacts whose path names a step (`checkpoints/step10/`,
  `checkpoint-10/`, `epoch=1-step=10.ckpt`), each with the run's metrics at its step.
  A `SHA256SUMS` artifact at the run's root (`sha256sum` format) gives files their sha256,
  so downloads of them go through the verified cache.
- Registered models are models `models/<name>` whose checkpoints are the versions (`v1`,
  `v2`); aliases are noted and `champion` (else the first alias) is the default.

Credentials belong in MLflow's own environment variables (`MLFLOW_TRACKING_TOKEN`, ...);
a source string that carries them is refused, so they never reach code or messages.
"""

from .assemble import read_mlflow
from .client import message
from .spec import PREFIX, Spec, canonical, looks_like_mlruns, matches, parse_source, tracking_uri_of

__all__ = [
    "PREFIX",
    "Spec",
    "canonical",
    "looks_like_mlruns",
    "matches",
    "message",
    "parse_source",
    "read_mlflow",
    "tracking_uri_of",
]
