"""Run in a fresh process on another backend: load every saved model in a folder and
compare its outputs with the ones recorded on the backend that saved it.

Usage: KERAS_BACKEND=jax python tests/parity_worker.py FOLDER
Prints one JSON line: {model file: max absolute difference}.
"""

import json
import sys
from pathlib import Path

import keras
import numpy as np

import zoo  # noqa: F401  (registers the zoo classes for deserialization)


def _inputs(npz):
    keys = sorted(k for k in npz.files if k.startswith("x"))
    return [npz[k] for k in keys] if len(keys) > 1 else npz[keys[0]]


def main(folder):
    report = {}
    for path in sorted(Path(folder).glob("*.keras")):
        model = keras.saving.load_model(path, safe_mode=True)
        data = np.load(path.with_suffix(".npz"))
        out = keras.ops.convert_to_numpy(model.predict(_inputs(data), verbose=0))
        report[path.stem] = float(np.max(np.abs(np.asarray(out) - data["y"])))
    report["_backend"] = keras.backend.backend()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
