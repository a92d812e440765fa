"""Each direct torch lowering computes what the Keras layer, loss or metric computes:
outputs and gradients (`zoo/backend/torch_lowering.py`, `torch_losses.py`)."""

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="the lowerings are torch code")

if keras.backend.backend() == "torch":
    import torch

    from zoo.backend import keras_internals, torch_losses, torch_lowering


def _layer_cases():
    from zoo import layers as zoo_layers

    rng = np.random.default_rng(0)
    floats = rng.normal(size=(4, 6)).astype("float32")
    norm = keras.layers.Normalization()
    norm.adapt(floats * 3 + 1)
    denorm = keras.layers.Normalization(invert=True)
    denorm.adapt(floats * 2 - 5)
    tokens = rng.integers(0, 9, size=(4, 5)).astype("int32")
    images = rng.normal(size=(4, 7, 6, 2)).astype("float32")
    return [
        *[(keras.layers.Dense(3, activation=a), floats)
          for a in (None, "relu", "sigmoid", "tanh", "softmax")],
        (keras.layers.Dense(3, use_bias=False), rng.normal(size=(4, 2, 6)).astype("float32")),
        (norm, floats), (denorm, floats),
        (keras.layers.Embedding(9, 3), tokens),
        (keras.layers.Flatten(), rng.normal(size=(4, 2, 3)).astype("float32")),
        (keras.layers.Flatten(data_format="channels_first"),
         rng.normal(size=(4, 2, 3, 5)).astype("float32")),
        (keras.layers.Rescaling(1 / 255, offset=-0.5),
         rng.integers(0, 255, size=(4, 3, 3, 1)).astype("float32")),
        (keras.layers.MaxPooling2D(2, data_format="channels_first"),
         rng.normal(size=(4, 3, 7, 6)).astype("float32")),
        (keras.layers.MaxPooling2D((3, 2), strides=(1, 2), data_format="channels_first"),
         rng.normal(size=(4, 3, 7, 6)).astype("float32")),
        (keras.layers.Reshape((3, 2)), floats),
        (keras.layers.Permute((2, 1)), rng.normal(size=(4, 2, 3)).astype("float32")),
        # zoo.layers' convolutions (tests/layers/test_conv.py: the same as Keras')
        (zoo_layers.Conv2D(3, 3, activation="relu"), images),
        (zoo_layers.Conv2D(3, 3, strides=2, padding="same", activation="tanh",
                           data_format="channels_first"), images.transpose(0, 3, 1, 2)),
        (zoo_layers.Conv2D(4, 2, use_bias=False), images),
        (zoo_layers.Conv2DTranspose(3, 4, strides=2, padding="same"), images),
    ]


