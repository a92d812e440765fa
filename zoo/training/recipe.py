"""The recipe: a YAML file that fully describes how one pretrained variant is trained.

Every key is checked before any training starts; a bad recipe fails with the file,
the key and what was expected.

Example:
    >>> from zoo.training.recipe import load_recipe
    >>> recipe = load_recipe("recipes/convnet.digits.yaml")
    >>> recipe.model.architecture, recipe.data.dataset
    ('convnet', 'digits')
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class RecipeError(ValueError):
    """A recipe that cannot be used, with the file and key at fault."""


@dataclass(frozen=True)
class ModelSection:
    architecture: str
    config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DataSection:
    dataset: str
    scheme: typing.Optional[str] = None
    options: dict = field(default_factory=dict)
    validation_split: typing.Optional[str] = None


@dataclass(frozen=True)
class OptimizerSection:
    name: str = "adam"
    learning_rate: float = 1e-3
    weight_decay: typing.Optional[float] = None
    beta_1: typing.Optional[float] = None  # Adam-family momentum (GANs use 0.5)
    schedule: str = "constant"
    warmup_epochs: int = 0


@dataclass(frozen=True)
class TrainSection:
    epochs: int
    batch_size: int = 32
    seed: int = 0
    optimizer: OptimizerSection = field(default_factory=OptimizerSection)
    loss: typing.Optional[str] = None


@dataclass(frozen=True)
class EvaluateSection:
    metric: str
    target: float
    split: str = "test"
    reference: str = ""


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    model: ModelSection
    data: DataSection
    train: TrainSection
    evaluate: EvaluateSection
    license: str = "apache-2.0"
    requires_network: bool = False
    source: str = ""  # the file it was read from (not part of the YAML)

    @property
    def architecture(self):
        return self.model.architecture

    def to_dict(self):
        """The fully resolved recipe as plain data (what the artifact records)."""
        data = dataclasses.asdict(self)
        data.pop("source")
        return data

    def to_yaml(self):
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def with_overrides(self, *, epochs=None, seed=None):
        """A copy with the command line's `--epochs` / `--seed` applied."""
        train = self.train
        if epochs is not None and int(epochs) < 1:
            raise RecipeError(f"--epochs must be a positive int, got {epochs!r}.")
        if seed is not None and int(seed) < 0:
            raise RecipeError(f"--seed must be a non-negative int, got {seed!r}.")
        if epochs is not None:
            train = dataclasses.replace(train, epochs=int(epochs))
        if seed is not None:
            train = dataclasses.replace(train, seed=int(seed))
        return dataclasses.replace(self, train=train)


_SCHEDULES = ("constant", "cosine")


def _type_name(tp):
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _coerce(value, tp, where, fail):
    """Check `value` against annotation `tp`, building nested dataclasses."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where, fail)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            fail(where, f"a mapping with keys {sorted(f.name for f in dataclasses.fields(tp))}",
                 value)
        return _build(tp, value, where, fail)
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool):
        fail(where, "int", value)
    if not isinstance(value, tp):
        fail(where, _type_name(tp), value)
    return value


def _build(cls, data, prefix, fail):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    for key in data:
        if key not in fields:
            where = f"{prefix}.{key}" if prefix else key
            fail(where, f"a known key: one of {sorted(fields)}", None, unknown=True)
    values = {}
    for name, f in fields.items():
        where = f"{prefix}.{name}" if prefix else name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                fail(where, f"a value ({_type_name(hints[name])}); the key is missing", None,
                     missing=True)
            continue
        values[name] = _coerce(data[name], hints[name], where, fail)
    return cls(**values)


def _check_semantics(recipe, fail):
    from zoo import data, registry
    from zoo.training.metrics import METRICS

    try:
        arch = registry.get_architecture(recipe.model.architecture)
    except KeyError as err:
        fail("model.architecture", str(err.args[0]), recipe.model.architecture)
    if recipe.name.partition(".")[0] != recipe.model.architecture or "." not in recipe.name:
        fail("name", f"'{recipe.model.architecture}.<tag>'", recipe.name)
    params = inspect.signature(arch.cls.__init__).parameters
    for key in recipe.model.config:
        if key not in params or key == "self":
            known = [p for p in params if p not in ("self", "kwargs")]
            fail(f"model.config.{key}", f"an argument of {arch.cls.__name__}: {known}", None,
                 unknown=True)
    try:
        info = data.info(recipe.data.dataset)
    except ValueError as err:
        fail("data.dataset", str(err), recipe.data.dataset)
    schemes = list(info.schemes)
    if recipe.data.scheme is not None and recipe.data.scheme not in schemes:
        fail("data.scheme", f"one of {schemes}", recipe.data.scheme)
    if recipe.evaluate.metric not in METRICS:
        fail("evaluate.metric", f"one of {sorted(METRICS)}", recipe.evaluate.metric)
    if recipe.train.optimizer.schedule not in _SCHEDULES:
        fail("train.optimizer.schedule", f"one of {list(_SCHEDULES)}",
             recipe.train.optimizer.schedule)
    if recipe.requires_network != info.online:
        fail("requires_network", f"{info.online} (dataset {info.name!r} is "
             f"{'online' if info.online else 'offline'})", recipe.requires_network)
    for key in ("epochs", "batch_size"):
        if getattr(recipe.train, key) < 1:
            fail(f"train.{key}", "a positive int", getattr(recipe.train, key))


def parse_recipe(data, source="<recipe>"):
    """Validate plain data (as read from YAML) into a `Recipe`."""

    def fail(where, expected, value, unknown=False, missing=False):
        if unknown:
            raise RecipeError(f"{source}: unknown key '{where}'; expected {expected}.")
        if missing:
            raise RecipeError(f"{source}: '{where}' is required: {expected}.")
        raise RecipeError(f"{source}: '{where}' must be {expected}; got {value!r}.")

    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a recipe is a YAML mapping, got {type(data).__name__}.")
    recipe = _build(Recipe, data, "", fail)
    recipe = dataclasses.replace(recipe, source=str(source))
    _check_semantics(recipe, fail)
    return recipe


def load_recipe(path):
    """Read and validate a recipe file (raises `RecipeError` on any problem)."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: no such recipe file. Recipes live in recipes/*.yaml.")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML: {err}") from None
    return parse_recipe(data, source=str(path))
