"""Which devices the current backend sees, and where its tensors live.

Example:
    >>> from zoo.backend import devices
    >>> isinstance(devices.gpu_available(), bool)
    True
    >>> import keras
    >>> devices.device_type(keras.ops.ones((2,)))  # 'cpu' here, 'gpu' on a GPU machine
    ... # doctest: +SKIP
    'cpu'
"""


def _backend():
    import keras

    return keras.backend.backend()


def gpu_count():
    """How many GPUs the current backend can use (0 when none, or when its build has no
    GPU support: the CPU build of torch, jax without jaxlib's CUDA plugin,
    tensorflow-cpu)."""
    backend = _backend()
    if backend == "torch":
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    if backend == "jax":
        import jax

        try:
            return len(jax.devices("gpu"))
        except RuntimeError:  # "Unknown backend gpu" / no CUDA plugin
            return 0
    if backend == "tensorflow":
        import tensorflow as tf

        return len(tf.config.list_physical_devices("GPU"))
    return 0


def gpu_available():
    """Whether the current backend has at least one GPU."""
    return gpu_count() > 0


def device_type(value):
    """'gpu' or 'cpu' (or the platform's name): where a tensor or Keras variable lives."""
    value = getattr(value, "value", value)  # a keras.Variable -> its backend tensor
    backend = _backend()
    if backend == "torch":
        return "gpu" if value.device.type == "cuda" else value.device.type
    if backend == "jax":
        platforms = {d.platform for d in value.devices()}
        return "gpu" if platforms & {"gpu", "cuda", "rocm"} else ",".join(sorted(platforms))
    if backend == "tensorflow":
        import tensorflow as tf

        name = tf.DeviceSpec.from_string(value.device).device_type or "CPU"
        return name.lower()
    return "cpu"


def disable_tf32():
    """Full float32 precision in matrix products and convolutions on GPUs (no TF32),
    so that GPU and CPU outputs can be compared with a float32 tolerance."""
    backend = _backend()
    if backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    elif backend == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")
    elif backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(False)