@pytest.mark.parametrize("layer,x", _layer_cases(), ids=lambda v: getattr(v, "name", ""))
def test_lowered_layer_matches_keras(layer, x):
    expected = layer(x)
    lowered = torch_lowering.lower(layer)
    if "zoo" in type(layer).__module__ and keras_internals.missing("conv"):
        # a Keras without the internals the zoo's convolutions need: Keras' own call
        assert lowered == layer.call
    else:
        assert lowered != layer.call, "this layer should have a direct lowering"
    got = lowered(torch.as_tensor(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(expected), got.detach().numpy(),
                               atol=1e-6)
    if layer.trainable_weights and x.dtype.kind == "f":
        grads = [torch.autograd.grad(out.sum(), [w.value for w in layer.trainable_weights])
                 for out in (layer(torch.as_tensor(x)), lowered(torch.as_tensor(x)))]
        for a, b in zip(*grads):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_not_equal_op_lowering():
    """`Embedding(mask_zero=True)`'s mask is recorded in the graph as a NotEqual op."""
    from keras.src.ops.numpy import NotEqual

    op = NotEqual()
    lowered = torch_lowering.lower(op)
    assert lowered != op.call
    ids = torch.tensor([[0, 3, 0], [2, 0, 1]], dtype=torch.int32)
    for other in (0, 2, torch.tensor(1)):
        np.testing.assert_array_equal(lowered(ids, other).numpy(),
                                      keras.ops.convert_to_numpy(op.call(ids, other)))


def test_add_and_dropout_lowerings():
    a, b = torch.ones(3, 2), torch.full((3, 2), 2.0)
    assert torch.equal(torch_lowering.lower(keras.layers.Add())([a, b]), a + b)
    dropout = torch_lowering.lower(keras.layers.Dropout(0.5))
    assert torch.equal(dropout(a, training=False), a)
    kept = dropout(torch.ones(1000), training=True)
    assert set(kept.unique().tolist()) <= {0.0, 2.0} and 300 < int((kept == 0).sum()) < 700


def test_configurations_without_a_lowering_keep_keras_call():
    for layer in (keras.layers.Dropout(0.5, seed=3), keras.layers.Dropout(0.5, noise_shape=(1, 2)),
                  keras.layers.Dense(2, activation="gelu"),
                  keras.layers.MaxPooling2D(2, padding="same", data_format="channels_first"),
                  keras.layers.MaxPooling2D(2, data_format="channels_last"),
                  keras.layers.Rescaling([0.5, 2.0]), keras.layers.LSTM(2)):
        assert torch_lowering.lower(layer) == layer.call


def _targets(kind, rng, shape):
    if kind == "binary":
        return rng.integers(0, 2, size=shape).astype("int32")
    if kind == "sparse":
        return rng.integers(0, shape[-1], size=shape[:-1]).astype("int32")
    return rng.normal(size=shape).astype("float32")


LOSS_CLASSES = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError,
                "binary_crossentropy": keras.losses.BinaryCrossentropy,
                "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy}
LOSSES = [("mse", "values", (8, 3)), ("mse", "values", (8, 1)), ("mae", "values", (8, 2)),
          ("binary_crossentropy", "binary", (8, 1)),
          ("sparse_categorical_crossentropy", "sparse", (8, 4))]


@pytest.mark.parametrize("name,kind,shape", LOSSES)
@pytest.mark.parametrize("flat_targets", [False, True])
def test_lowered_loss_matches_keras(name, kind, shape, flat_targets):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=shape).astype("float32")
    y_pred = keras.ops.convert_to_numpy(keras.activations.softmax(logits)) \
        if kind == "sparse" else (1 / (1 + np.exp(-logits)) if kind == "binary" else logits)
    y_true = _targets(kind, rng, shape)
    if flat_targets and kind != "sparse" and shape[-1] == 1:
        y_true = y_true[:, 0]
    loss = LOSS_CLASSES[name]()
    lowered = torch_losses.loss_function(loss)
    assert lowered is not None
    expected = loss(y_true, y_pred)
    got = lowered(torch.as_tensor(y_true), torch.as_tensor(y_pred))
    np.testing.assert_allclose(float(expected), float(got), rtol=1e-6)


