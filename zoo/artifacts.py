"""The on-disk artifact: Keras' own unzipped model directory plus the zoo's records.

```
config.json         Keras' serialized model
metadata.json       Keras' metadata + a "zoo" section (recipe, dataset, metrics, seed,
                    backend, versions, wall time) and the sha256 of every other file
model.weights.h5    the weights (one file for every backend)
recipe.yaml         the fully resolved recipe
README.md           the model card
assets/             training curve (and sample grids for GANs)
```

Each file is written through a temporary file and a rename, and `metadata.json`
(which holds the checksums) last: an interrupted write never passes `verify_artifact`.
`keras.saving.load_model(folder)` loads it once `import zoo` has registered the classes.

Example:
    >>> import zoo
    >>> from zoo import artifacts
    >>> model = zoo.build("mlp_classifier", input_dim=4, num_classes=3)
    >>> folder = artifacts.write_artifact("/tmp/zoo-doc-artifact", model, zoo_metadata={})
    >>> artifacts.load_artifact(folder).name
    'mlp_classifier'
"""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from zoo.training.checkpoint import atomic_write_bytes, atomic_write_text

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
RECIPE = "recipe.yaml"
CARD = "README.md"
ASSETS = "assets"
REQUIRED = (CONFIG, METADATA, WEIGHTS)


class ArtifactError(ValueError):
    """An artifact directory that is incomplete, altered or not a zoo artifact."""


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _content_files(folder):
    """Every file of the artifact except metadata.json, as posix relative paths."""
    folder = Path(folder)
    names = [CONFIG, WEIGHTS, RECIPE, CARD]
    names = [n for n in names if (folder / n).is_file()]
    if (folder / ASSETS).is_dir():
        names += sorted(p.relative_to(folder).as_posix()
                        for p in (folder / ASSETS).rglob("*") if p.is_file())
    return names


def write_artifact(folder, model, *, zoo_metadata, recipe_yaml=None, card=None, assets=None):
    """Write `model` and its records to `folder` (created if needed); returns the path.

    `assets` maps names under assets/ to bytes (e.g. {"training_curve.png": png}).
    """
    import keras

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".keras-save-") as tmp:
        keras.saving.save_model(model, tmp, zipped=False)
        keras_metadata = json.loads((Path(tmp) / METADATA).read_text())
        for name in (CONFIG, WEIGHTS):
            os.replace(Path(tmp) / name, folder / name)
    if recipe_yaml is not None:
        atomic_write_text(folder / RECIPE, recipe_yaml)
    if card is not None:
        atomic_write_text(folder / CARD, card)
    for name, data in (assets or {}).items():
        atomic_write_bytes(folder / ASSETS / name, data)
    write_metadata(folder, {**keras_metadata, "zoo": dict(zoo_metadata)})
    return folder


def write_metadata(folder, metadata):
    """(Re)write metadata.json with fresh checksums of every other file."""
    folder = Path(folder)
    metadata = dict(metadata)
    metadata["files"] = {name: sha256_file(folder / name) for name in _content_files(folder)}
    atomic_write_text(folder / METADATA, json.dumps(metadata, indent=2, sort_keys=False))
    return metadata


def read_metadata(folder):
    path = Path(folder) / METADATA
    if not path.is_file():
        raise ArtifactError(
            f"{folder} is not a zoo artifact: {METADATA} is missing (an interrupted "
            "write, or not a model directory). Re-run the training or re-download it."
        )
    return json.loads(path.read_text())


def verify_artifact(folder):
    """Check that every required file is present and every recorded checksum matches.

    Returns the metadata; raises `ArtifactError` naming the first bad file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: no such artifact directory.")
    metadata = read_metadata(folder)
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise ArtifactError(f"{folder}: required file {name} is missing.")
    recorded = metadata.get("files", {})
    if WEIGHTS not in recorded:
        raise ArtifactError(f"{folder}: {METADATA} records no checksum for {WEIGHTS}.")
    for name, expected in recorded.items():
        path = folder / name
        if not path.is_file():
            raise ArtifactError(f"{folder}: {name} is recorded in {METADATA} but missing.")
        actual = sha256_file(path)
        if actual != expected:
            raise ArtifactError(
                f"{folder}: checksum mismatch for {name}: expected sha256 {expected}, "
                f"got {actual}. The file was altered or corrupted; do not use it."
            )
    return metadata


def load_artifact(folder, *, verify=True, compile=True):
    """Load the Keras model of an artifact directory (Keras safe mode, checksums first)."""
    import keras

    if verify:
        verify_artifact(folder)
    return keras.saving.load_model(Path(folder), compile=compile, safe_mode=True)


def copy_artifact(src, dst):
    """Copy an artifact's files (not its checkpoints) to `dst`."""
    src, dst = Path(src), Path(dst)
    for name in [*_content_files(src), METADATA]:
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / name, dst / name)
    return dst


def artifact_files(folder):
    """The files that make up the artifact (what gets published), metadata included."""
    return [*_content_files(folder), METADATA]
