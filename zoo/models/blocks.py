"""Building blocks shared by several families (functional-API helpers)."""

import keras


def check_num_classes(model_name, num_classes):
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"{model_name} needs num_classes >= 2 (an int), got {num_classes!r}."
        )


def check_positive_ints(model_name, **values):
    for key, value in values.items():
        items = value if isinstance(value, (tuple, list)) else (value,)
        if not items or not all(isinstance(v, int) and v > 0 for v in items):
            raise ValueError(f"{model_name}: {key} must be positive integers, got {value!r}.")


def dense_stack(x, units, depth, dropout=0.0, activation="relu", prefix="dense"):
    """`depth` Dense layers of `units`, each followed by dropout when dropout > 0."""
    for i in range(depth):
        x = keras.layers.Dense(units, activation=activation, name=f"{prefix}_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x


def classification_head(x, num_classes, name="head"):
    """Probabilities: one sigmoid unit for two classes, a softmax over `num_classes` else."""
    if num_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", name=name)(x)
    return keras.layers.Dense(num_classes, activation="softmax", name=name)(x)


def input_normalization(x):
    """Feature-wise standardization, fitted by `ZooModel.adapt` on training inputs."""
    return keras.layers.Normalization(axis=-1, name="input_norm")(x)


def target_denormalization(x):
    """Maps standardized predictions back to target units; fitted by `ZooModel.adapt`."""
    return keras.layers.Normalization(axis=-1, invert=True, name="target_denorm")(x)
