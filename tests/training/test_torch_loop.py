"""The zoo's torch training loop (`ZooModel.fit` on torch) trains exactly as Keras'
`fit` does: same weights, optimizer state and history after the same epochs, the same
callbacks called; and it hands every case it does not reproduce to Keras' `fit`."""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import tiny_model

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="the zoo's training loop exists on torch only")

FAMILIES = ["mlp_regressor", "mlp_classifier", "convnet", "lstm_classifier", "lstm_forecaster"]
TOKENS = dict(sequence_length=12, vocab_size=40, embedding_dim=8, num_features=None)


def _twin_models(arch, **overrides):
    """Two identical copies of a tiny model (one for each loop), and its data."""
    config = {**zoo.get_architecture(arch).tiny, **overrides}
    if "dropout" in tiny_model(arch, **config)[0].get_config():
        config["dropout"] = 0.0  # dropout masks are random: compare without them
    (first, x, y), (second, _, _) = tiny_model(arch, **config), tiny_model(arch, **config)
    second.set_weights(first.get_weights())
    if x.dtype.kind == "i":
        x[:, :4] = 0  # pre-padded token rows: masks travel through the loop
    return [first, second], x, y


def _fit_both(models, x, y, compile_kwargs=None, **fit_kwargs):
    histories = []
    for model, native in zip(models, (False, True)):
        model.compile(**(compile_kwargs() if compile_kwargs else {}))
        model.native_torch_loop = native
        histories.append(model.fit(x, y, verbose=0, **fit_kwargs).history)
    return histories


def _assert_same_training(models, histories, atol=1e-5):
    keras_model, zoo_model = models
    assert zoo_model.fit_path == "zoo torch loop", zoo_model.fit_path
    assert keras_model.fit_path.startswith("keras"), keras_model.fit_path
    for a, b in zip(keras_model.get_weights(), zoo_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=atol)
    for a, b in zip(keras_model.optimizer.variables, zoo_model.optimizer.variables):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a),
                                   keras.ops.convert_to_numpy(b), atol=atol)
    assert histories[0].keys() == histories[1].keys()
    for key in histories[0]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("arch,overrides", [
    *[(name, {}) for name in FAMILIES],
    ("lstm_classifier", TOKENS),
])
def test_same_training_as_keras_fit(arch, overrides):
    models, x, y = _twin_models(arch, **overrides)
    histories = _fit_both(models, x, y, batch_size=8, epochs=3, shuffle=False,
                          validation_data=(x[:10], y[:10]))
    _assert_same_training(models, histories)
    assert set(histories[1]) >= {"loss", "val_loss"}


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-2, 20)),
    lambda: keras.optimizers.AdamW(1e-2, weight_decay=0.1),  # Keras' own apply()
    lambda: keras.optimizers.SGD(1e-2, momentum=0.9),
    lambda: keras.optimizers.Adam(1e-2, clipnorm=0.5),
])
def test_same_training_with_other_optimizers(optimizer):
    models, x, y = _twin_models("mlp_classifier")
    histories = _fit_both(models, x, y, compile_kwargs=lambda: {"optimizer": optimizer()},
                          batch_size=8, epochs=2, shuffle=False)
    _assert_same_training(models, histories)


def test_validation_split_and_initial_epoch_as_keras():
    models, x, y = _twin_models("mlp_regressor")
    histories = _fit_both(models, x, y, batch_size=8, epochs=3, initial_epoch=1,
                          validation_split=0.25, shuffle=False)
    _assert_same_training(models, histories)
    assert len(histories[1]["loss"]) == 2


def test_a_built_model_is_not_rebuilt_per_fit_and_a_recompiled_one_is():
    model, x, y = tiny_model("mlp_regressor")
    model.compile()
    model.fit(x, y, epochs=1, verbose=0)
    params = model._torch_params  # what Keras' _symbolic_build re-makes on every call
    model.fit(x, y, epochs=1, verbose=0)
    assert model._torch_params is params
    # compile() again: new metrics and a new optimizer are built before the first step
    model.compile(optimizer=keras.optimizers.Adam(1e-2), metrics=["mae", "mse"])
    model.fit(x, y, epochs=1, verbose=0)
    assert model.fit_path == "zoo torch loop", model.fit_path
    assert model.optimizer.built and int(model.optimizer.iterations) > 0
    assert set(model.get_metrics_result()) == {"loss", "mae", "mse"}


