"""The private Keras names the zoo's torch code reads, checked against the installed Keras.

The zoo's torch loop (`torch_fit`, `torch_infer`, `torch_step`, `torch_graph`,
`torch_lowering`, `torch_call`) and its fused transposed convolution read Keras
internals: modules under `keras.src` and private methods of the trainer, optimizer and
layers, written against keras 3.15. Keras may move them in any release. Where the
installed Keras lacks one, `missing()` names it, the zoo's models run Keras' own
`fit` / `evaluate` / `predict` / `__call__` (and Keras' own convolution) instead, and
`ZooModel.fit_path` says why: slower, never broken.

Instance attributes that only exist on a built or compiled model (`_compile_loss`,
`_nodes_by_depth`, ...) are read by the blockers themselves; an `AttributeError` there
routes to Keras in the same way (`zoo/backend/fast_path.py`).

Example:
    >>> from zoo.backend import keras_internals
    >>> keras_internals.missing() is None  # keras 3.15 has everything
    True
"""

import functools
import importlib
import warnings

# "module:attribute.attribute": what must resolve for each group of the zoo's torch code
REQUIRED = {
    "loop": (
        "keras.src.backend.config:max_epochs",
        "keras.src.trainers.data_adapters.array_slicing:train_validation_split",
        "keras.src.backend.torch.core:get_device",
        "keras.src.backend.torch.core:to_torch_dtype",
        "keras.src.ops.numpy:NotEqual",
        "keras.src.backend.torch.trainer:TorchTrainer.train_step",
        "keras.src.backend.torch.trainer:TorchTrainer.test_step",
        "keras.src.backend.torch.trainer:TorchTrainer.predict_step",
        "keras.src.backend.torch.trainer:TorchTrainer._symbolic_build",
        "keras.src.backend.torch.trainer:TorchTrainer._should_eval",
        "keras.src.backend.torch.trainer:TorchTrainer._assert_compile_called",
        "keras.src.backend.torch.trainer:TorchTrainer._flatten_metrics_in_order",
        "keras.src.backend.torch.trainer:TorchTrainer.get_metrics_result",
        "keras.src.backend.torch.optimizers.torch_adam:Adam",
        "keras.src.optimizers.base_optimizer:BaseOptimizer._get_current_learning_rate",
        "keras.src.optimizers.base_optimizer:BaseOptimizer._get_variable_index",
        "keras.src.optimizers.base_optimizer:BaseOptimizer.finalize_variable_values",
        "keras.src.losses.losses:LossFunctionWrapper",
        "keras.src.metrics.reduction_metrics:MeanMetricWrapper",
        "keras.src.callbacks:Callback",
        "keras.src.callbacks:CallbackList",
        "keras.src.utils.python_utils:pythonify_logs",
        "keras.src.layers.layer:Layer._flatten_layers",
        "keras.src.ops.symbolic_arguments:SymbolicArguments.fill_in",
        "keras.src.backend.common.global_state:get_global_attribute",
        "keras.src.backend.common.stateless_scope:in_stateless_scope",
        "keras.src.backend.common.symbolic_scope:in_symbolic_scope",
        "torch:_fused_adam_",
    ),
    "conv": (
        "keras.src.backend.common.backend_utils:compute_conv_transpose_output_crops_for_torch",
    ),
}


# The first Keras release that has every name of a group (checked by running the test
# suite on keras 3.8.0, 3.10.0, 3.14.1, 3.15.0 and 3.15.1, 2026-12-02): older ones run
# Keras' own code for that group. The CI runs the torch suite on keras 3.10.0 too.
FIRST_KERAS = {"loop": (3, 10), "conv": (3, 15)}


@functools.cache
def missing(group="loop"):
    """The first name of `REQUIRED[group]` the installed Keras (or torch) lacks, as
    "module:attribute", or None when all resolve. Checked once per process."""
    for spec in REQUIRED[group]:
        if not resolves(spec):
            return spec
    return None


def resolves(spec):
    """Whether "module:attribute.attribute" imports and resolves."""
    module_name, _, path = spec.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError:
        return False
    for name in path.split("."):
        obj = getattr(obj, name, _MISSING)
        if obj is _MISSING:
            return False
    return True


def reason(spec_or_error):
    """The routing reason for a missing internal (a spec from `missing()`) or for the
    `AttributeError` raised reading one; the first time a reason comes up in a process
    it is also given as a `RuntimeWarning` (the zoo's faster path is off)."""
    import keras

    what = spec_or_error if isinstance(spec_or_error, str) else \
        f"{type(spec_or_error).__name__}: {spec_or_error}"
    text = (f"keras {keras.__version__} lacks an internal the zoo's torch code reads "
            f"({what}); it was written against keras 3.15")
    if text not in _warned:
        _warned.add(text)
        warnings.warn(f"zoo: Keras' own code runs instead of the zoo's faster torch path: "
                      f"{text}", RuntimeWarning, stacklevel=_caller_level())
    return text


def _caller_level():
    """The `stacklevel` that points a warning at the first frame outside zoo and Keras
    (the user's call)."""
    import sys

    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in (
            "zoo", "keras"):
        level, frame = level + 1, frame.f_back
    return level


_MISSING = object()
_warned = set()
