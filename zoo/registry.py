"""The catalogue: architectures by name, and their pretrained variants (`arch.tag`).

Example:
    >>> import zoo
    >>> "convnet" in zoo.list_models()
    True
    >>> model = zoo.build("mlp_classifier", input_dim=4, num_classes=3)
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Architecture:
    """A registered model architecture.

    `tiny` is a small configuration used by the registry-wide tests and examples.
    """

    name: str
    cls: type
    family: str
    description: str
    tiny: Mapping[str, Any] = field(default_factory=dict)

    def build(self, **overrides):
        return self.cls(**overrides)


@dataclass(frozen=True)
class PretrainedVariant:
    """A trained instance of an architecture: what made it and where its files live.

    `files` maps each artifact file name to its sha256; `bundled` is the artifact's
    directory inside the installed package (None when it is only on the Hub), and
    `hub_repo`/`revision` pin its published copy.
    """

    name: str
    architecture: str
    dataset: str
    recipe: str
    config: Mapping[str, Any]
    metrics: Mapping[str, float]
    target: Mapping[str, float]
    license: str = "apache-2.0"
    hub_repo: str | None = None
    revision: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)
    bundled: str | None = None
    scheme: str | None = None
    data_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tag(self):
        return self.name.split(".", 1)[1]

    @property
    def metric(self):
        """The name of the metric the variant is judged on (its target's key)."""
        return next(iter(self.target))

    def bundled_path(self):
        """Absolute path of the bundled artifact directory, or None."""
        if self.bundled is None:
            return None
        from importlib import resources

        return resources.files("zoo").joinpath(self.bundled)


_ARCHITECTURES: dict[str, Architecture] = {}
_PRETRAINED: dict[str, PretrainedVariant] = {}


def register_architecture(name: str, *, family: str, description: str, tiny=None) -> Callable:
    """Class decorator: register a model class under `name`."""

    def decorator(cls):
        if name in _ARCHITECTURES and _ARCHITECTURES[name].cls is not cls:
            raise ValueError(f"architecture {name!r} is already registered")
        _ARCHITECTURES[name] = Architecture(name, cls, family, description, dict(tiny or {}))
        return cls

    return decorator


def register_pretrained(variant: PretrainedVariant) -> PretrainedVariant:
    """Add a pretrained variant; its architecture must be registered already."""
    arch, _, tag = variant.name.partition(".")
    if not tag or arch != variant.architecture:
        raise ValueError(
            f"pretrained variant names are 'architecture.tag' with architecture "
            f"{variant.architecture!r}; got {variant.name!r}"
        )
    get_architecture(arch)
    _PRETRAINED[variant.name] = variant
    return variant


def _unknown(name, known, what):
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return KeyError(
        f"unknown {what} {name!r}.{hint} Known: {', '.join(sorted(known)) or 'none'}. "
        "See zoo.list_models()."
    )


def get_architecture(name: str) -> Architecture:
    """The registered architecture `name`; raises KeyError with suggestions."""
    try:
        return _ARCHITECTURES[name]
    except KeyError:
        raise _unknown(name, list(_ARCHITECTURES) + list(_PRETRAINED), "model") from None


def get_pretrained(name: str) -> PretrainedVariant:
    """The registered pretrained variant `name` (`arch.tag`)."""
    try:
        return _PRETRAINED[name]
    except KeyError:
        raise _unknown(name, list(_PRETRAINED), "pretrained model") from None


def list_models(filter: str | None = None, *, pretrained: bool = False) -> list[str]:
    """Sorted names of architectures, or of pretrained variants with `pretrained=True`.

    `filter` is a glob such as ``"lstm_*"`` or ``"*.digits"``.

    Example:
        >>> import zoo
        >>> zoo.list_models("lstm_*")
        ['lstm_classifier', 'lstm_forecaster']
    """
    names = sorted(_PRETRAINED if pretrained else _ARCHITECTURES)
    if filter:
        names = [n for n in names if fnmatch.fnmatchcase(n, filter)]
    return names


def architectures() -> list[Architecture]:
    """All registered architectures, sorted by name."""
    return [_ARCHITECTURES[n] for n in sorted(_ARCHITECTURES)]


def pretrained_variants() -> list[PretrainedVariant]:
    """All registered pretrained variants, sorted by name."""
    return [_PRETRAINED[n] for n in sorted(_PRETRAINED)]


def build(name: str, **overrides):
    """A freshly initialised model: an architecture, or a pretrained variant's
    configuration (without its weights; use `zoo.load` for those).

    Example:
        >>> import zoo
        >>> model = zoo.build("convnet", input_shape=(8, 8, 1), num_classes=10)
        >>> model.output_shape
        (None, 10)
    """
    if "." in name:
        variant = get_pretrained(name)
        return get_architecture(variant.architecture).build(**{**variant.config, **overrides})
    return get_architecture(name).build(**overrides)


CATALOG = "pretrained/catalog.json"


def load_catalog():
    """Register the pretrained variants listed in the package's `pretrained/catalog.json`
    (plain data written by `scripts/bundle_pretrained.py`)."""
    import json
    from importlib import resources

    path = resources.files("zoo").joinpath(CATALOG)
    if not path.is_file():
        return []
    entries = json.loads(path.read_text())
    return [register_pretrained(PretrainedVariant(**entry)) for entry in entries
            if entry["architecture"] in _ARCHITECTURES]
