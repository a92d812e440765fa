"""zoo.backend.torch_storage: the same values and shapes in another memory layout, in place."""

import doctest

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="the layout of torch tensors")


def test_docstring_example():
    from zoo.backend import torch_storage

    assert doctest.testmod(torch_storage).failed == 0


def test_column_major_and_match_layout_keep_values_shapes_and_the_parameter():
    import torch

    from zoo.backend import torch_storage

    values = np.arange(24, dtype="float32").reshape(4, 6)
    weight = keras.Variable(values)
    slot = keras.Variable(values * 2, trainable=False)
    parameter = weight.value
    torch_storage.column_major(weight)
    assert weight.value is parameter  # the same torch Parameter, its storage swapped
    assert weight.value.stride() == (1, 4) and weight.value.T.is_contiguous()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight), values)
    torch_storage.match_layout(slot, weight.value)
    assert slot.value.stride() == weight.value.stride()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(slot), values * 2)
    weight.assign(values + 1)  # Keras assigns into the same memory
    assert weight.value.stride() == (1, 4)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight), values + 1)
    torch_storage.row_major(weight)  # back to Keras' own layout, same values
    assert weight.value is parameter and weight.value.is_contiguous()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight), values + 1)
    torch_storage.column_major(keras.Variable(np.zeros(3, "float32")))  # 1-D: left as is
    assert isinstance(weight.value, torch.nn.Parameter)
