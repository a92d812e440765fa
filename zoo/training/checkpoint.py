"""Per-epoch checkpoints written atomically: a crash never leaves a half-written one.

A checkpoint is `model.keras` (weights, optimizer state) plus `state.json` (the epoch
reached, the history so far, a fingerprint of the recipe and the random-number state of
the model's layers, which Keras does not save: dropout masks continue where they were).
"""

import json
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path, data: bytes):
    """Write `data` to `path` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text: str):
    atomic_write_bytes(path, text.encode("utf-8"))


def _seed_generators(model):
    """Every SeedGenerator of the model's layers, in a stable order."""
    return [sg for layer in model._flatten_layers() for sg in layer._seed_generators]


def rng_state(model):
    import keras

    return [keras.ops.convert_to_numpy(sg.state.value).tolist() for sg in _seed_generators(model)]


def restore_rng_state(model, states):
    generators = _seed_generators(model)
    if len(generators) != len(states):
        raise ValueError(
            f"checkpoint holds {len(states)} random states, the model has {len(generators)}."
        )
    for sg, value in zip(generators, states):
        sg.state.assign(value)


def save_checkpoint(folder, model, state: dict):
    """Save the model, then the state that points at it (in that order)."""
    state = {**state, "rng": rng_state(model)}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".model.", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, folder / "model.keras")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    atomic_write_text(folder / "state.json", json.dumps(state, indent=2))


def load_checkpoint(folder):
    """(model, state) from a checkpoint folder, or None when there is none."""
    import keras

    folder = Path(folder)
    if not (folder / "state.json").is_file() or not (folder / "model.keras").is_file():
        return None
    state = json.loads((folder / "state.json").read_text())
    model = keras.saving.load_model(folder / "model.keras", safe_mode=True)
    restore_rng_state(model, state.get("rng", []))
    return model, state
