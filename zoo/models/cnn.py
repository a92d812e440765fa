"""`convnet`: the keras-io MNIST convnet, generalized (any input, deeper option).

Inputs are always channels-last images (height, width, channels). `data_format`
only chooses how the convolutions run inside; left as None it is the backend's fastest
(`zoo.backend.preferred_image_data_format()`: channels_first on torch, which spares a
transpose per layer, Keras' `image_data_format()` elsewhere). Flattening is always in
channels-last order, so the weights are the same whatever the layout.
"""

import keras

from zoo import backend
from zoo import layers as zoo_layers
from zoo.models import blocks
from zoo.models.base import ZooClassifier
from zoo.registry import register_architecture

_AUGMENTATIONS = ("rotation", "translation", "zoom")


def _augmentation(x, augment):
    unknown = set(augment) - set(_AUGMENTATIONS)
    if unknown:
        raise ValueError(
            f"ConvNet augment keys must be among {_AUGMENTATIONS}, got {sorted(unknown)}."
        )
    if augment.get("translation"):
        f = augment["translation"]
        x = keras.layers.RandomTranslation(f, f, fill_mode="constant",
                                           data_format="channels_last", name="aug_translate")(x)
    if augment.get("rotation"):
        x = keras.layers.RandomRotation(augment["rotation"], fill_mode="constant",
                                        data_format="channels_last", name="aug_rotate")(x)
    if augment.get("zoom"):
        x = keras.layers.RandomZoom(augment["zoom"], fill_mode="constant",
                                    data_format="channels_last", name="aug_zoom")(x)
    return x


def _check_spatial_size(input_shape, n_blocks, kernel_size, convs_per_block, padding,
                        pool_size):
    """Raise ValueError when the image shrinks to nothing before the last block."""
    size = min(input_shape[:2])
    for b in range(n_blocks):
        if padding == "valid":
            size -= convs_per_block * (kernel_size - 1)
        size = size // pool_size if size >= pool_size else 0
        if size < 1:
            raise ValueError(
                f"ConvNet: a {input_shape[0]}x{input_shape[1]} input shrinks to nothing in "
                f"block {b} of {n_blocks} (padding={padding!r}, kernel_size={kernel_size}, "
                f"pool_size={pool_size}). Use padding='same', fewer filters (blocks) or a "
                "larger input."
            )


@keras.saving.register_keras_serializable(package="zoo")
@register_architecture(
    "convnet",
    family="cnn",
    description="keras-io MNIST convnet, any input shape; deeper option with batch norm, "
    "more blocks and in-model augmentation",
    tiny={"input_shape": (8, 8, 1), "num_classes": 10, "filters": (8, 16), "padding": "same",
          "rescale": 1 / 16},
)
class ConvNet(ZooClassifier):
    """Convolutional image classifier.

    Defaults reproduce the keras-io MNIST convnet (two conv/max-pool blocks of 32
    and 64 filters, dropout 0.5, softmax head) on raw 0-255 pixels.

    Example:
        >>> import numpy as np, zoo
        >>> model = zoo.ConvNet(input_shape=(8, 8, 1), num_classes=10, padding="same",
        ...                     rescale=1 / 16)
        >>> model.predict(np.zeros((2, 8, 8, 1)), verbose=0).shape
        (2, 10)
    """

    def __init__(self, input_shape=(28, 28, 1), num_classes=10, filters=(32, 64),
                 kernel_size=3, convs_per_block=1, padding="valid", pool_size=2,
                 batch_norm=False, dense_units=0, dropout=0.5, rescale=1 / 255,
                 augment=None, data_format=None, name="convnet", **kwargs):
        blocks.check_num_classes("ConvNet", num_classes)
        input_shape = tuple(input_shape)
        filters = tuple(filters)
        if len(input_shape) != 3:
            raise ValueError(
                f"ConvNet input_shape is (height, width, channels), got {input_shape}."
            )
        blocks.check_positive_ints("ConvNet", input_shape=input_shape, filters=filters,
                                   kernel_size=kernel_size, convs_per_block=convs_per_block)
        if padding not in ("valid", "same"):
            raise ValueError(f"ConvNet padding is 'valid' or 'same', got {padding!r}.")
        _check_spatial_size(input_shape, len(filters), kernel_size, convs_per_block, padding,
                            pool_size)
        layout = data_format or backend.preferred_image_data_format()
        if layout not in ("channels_last", "channels_first"):
            raise ValueError(
                f"ConvNet data_format is channels_last or channels_first, got {data_format!r}."
            )
        channel_axis = 1 if layout == "channels_first" else -1

        inputs = keras.Input(input_shape, name="images")
        x = keras.layers.Rescaling(rescale, name="rescale")(inputs) if rescale else inputs
        if augment:
            x = _augmentation(x, dict(augment))
        if layout == "channels_first":
            x = keras.layers.Permute((3, 1, 2), name="to_channels_first")(x)
        for b, width in enumerate(filters):
            for c in range(convs_per_block):
                x = zoo_layers.Conv2D(
                    width, kernel_size, padding=padding, data_format=layout,
                    use_bias=not batch_norm,
                    activation=None if batch_norm else "relu", name=f"block{b}_conv{c}",
                )(x)
                if batch_norm:
                    x = zoo_layers.BatchNormalization(axis=channel_axis,
                                                        name=f"block{b}_bn{c}")(x)
                    x = keras.layers.ReLU(name=f"block{b}_relu{c}")(x)
            x = keras.layers.MaxPooling2D(pool_size, data_format=layout, name=f"block{b}_pool")(x)
        # Flatten told the layout flattens in (height, width, channels) order either
        # way, so the Dense weights do not depend on it.
        x = keras.layers.Flatten(data_format=layout, name="flatten")(x)
        if dense_units:
            x = keras.layers.Dense(dense_units, activation="relu", name="dense")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="dropout")(x)
        outputs = blocks.classification_head(x, num_classes)
        super().__init__(
            inputs=inputs, outputs=outputs, name=name,
            config=dict(input_shape=input_shape, num_classes=num_classes, filters=filters,
                        kernel_size=kernel_size, convs_per_block=convs_per_block,
                        padding=padding, pool_size=pool_size, batch_norm=batch_norm,
                        dense_units=dense_units, dropout=dropout, rescale=rescale,
                        augment=dict(augment) if augment else None, data_format=data_format),
            **kwargs,
        )
