"""Checks that turn wrong data into a ValueError saying what was expected."""

import numpy as np


def is_array_like(x):
    """True for numpy arrays and backend tensors (anything with shape and dtype)."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (str, bytes))


def _dtype_kind(x):
    import keras

    if isinstance(x, np.ndarray):
        kind = {"i": "int", "u": "int", "f": "float", "b": "bool"}.get(x.dtype.kind, "other")
        return kind, x.dtype  # named in an error message only
    try:
        dtype = keras.backend.standardize_dtype(x.dtype)
    except ValueError:
        return "other", str(x.dtype)
    if dtype.startswith(("int", "uint")):
        return "int", dtype
    if dtype.startswith(("float", "bfloat")):
        return "float", dtype
    if dtype == "bool":
        return "bool", dtype
    return "other", dtype


def _fmt(shape):
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


def check_inputs(model_name, x, expected_shape, expected_dtype):
    """Raise ValueError unless array `x` fits an input of `expected_shape` (batch first)."""
    if not is_array_like(x):
        return
    shape = tuple(x.shape)
    if len(shape) != len(expected_shape) or any(
        e is not None and e != s for e, s in zip(expected_shape, shape)
    ):
        raise ValueError(
            f"{model_name} expects inputs of shape {_fmt(expected_shape)}, got {shape}. "
            "Reshape the data, or build the model with matching input arguments."
        )
    kind, dtype = _dtype_kind(x)
    wants_int = expected_dtype.startswith(("int", "uint"))
    if wants_int and kind != "int":
        raise ValueError(
            f"{model_name} expects integer token ids ({expected_dtype}), got {dtype}. "
            "Cast with x.astype('int32') after tokenizing."
        )
    if not wants_int and kind == "other":
        raise ValueError(
            f"{model_name} expects numeric inputs ({expected_dtype}), got {dtype}. "
            "Convert the data to a float array first."
        )


def check_class_labels(model_name, y, num_classes):
    """Raise ValueError unless `y` holds integer class ids in [0, num_classes)."""
    if not is_array_like(y):
        return
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"{model_name} expects integer class ids of shape (batch,), got shape "
            f"{tuple(np.shape(y))}. One-hot labels: use y.argmax(-1)."
        )
    if labels.size == 0:
        return
    if not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError(f"{model_name} expects integer class ids, got non-integer values.")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"{model_name} was built for num_classes={num_classes} (ids 0..{num_classes - 1}), "
            f"but the labels range over {int(low)}..{int(high)}. Build the model with "
            f"num_classes={int(high) + 1} or fix the labels."
        )


def check_value_targets(model_name, y, output_shape):
    """Raise ValueError unless `y` has the model's output shape (batch first)."""
    if not is_array_like(y):
        return
    shape = tuple(y.shape)
    expected = tuple(output_shape)
    if expected[1:] == (1,) and len(shape) == 1:
        return
    if len(shape) != len(expected) or shape[1:] != expected[1:]:
        raise ValueError(
            f"{model_name} predicts targets of shape {_fmt(expected)}, got targets of "
            f"shape {shape}."
        )