@pytest.mark.parametrize("metric,kind,shape", [
    (keras.metrics.BinaryAccuracy, "binary", (8, 1)),
    (keras.metrics.SparseCategoricalAccuracy, "sparse", (8, 4)),
    (keras.metrics.MeanAbsoluteError, "values", (8, 2)),
    (keras.metrics.MeanSquaredError, "values", (8, 1)),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_lowered_metric_matches_keras(metric, kind, shape):
    rng = np.random.default_rng(2)
    y_pred = rng.uniform(size=shape).astype("float32")
    y_true = _targets(kind, rng, shape)
    wrapper = metric()
    fn = wrapper._fn
    lowered = torch_losses.metric_function(wrapper)
    assert lowered is not None
    for targets in (y_true, y_true.reshape(len(y_true), -1)[:, 0] if shape[-1] == 1 else y_true):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(fn(targets, y_pred)),
                                   lowered(torch.as_tensor(targets),
                                           torch.as_tensor(y_pred)).numpy())


def test_losses_with_options_keep_keras():
    assert torch_losses.loss_function(keras.losses.BinaryCrossentropy(from_logits=True)) is None
    assert torch_losses.loss_function(keras.losses.MeanSquaredError(reduction="sum")) is None
    assert torch_losses.loss_function(keras.losses.Huber()) is None
    assert torch_losses.metric_function(keras.metrics.BinaryAccuracy(threshold=0.7)) is None


def test_graph_trains_with_dropout_and_infers_without():
    """The `training` recorded in the graph's nodes is replaced by the call's, as
    Keras' Functional.call does (a Dropout node records training=False when built)."""
    import zoo
    from zoo.backend.torch_graph import TorchGraph

    model = zoo.MLPClassifier(input_dim=6, num_classes=3, units=256, depth=1, dropout=0.5)
    graph = TorchGraph(model)
    x = torch.randn(16, 6)
    inference = graph([x], training=False)[0]
    np.testing.assert_allclose(inference.detach().numpy(),
                               keras.ops.convert_to_numpy(model(x, training=False)), atol=1e-6)
    first, second = graph([x], training=True)[0], graph([x], training=True)[0]
    assert not torch.allclose(first, inference) and not torch.allclose(first, second)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("padding", [None, "right", "left", "holes"])
def test_lowered_fused_lstm_matches_the_layer(return_sequences, go_backwards, padding):
    import zoo

    rng = np.random.default_rng(3)
    layer = zoo.layers.FusedLSTM(5, return_sequences=return_sequences, go_backwards=go_backwards)
    x = torch.as_tensor(rng.normal(size=(4, 6, 3)).astype("float32"))
    layer.build(x.shape)
    mask = None
    if padding:
        lengths = torch.tensor([6, 4, 2, 5])
        steps = torch.arange(6)[None]
        mask = steps < lengths[:, None] if padding == "right" else steps >= 6 - lengths[:, None]
        if padding == "holes":
            mask = mask.clone()
            mask[0, 2] = False
    lowered = torch_lowering.lower(layer)
    assert lowered != layer.call
    expected, got = layer(x, mask=mask), lowered(x, mask=mask)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(expected), got.detach().numpy(),
                               atol=1e-6)
    weights = [w.value for w in layer.trainable_weights]
    for a, b in zip(torch.autograd.grad(expected.sum(), weights),
                    torch.autograd.grad(got.sum(), weights)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def _token_model(lstm_cls, padding, go_backwards=False, stacked=False, dropout=0.0,
                 also_read=False, merge_mode=None):
    """Embedding(mask_zero=True) -> LSTM(s) -> Dense, and pre-/post-padded, unpadded or
    holed token ids for it; `also_read`: a second layer reads the embedded batch too;
    `merge_mode`: each LSTM wrapped in `Bidirectional(merge_mode=...)`."""
    rng = np.random.default_rng(5)
    steps, vocab = 9, 17
    inputs = keras.Input((steps,), dtype="int32")
    embedded = keras.layers.Embedding(vocab, 4, mask_zero=True, name="embedding")(inputs)
    x = embedded
    for i, last in enumerate([False, True] if stacked else [True]):
        layer = lstm_cls(5, return_sequences=not last, go_backwards=go_backwards and i == 0,
                         dropout=dropout, seed=3, name=f"lstm_{i}")
        if merge_mode:
            layer = keras.layers.Bidirectional(layer, merge_mode=merge_mode,
                                               name=f"bidirectional_{i}")
        x = layer(x)
    outputs = keras.layers.Dense(2, name="head")(x)
    if also_read:
        pooled = keras.layers.GlobalAveragePooling1D(name="pool")(embedded)
        outputs = keras.layers.Concatenate(name="both")([outputs, pooled])
    model = keras.Model(inputs, outputs)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in model.get_weights()])
    ids = rng.integers(1, vocab, size=(5, steps)).astype("int32")
    lengths = np.array([steps, 3, 6, 1, steps - 1])[:, None]
    position = np.arange(steps)[None]
    if padding == "pre":
        ids[position < steps - lengths] = 0
    elif padding == "post":
        ids[position >= lengths] = 0
    elif padding == "holes":
        ids[1, 4] = ids[2, 0] = 0
    return model, torch.as_tensor(ids)


def _outputs_and_grads(model, run):
    out = run()
    weights = [v.value for v in model.trainable_variables]
    probe = torch.cos(torch.arange(out.numel(), dtype=torch.float32)).reshape(out.shape)
    return out.detach().numpy(), [g.numpy() for g in torch.autograd.grad(
        (out * probe).sum(), weights)]


@pytest.mark.parametrize("padding", [None, "pre", "post", "holes"])
@pytest.mark.parametrize("go_backwards,stacked", [(False, False), (True, False),
                                                  (False, True)])
def test_embedding_read_only_by_a_fused_lstm_is_embedded_inside_it(padding, go_backwards,
                                                                   stacked):
    """The graph runs the Embedding inside the FusedLSTM's step (token ids shifted, not
    embedded features): outputs and gradients (embedding table included) as
    keras.layers.LSTM's model through Keras' own call."""
    import zoo
    from zoo.backend.torch_graph import TorchGraph

    reference, ids = _token_model(keras.layers.LSTM, padding, go_backwards, stacked)
    model, _ = _token_model(zoo.layers.FusedLSTM, padding, go_backwards, stacked)
    graph = TorchGraph(model)
    runs = {step.layer.name: step.run for step in graph.steps}
    assert runs["embedding"] is torch_lowering.token_ids
    assert runs["lstm_0"].__name__ == "fused_lstm"
    expected = _outputs_and_grads(reference, lambda: reference(ids, training=False))
    got = _outputs_and_grads(model, lambda: graph([ids], training=False)[0])
    np.testing.assert_allclose(got[0], expected[0], atol=1e-6)
    for a, b in zip(got[1], expected[1]):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("padding", [None, "pre", "post", "holes"])
