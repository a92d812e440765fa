"""Fresh-process half of the Hub parity test: load a published model on this backend.

    python tests/hub_worker.py FOLDER HUB_ID REPO_ID

FOLDER holds io.npz (x and the outputs on the publishing backend). Prints one JSON line:
the backend and the largest output difference through zoo.load(HUB_ID) and through
plain keras.saving.load_model("hf://REPO_ID").
"""

import json
import sys
from pathlib import Path

import keras
import numpy as np

import zoo


def main(folder, hub_id, repo_id):
    data = np.load(Path(folder) / "io.npz")
    x, expected = data["x"], data["y"]

    def diff(model):
        return float(np.max(np.abs(keras.ops.convert_to_numpy(model(x, training=False)) - expected)))

    report = {"_backend": keras.backend.backend(), "zoo": diff(zoo.load(hub_id)),
              "keras": diff(keras.saving.load_model(f"hf://{repo_id}"))}
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:4])
