"""`fit` for zoo models on torch: Keras' epoch loop, callbacks and history, over
tensors converted once, with `TorchStep` as the train step.

Keras' torch `fit` converts every batch through a `torch.utils.data.DataLoader`,
dispatches batch callbacks to a thread pool even when no callback has batch hooks, and
runs the train step through `Layer.__call__`. Here the arrays become tensors once (on an
accelerator, moved there once when they fit `torch_loop.WHOLE_ON_DEVICE_BYTES`), a
batch is one index into them, batch hooks run only when some callback defines them,
and the step is `TorchStep`. Epoch-level behaviour is Keras': the same `CallbackList`,
`History`, progress bar, validation through `model.evaluate`, `stop_training`.
"""

from keras.src.backend import config as keras_config
from keras.src.trainers.data_adapters import array_slicing

from zoo.backend.torch_loop import (Batches, callback_list, defines_hooks, graph_of, is_array,
                                    unsupported)
from zoo.backend.torch_step import TorchStep

# fit() arguments this loop implements; any other argument given goes to Keras' fit
SUPPORTED = {"batch_size", "epochs", "verbose", "callbacks", "validation_split",
             "validation_data", "shuffle", "initial_epoch", "validation_freq",
             "validation_batch_size"}


def blocker(model, x, y, kwargs):
    """Why this loop would not train `model` on (x, y, **kwargs) as Keras does, or None."""
    reason = unsupported(kwargs, SUPPORTED, "fit")
    if reason:
        return reason
    if not is_array(x) or not is_array(y):
        return "x and y are not arrays"
    if kwargs.get("shuffle", True) not in (True, False):
        return "shuffle is not True or False"
    val = kwargs.get("validation_data")
    if val is not None and not (isinstance(val, (tuple, list)) and len(val) == 2):
        return "validation_data is not an (x, y) pair"
    return TorchStep.blocker_on(model, x, y)


def fit(model, x, y, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
        validation_freq=1, validation_batch_size=None):
    """Train as `keras.Model.fit` would; returns the `History`. Call `blocker` first."""
    model._assert_compile_called("fit")
    max_epochs = keras_config.max_epochs()
    if max_epochs and max_epochs < epochs:
        epochs = max_epochs
    if validation_split and validation_data is None:
        (x, y, _), (val_x, val_y, _) = array_slicing.train_validation_split(
            (x, y, None), validation_split=validation_split)
        validation_data = (val_x, val_y)
    data = Batches((x, y), batch_size)
    step = TorchStep(model, graph_of(model))
    callbacks = callback_list(model, callbacks, verbose, epochs, data.count, history=True)
    hooks = defines_hooks(callbacks, "on_train_batch_begin", "on_train_batch_end",
                          "on_batch_begin", "on_batch_end")

    model.stop_training = False
    training_logs = {}
    callbacks.on_train_begin()
    for epoch in range(model._initial_epoch or initial_epoch, epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        model.train()
        order = data.shuffled() if shuffle else None
        for batch in range(data.count):
            if hooks:
                callbacks.on_train_batch_begin(batch)
            xb, yb = data(batch, order)
            step([xb], yb)
            if hooks:
                callbacks.on_train_batch_end(batch, model.get_metrics_result())
            if model.stop_training:
                break
        epoch_logs = dict(model.get_metrics_result())
        model.eval()
        if validation_data is not None and model._should_eval(epoch, validation_freq):
            val_x, val_y = validation_data
            val_logs = model.evaluate(val_x, val_y,
                                      batch_size=validation_batch_size or data.batch_size,
                                      callbacks=callbacks, return_dict=True)
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        callbacks.on_epoch_end(epoch, epoch_logs)
        training_logs = epoch_logs
        if model.stop_training:
            break
    if epochs > 0:
        model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs=training_logs)
    return model.history