def test_shuffled_training_learns_and_sees_every_row_once_per_epoch():
    model, x, y = tiny_model("mlp_classifier", dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    seen = []

    class Rows(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
            assert set(logs) == {"loss", "accuracy"}

    before = model.loss_on(x, y)
    model.fit(x, y, batch_size=5, epochs=20, verbose=0, callbacks=[Rows()])
    assert model.fit_path == "zoo torch loop"
    assert seen[:7] == list(range(7)) and len(seen) == 20 * 7  # 32 rows, batch 5
    assert model.loss_on(x, y) < before / 2


def test_callbacks_stop_training_and_see_epoch_logs():
    model, x, y = tiny_model("mlp_regressor")
    model.compile()
    epochs_seen = []

    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epochs_seen.append(sorted(logs))
            if epoch == 1:
                self.model.stop_training = True

    history = model.fit(x, y, epochs=10, verbose=0, validation_data=(x, y),
                        callbacks=[StopAfterTwo()])
    assert model.fit_path == "zoo torch loop"
    assert len(history.history["loss"]) == 2
    assert epochs_seen[0] == ["loss", "mae", "val_loss", "val_mae"]


@pytest.mark.parametrize("case,reason", [
    ({"sample_weight": np.ones(32, "float32")}, "sample_weight"),
    ({"class_weight": {0: 1.0, 1: 2.0}}, "class_weight"),
    ({"steps_per_epoch": 2}, "steps_per_epoch"),
    ({"shuffle": "batch"}, "shuffle"),
])
def test_what_the_loop_does_not_cover_goes_to_keras_fit(case, reason):
    model, x, y = tiny_model("mlp_classifier")
    model.compile()
    model.fit(x, y, epochs=1, verbose=0, **case)
    assert model.fit_path.startswith("keras (") and reason in model.fit_path


def test_models_the_loop_does_not_cover_go_to_keras_fit():
    model, x, y = tiny_model("mlp_classifier")
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(), metrics=[keras.metrics.MeanIoU(num_classes=3, sparse_y_pred=False)])
    model.fit(x, y, epochs=1, verbose=0)
    assert model.fit_path == "keras (metric 'mean_io_u' is not a mean of a metric function)"
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    assert model.fit_path == "zoo torch loop"
    model.native_torch_loop = False
    model.fit(x, y, epochs=1, verbose=0)
    assert model.fit_path == "keras (native_torch_loop is False)"
    model.native_torch_loop = True
    model.compile(jit_compile=True)
    assert model.predict(x, verbose=0).shape == (32, 3)
    assert model.predict_path == "keras (jit_compile=True (Keras compiles its own step))"
    model.compile(steps_per_execution=2)
    with pytest.raises(ValueError, match="steps_per_execution"):  # Keras' own answer
        model.fit(x, y, epochs=1, verbose=0)
    assert model.fit_path == "keras (steps_per_execution is not 1)"


def test_dataset_input_goes_to_keras_fit():
    model, x, y = tiny_model("mlp_regressor")
    model.compile()

    def batches():
        while True:
            yield x[:8], y[:8]

    model.fit(batches(), epochs=1, steps_per_epoch=2, verbose=0)
    assert model.fit_path.startswith("keras (")


@pytest.mark.parametrize("arch,overrides", [
    *[(name, {}) for name in FAMILIES],
    ("lstm_classifier", TOKENS),
])
def test_predict_and_evaluate_give_keras_results(arch, overrides):
    (keras_model, zoo_model), x, y = _twin_models(arch, **overrides)
    for model, native in ((keras_model, False), (zoo_model, True)):
        model.compile()
        model.native_torch_loop = native
    np.testing.assert_allclose(keras_model.predict(x, batch_size=7, verbose=0),
                               zoo_model.predict(x, batch_size=7, verbose=0), atol=1e-6)
    expected = keras_model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    got = zoo_model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    assert zoo_model.predict_path == zoo_model.evaluate_path == "zoo torch loop"
    assert keras_model.predict_path.startswith("keras")
    assert expected.keys() == got.keys()
    for key in expected:
        np.testing.assert_allclose(expected[key], got[key], rtol=1e-5, atol=1e-6)
    assert zoo_model.evaluate(x, y, verbose=0) == pytest.approx(
        keras_model.evaluate(x, y, verbose=0), rel=1e-5)


def test_predict_batch_hooks_and_progress_bar(capsys):
    model, x, _ = tiny_model("mlp_regressor")
    batches = []

    class Outputs(keras.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            batches.append(keras.ops.convert_to_numpy(logs["outputs"]).shape)

    out = model.predict(x, batch_size=10, verbose=1, callbacks=[Outputs()])
    assert model.predict_path == "zoo torch loop"
    assert out.shape == (32, 1) and batches == [(10, 1)] * 3 + [(2, 1)]
    assert "4/4" in capsys.readouterr().out
