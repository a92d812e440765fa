"""`zoo.load`: a trained model by pretrained name, Hub id or artifact folder, verified first.

Nothing is read before its sha256 checks out, and only JSON configuration and weights are
loaded (Keras safe mode, and a config that names anything but Keras and zoo classes, or a
Lambda layer, is refused): loading never runs code that came with a download.

Example:
    >>> import zoo
    >>> from zoo import artifacts
    >>> model = zoo.build("mlp_classifier", input_dim=4, num_classes=3)
    >>> folder = artifacts.write_artifact("/tmp/zoo-doc-load", model, zoo_metadata={})
    >>> zoo.load(folder).name
    'mlp_classifier'
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from zoo import artifacts, hub, registry
from zoo.artifacts import CONFIG, REQUIRED, ArtifactError

PACKAGE_DIR = Path(__file__).resolve().parent
_TRUSTED_PACKAGES = ("keras", "zoo")
_REFUSED_CLASSES = {"Lambda": "a Lambda layer (it runs Python code stored in the file)",
                    "__lambda__": "a Python lambda (it runs code stored in the file)",
                    "TFSMLayer": "a TFSMLayer (it runs a TensorFlow SavedModel from a path)"}


class UnsafeArtifactError(ArtifactError):
    """An artifact whose config.json would make Keras run or import code it did not come with."""


def load(ref, *, compile: bool = True):
    """Load a trained model, verified before use, on the current Keras backend.

    `ref` is one of:

    - a pretrained name ``"arch.tag"`` from `zoo.list_models(pretrained=True)`: its files
      come from the package (bundled) or from its pinned Hub revision, each checked
      against the catalogue's sha256;
    - ``"hf://org/name[@revision]"``: a zoo artifact on the Hugging Face Hub, each file
      checked against the sha256 its metadata.json records;
    - a local artifact folder (what `zoo train` writes).

    Downloads land in the Hugging Face cache; with ``HF_HUB_OFFLINE=1`` cached models load
    without network access.

    Example:
        >>> import zoo
        >>> model = zoo.load("runs/convnet.digits")                    # doctest: +SKIP
        >>> model = zoo.load("hf://keras-zoo/convnet.digits@v1")       # doctest: +SKIP
    """
    if isinstance(ref, str) and ref.startswith(hub.HF_PREFIX):
        repo_id, revision = hub.parse_hub_id(ref)
        return load_verified(hub.download_artifact(repo_id, revision, name=ref), compile=compile)
    if isinstance(ref, str) and ref in registry.list_models(pretrained=True):
        return load_pretrained(registry.get_pretrained(ref), compile=compile)
    path = Path(ref)
    if path.is_dir():
        artifacts.verify_artifact(path)
        return load_verified(path, compile=compile)
    if isinstance(ref, str) and "." in ref and "/" not in ref and os.sep not in ref:
        registry.get_pretrained(ref)  # raises KeyError with close matches
    raise ArtifactError(
        f"{ref}: no such artifact folder, and not a pretrained name or an 'hf://org/name' id. "
        "See zoo.list_models(pretrained=True)."
    )


def load_pretrained(variant, *, compile: bool = True):
    """Load a registered `PretrainedVariant`: bundled files, else its pinned Hub revision."""
    _check_catalogue_entry(variant)
    if variant.bundled:
        return load_verified(verified_bundled_folder(variant), compile=compile)
    folder = hub.download_files(variant.hub_repo, dict(variant.files),
                                variant.revision or hub.DEFAULT_REVISION, name=variant.name)
    return load_verified(folder, compile=compile)


def verified_bundled_folder(variant) -> Path:
    """The bundled artifact folder of `variant`, every catalogued file checked."""
    folder = PACKAGE_DIR / variant.bundled
    what = f"{variant.name} (bundled in {folder})"
    for filename, expected in variant.files.items():
        if not (folder / filename).is_file():
            raise ArtifactError(f"{what}: {filename} is missing; reinstall keras-zoo.")
        hub.check_sha256(folder / filename, expected, filename, what)
    return folder


def load_verified(folder, *, compile: bool = True):
    """Load an already verified artifact folder: config checked, then Keras safe mode."""
    folder = Path(folder)
    check_config_is_safe(json.loads((folder / CONFIG).read_text()), where=folder / CONFIG)
    return artifacts.load_artifact(folder, verify=False, compile=compile)


def check_config_is_safe(config, *, where=CONFIG) -> None:
    """Refuse a Keras config that references Lambda layers or classes outside keras and zoo.

    Keras safe mode already refuses serialized Python lambdas; this also refuses Lambda
    layers that wrap named functions and any class from another module.
    """
    for obj in _keras_objects(config):
        cls, module = obj["class_name"], obj.get("module")
        registered = obj.get("registered_name") or ""
        refused = _REFUSED_CLASSES.get(cls) or _REFUSED_CLASSES.get(registered.split(">")[-1])
        if refused:
            raise UnsafeArtifactError(f"{where}: refusing to load {refused}.")
        if cls.startswith("__") and cls.endswith("__"):
            continue  # serialized data: tensors, dtypes, slices, Keras tensors
        if module == "builtins" and cls == "function":
            continue  # a Keras built-in function by name ("relu"); Keras looks in its own modules
        if not _trusted(module) or (">" in registered and not _trusted(registered.split(">")[0])):
            raise UnsafeArtifactError(
                f"{where}: refusing to load {cls!r} from module {module!r} (registered as "
                f"{registered!r}): zoo only loads Keras and zoo classes from downloaded "
                "configurations. If you trust this file, load it with keras.saving.load_model."
            )


def _trusted(module) -> bool:
    return isinstance(module, str) and any(module == p or module.startswith(p + ".")
                                           for p in _TRUSTED_PACKAGES)


def _keras_objects(obj):
    """Every dict in a JSON tree that Keras would deserialize (one with a "class_name")."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("class_name"), str):
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_catalogue_entry(variant) -> None:
    missing = [n for n in REQUIRED if n not in variant.files]
    if missing:
        raise ArtifactError(
            f"{variant.name}: the catalogue records no sha256 for {', '.join(missing)}, so it "
            "cannot be verified. The catalogue entry (zoo/models) needs every artifact file."
        )
    if not variant.bundled and not variant.hub_repo:
        raise ArtifactError(
            f"{variant.name} is neither bundled nor published (no hub_repo in the catalogue). "
            f"Train it yourself: zoo train {variant.recipe}"
        )
