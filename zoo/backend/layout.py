"""Which image layout runs fastest on the active backend."""


def preferred_image_data_format():
    """"channels_first" on torch, whose convolutions are NCHW (Keras transposes around
    every channels_last convolution there: the zoo's convnet trained at 0.44x of a
    hand-written PyTorch twin channels_last and 0.89x channels_first, see
    docs/performance.md); elsewhere Keras' `image_data_format()` (TensorFlow's CPU
    kernels want NHWC)."""
    import keras

    if keras.backend.backend() == "torch":
        return "channels_first"
    return keras.config.image_data_format()