@pytest.mark.parametrize("merge_mode,stacked", [("concat", True), ("concat", False),
                                                ("sum", False), ("ave", True),
                                                ("mul", False)])
def test_bidirectional_fused_lstms_run_both_directions_in_the_graph(padding, merge_mode,
                                                                    stacked):
    """`Bidirectional(FusedLSTM)`: each direction's fused kernel called from the graph, the
    first layer embedding the ids itself; outputs and gradients as the same model of
    keras.layers.LSTM through Keras' own call (holes: Keras' loop, inside the step)."""
    import zoo
    from zoo.backend.torch_graph import TorchGraph

    reference, ids = _token_model(keras.layers.LSTM, padding, stacked=stacked,
                                  merge_mode=merge_mode)
    model, _ = _token_model(zoo.layers.FusedLSTM, padding, stacked=stacked,
                            merge_mode=merge_mode)
    graph = TorchGraph(model)
    runs = {step.layer.name: step.run for step in graph.steps}
    assert runs["embedding"] is torch_lowering.token_ids
    assert all(runs[f"bidirectional_{i}"].__name__ == "bidirectional"
               for i in range(2 if stacked else 1))
    expected = _outputs_and_grads(reference, lambda: reference(ids, training=False))
    got = _outputs_and_grads(model, lambda: graph([ids], training=False)[0])
    np.testing.assert_allclose(got[0], expected[0], atol=1e-6)
    for a, b in zip(got[1], expected[1]):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_bidirectional_lowering_keeps_keras_call_where_it_does_not_apply():
    """Initial states go to the layer's own call; other wrapped layers, `return_state`
    and `merge_mode=None` are not lowered."""
    import zoo

    rng = np.random.default_rng(2)
    x = torch.as_tensor(rng.normal(size=(3, 4, 2)).astype("float32"))
    layer = keras.layers.Bidirectional(zoo.layers.FusedLSTM(3, return_sequences=True))
    expected = layer(x)
    states = [torch.as_tensor(rng.normal(size=(3, 3)).astype("float32")) for _ in range(4)]
    lowered = torch_lowering.lower(layer)
    assert lowered.__name__ == "bidirectional"
    np.testing.assert_allclose(lowered(x).detach().numpy(),
                               keras.ops.convert_to_numpy(expected), atol=1e-6)
    np.testing.assert_allclose(
        lowered(x, initial_state=states).detach().numpy(),
        keras.ops.convert_to_numpy(layer(x, initial_state=states)), atol=1e-6)
    for other in (keras.layers.Bidirectional(keras.layers.LSTM(3)),
                  keras.layers.Bidirectional(zoo.layers.FusedLSTM(3), merge_mode=None),
                  keras.layers.Bidirectional(zoo.layers.FusedLSTM(3, return_state=True))):
        other.build(x.shape)
        assert torch_lowering.lower(other) == other.call


@pytest.mark.parametrize("merge_mode", [None, "concat"])
def test_embedded_lstm_input_dropout_in_training_matches_the_layers(merge_mode):
    """With input dropout in training the paired step embeds and runs the layer's own
    call (each direction's, bidirectional): the same dropout masks (seeded) and outputs
    as the unpaired layers."""
    import zoo
    from zoo.backend.torch_graph import TorchGraph

    model, ids = _token_model(zoo.layers.FusedLSTM, "pre", dropout=0.4, merge_mode=merge_mode)
    graph = TorchGraph(model)
    assert {s.layer.name: s.run for s in graph.steps}["embedding"] is torch_lowering.token_ids
    seeds = [keras.ops.convert_to_numpy(v.value) for v in model.non_trainable_variables]
    expected = model(ids, training=True)  # Keras' call: the layers' own __call__
    for variable, seed in zip(model.non_trainable_variables, seeds):
        variable.assign(seed)  # the seed generator's state: the same dropout mask
    got = graph([ids], training=True)[0]
    assert not np.allclose(got.detach().numpy(),
                           keras.ops.convert_to_numpy(model(ids, training=False)))
    np.testing.assert_allclose(got.detach().numpy(), keras.ops.convert_to_numpy(expected),
                               atol=1e-6)


def test_embedding_read_by_another_layer_too_stays_a_layer_of_its_own():
    import zoo
    from zoo.backend.torch_graph import TorchGraph

    model, ids = _token_model(zoo.layers.FusedLSTM, "pre", also_read=True)
    graph = TorchGraph(model)
    assert {s.layer.name: s.run for s in graph.steps}["embedding"] is not \
        torch_lowering.token_ids
    np.testing.assert_allclose(graph([ids])[0].detach().numpy(),
                               keras.ops.convert_to_numpy(model(ids)), atol=1e-6)
