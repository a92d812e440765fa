"""`ZooModel`: the shared base of every zoo architecture.

A zoo model is a Keras functional model built from its constructor arguments
(the pattern keras-hub uses): `get_config()` returns exactly those arguments and
`from_config` calls the constructor again, so the `.keras` format and
`keras.saving.load_model` work on every backend without custom objects beyond the
class itself.
"""

import keras
import numpy as np

from zoo.models import validation
from zoo.models.constructor_config import ConstructorConfig
from zoo.models.native_paths import NativePaths


class ZooModel(NativePaths, ConstructorConfig, keras.Model):
    """Base class: stores constructor arguments, validates data, compiles with defaults.

    Subclasses build their graph, then call
    `super().__init__(inputs=..., outputs=..., config={...every argument...})` and set
    `target_kind` to "classes" (integer class ids) or "values" (regression targets).

    On the torch backend `fit`, `evaluate`, `predict` and `model(x)` on arrays run the
    zoo's own path (zoo/backend/fast_path.py), which computes what Keras does (equal up
    to float rounding) at a fraction of Keras' per-step cost; anything it does not cover
    goes to Keras. After each call
    `fit_path` / `evaluate_path` / `predict_path` say which ran (and why Keras);
    `native_torch_loop = False` turns it off.

    Example:
        >>> import keras, numpy as np, zoo
        >>> x, y = np.random.rand(64, 4), np.random.randint(0, 2, 64)
        >>> model = zoo.MLPClassifier(input_dim=4, num_classes=2, units=8).adapt(x)
        >>> model.compile()
        >>> history = model.fit(x, y, epochs=2, verbose=0)
        >>> model.fit_path == ("zoo torch loop" if keras.backend.backend() == "torch"
        ...                    else f"keras (the {keras.backend.backend()} backend)")
        True
    """

    target_kind = "values"
    default_loss = "mse"
    default_metrics = ()

    def __init__(self, *, inputs, outputs, config, name=None, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self._zoo_config = dict(config)

    # -- training defaults -----------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Keras `compile`, with the family's loss and metrics when none are given."""
        if loss is None:
            loss = self.default_loss
        if metrics is None:
            metrics = list(self.default_metrics)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        """Restore the compile state saved in a `.keras` file (Keras skips custom
        `compile` methods otherwise)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def set_weights(self, weights):
        """Keras `set_weights`, then refresh what Normalization layers derive from
        their variables (Keras only does that when loading from a file)."""
        super().set_weights(weights)
        for layer in self._flatten_layers():
            if isinstance(layer, keras.layers.Normalization) and layer.built:
                layer.finalize_state()

    def adapt(self, x, y=None):
        """Fit the model's normalization layers to training data (inputs, and targets
        where the model de-normalizes its outputs). Call once before `fit`."""
        layer_names = {layer.name for layer in self.layers}
        if "input_norm" in layer_names:
            self.get_layer("input_norm").adapt(np.asarray(x, dtype="float32"))
        if y is not None and "target_denorm" in layer_names:
            y = np.asarray(y, dtype="float32")
            if y.ndim == 1:
                y = y[:, None]
            self.get_layer("target_denorm").adapt(y)
        return self

    # -- validation ------------------------------------------------------------------
    @property
    def num_classes(self):
        return self._zoo_config.get("num_classes")

    def validate_inputs(self, x):
        """Raise ValueError when array `x` does not fit this model's input."""
        spec = self.inputs[0]
        validation.check_inputs(
            type(self).__name__, x, tuple(spec.shape), keras.backend.standardize_dtype(spec.dtype)
        )

    def validate_targets(self, y):
        """Raise ValueError when array `y` does not fit this model's output."""
        if self.target_kind == "classes":
            validation.check_class_labels(type(self).__name__, y, self.num_classes)
        else:
            validation.check_value_targets(type(self).__name__, y, self.output_shape)

    def _validate(self, x, y=None, validation_data=None):
        self.validate_inputs(x)
        if y is not None:
            self.validate_targets(y)
        if isinstance(validation_data, (tuple, list)) and len(validation_data) >= 2:
            self.validate_inputs(validation_data[0])
            self.validate_targets(validation_data[1])

    def fit(self, x=None, y=None, *args, **kwargs):
        self._validate(x, y, kwargs.get("validation_data"))
        done = self._route("fit", args, kwargs, x, y)
        return done if done is not None else super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._validate(x, y)
        done = self._route("evaluate", args, kwargs, x, y)
        return done if done is not None else super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._validate(x)
        done = self._route("predict", args, kwargs, x)
        return done if done is not None else super().predict(x, *args, **kwargs)

    def loss_on(self, x, y):
        """The compiled training loss on (x, y), in inference mode (a float)."""
        return float(self.evaluate(x, y, verbose=0, return_dict=True)["loss"])

    # -- example data ------------------------------------------------------------------
    def example_batch(self, n=32, seed=0):
        """Random inputs that fit the model and targets that depend on them (learnable).

        Used by the registry-wide tests and the docs' examples.
        """
        rng = np.random.default_rng(seed)
        spec = self.inputs[0]
        shape = tuple(8 if d is None else d for d in spec.shape[1:])
        dtype = keras.backend.standardize_dtype(spec.dtype)
        if dtype.startswith("int"):
            vocab = self._zoo_config["vocab_size"]
            x = rng.integers(1, vocab, size=(n, *shape)).astype("int32")
            signal = (x % 2).reshape(n, -1).astype("float32")
        else:
            x = rng.normal(size=(n, *shape)).astype("float32")
            signal = x.reshape(n, -1)
        projection = np.random.default_rng(seed + 1).normal(size=(signal.shape[1],))
        score = signal @ projection
        if self.target_kind == "classes":
            edges = np.quantile(score, np.linspace(0, 1, self.num_classes + 1)[1:-1])
            y = np.searchsorted(edges, score).astype("int32")
        else:
            out_shape = tuple(self.output_shape[1:])
            y = np.tile(score[:, None], (1, int(np.prod(out_shape)))).reshape(n, *out_shape)
            y = y.astype("float32")
        return x, y

    def example_inputs(self, n=32, seed=0):
        """Random inputs for `predict` / `__call__` (the inputs of `example_batch`)."""
        return self.example_batch(n, seed)[0]


class ZooClassifier(ZooModel):
    """Base of the classifiers: a sigmoid head for two classes, softmax otherwise."""

    target_kind = "classes"
    default_metrics = ("accuracy",)

    @property
    def default_loss(self):
        return "binary_crossentropy" if self.num_classes == 2 else "sparse_categorical_crossentropy"

    def predict_classes(self, x, **kwargs):
        """Predicted class ids, shape (batch,)."""
        probabilities = self.predict(x, verbose=0, **kwargs)
        if self.num_classes == 2:
            return (probabilities[:, 0] > 0.5).astype("int32")
        return probabilities.argmax(-1).astype("int32")
