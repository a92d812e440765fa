"""FusedLSTM against keras.layers.LSTM: same outputs and gradients, masks included.

Runs on the backend named by KERAS_BACKEND. On torch the fused kernel must actually
run where it can (and Keras' loop where it cannot); on TensorFlow and JAX FusedLSTM
is Keras' own LSTM and these tests guard that it stays so.
"""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import BACKENDS, REPO_ROOT, as_numpy, run_on_backend
from tests.layers.compare import ATOL, assert_close, run_layer, torch_spy
from zoo.layers import FusedLSTM

B, T, F, U = 4, 7, 3, 5
LENGTHS = [T, 1, 4, 2]  # a full-length sequence and one of length 1
MASKS = {  # name: (sequence lengths, padding) of a padded mask (None: no mask)
    "no_mask": None,
    "right_padded": (LENGTHS, "right"),
    "all_shorter": ([5, 1, 3, 2], "right"),  # no sequence reaches the last steps
    # keras.utils.pad_sequences' default: padding in front, Keras' loop keeps the
    # initial state and outputs zeros there.
    "left_padded": (LENGTHS, "left"),
    "left_all_shorter": ([5, 1, 3, 2], "left"),  # the first steps are masked everywhere
}
ON_TORCH = keras.backend.backend() == "torch"


# --- helpers -----------------------------------------------------------------------------

def _pair(make):
    """The same layer built as keras.layers.LSTM and FusedLSTM, with equal random weights
    (bias included, so the bias' path is exercised)."""
    reference, fused = make(keras.layers.LSTM), make(FusedLSTM)
    reference.build((B, T, F))
    fused.build((B, T, F))
    rng = np.random.default_rng(0)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32")
               for w in reference.get_weights()]
    reference.set_weights(weights)
    fused.set_weights(weights)
    return reference, fused


def _cases(names, *cases):
    """Parameters for `pytest.mark.parametrize(names, ...)`: every case on torch, where
    FusedLSTM runs the fused kernel; on TensorFlow and JAX, where it runs
    keras.layers.LSTM's own code (test_fused_path_only_on_torch), the last case only,
    which keeps the file quick there (JAX compiles every RNN call it differentiates)."""
    keys = [n.strip() for n in names.split(",")]
    params = [pytest.param(*values, id="-".join(map(_case_id, keys, values)))
              for values in cases]
    return pytest.mark.parametrize(names, params if ON_TORCH else params[-1:])


def _case_id(name, value):
    if isinstance(value, bool):
        return name if value else f"no_{name}"
    return str(value)


def _right_padded_mask(lengths=LENGTHS, steps=T):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def _padded_mask(padding, lengths=LENGTHS, steps=T):
    """A right- or left-padded mask (None: no mask)."""
    if padding is None:
        return None
    mask = _right_padded_mask(lengths, steps)
    return mask if padding == "right" else mask[:, ::-1].copy()


def _named_mask(name):
    return None if MASKS[name] is None else _padded_mask(MASKS[name][1], MASKS[name][0])


def _inputs(seed=1):
    return np.random.default_rng(seed).normal(size=(B, T, F)).astype("float32")


@pytest.fixture
def kernel_calls(monkeypatch):
    """On torch: one entry per call into the torch kernel wrapper, True where the fused
    kernel ran, False where it declined (Keras' loop ran). None on other backends."""
    return torch_spy(monkeypatch, "torch_lstm", "lstm",
                     lambda args, kwargs, result: result is not None)


def _check_path(calls, fused):
    """On torch: `fused` is the number of fused kernel runs expected (0: Keras' loop)."""
    if calls is None:
        return
    assert calls.count(True) == fused, calls


def _compare(make, *, x=None, mask=None, initial_state=None, training=False):
    reference, fused = _pair(make)
    x = _inputs() if x is None else x
    kwargs = dict(mask=mask, initial_state=initial_state, training=training)
    expected = run_layer(reference, x, **kwargs)
    actual = run_layer(fused, x, **kwargs)
    assert_close(actual[0], expected[0], "output")
    assert_close(actual[1], expected[1], "gradient")
    return expected


# --- same outputs and gradients as keras.layers.LSTM ---------------------------------------

@_cases("return_sequences, go_backwards, return_state, mask",
        *[(r, g, s, m) for r in (False, True) for g in (False, True) for s in (False, True)
          for m in MASKS])
def test_matches_keras_lstm(return_sequences, go_backwards, return_state, mask,
                            kernel_calls):
    # With a mask, return_state=True takes the packed-sequence path (exact final cell
    # state), return_state=False runs the padded batch and gathers (the fast path).
    _compare(
        lambda cls: cls(U, return_sequences=return_sequences, go_backwards=go_backwards,
                        return_state=return_state),
        mask=_named_mask(mask),
    )
    _check_path(kernel_calls, fused=1)


PADDINGS = ("right", "left")


@_cases("return_sequences, go_backwards, return_state, padding",
        *[(r, g, s, p) for r in (False, True) for g in (False, True) for s in (False, True)
          for p in PADDINGS])
def test_zero_output_for_mask_matches_keras_lstm(return_sequences, go_backwards,
                                                 return_state, padding, kernel_calls):
    # Bidirectional sets zero_output_for_mask=return_sequences; Keras then outputs
    # zeros at masked steps (and, returning the last step only, for a masked last step).
    _compare(
        lambda cls: cls(U, return_sequences=return_sequences, go_backwards=go_backwards,
                        return_state=return_state, zero_output_for_mask=True),
        mask=_padded_mask(padding),
    )
    _check_path(kernel_calls, fused=1)


@_cases("return_sequences, padding",
        *[(r, p) for r in (False, True) for p in (None,) + PADDINGS])
def test_bidirectional_matches_and_both_directions_are_fused(return_sequences, padding,
                                                            kernel_calls):
    _compare(
        lambda cls: keras.layers.Bidirectional(cls(U, return_sequences=return_sequences)),
        mask=_padded_mask(padding),
    )
    _check_path(kernel_calls, fused=2)


@_cases("go_backwards, return_state, padding",
        *[(g, s, p) for g in (False, True) for s in (False, True)
          for p in (None,) + PADDINGS])
def test_initial_state_matches_keras_lstm(go_backwards, return_state, padding, kernel_calls):
    # Left-padded: the masked steps in front keep the initial state but output zeros.
    rng = np.random.default_rng(2)
    state = [rng.normal(size=(B, U)).astype("float32") for _ in range(2)]
    _compare(
        lambda cls: cls(U, return_sequences=True, go_backwards=go_backwards,
                        return_state=return_state),
        mask=_padded_mask(padding),
        initial_state=state,
    )
    _check_path(kernel_calls, fused=1)


@_cases("bidirectional, padding",
        *[(b, p) for b in (False, True) for p in PADDINGS])
def test_embedding_mask_zero_model_matches_keras_lstm(bidirectional, padding, kernel_calls):
    rng = np.random.default_rng(3)
    tokens = rng.integers(1, 20, size=(B, T)).astype("int32")
    tokens[~_padded_mask(padding)] = 0  # lengths 7, 1, 4, 2, padded at the end or in front

    def make(cls):
        inputs = keras.Input((T,), dtype="int32")
        x = keras.layers.Embedding(20, F, mask_zero=True, name="embedding")(inputs)
        for i, last in enumerate([False, True]):
            layer = cls(U, return_sequences=not last, name=f"lstm_{i}")
            x = (keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")
                 if bidirectional else layer)(x)
        return keras.Model(inputs, keras.layers.Dense(2, name="head")(x))

    reference, fused = make(keras.layers.LSTM), make(FusedLSTM)
    fused.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in reference.get_weights()])
    reference.set_weights(fused.get_weights())
    if kernel_calls is not None:
        kernel_calls.clear()  # building the model traced it once, shapes only
    expected = run_layer(reference, tokens, training=False, grad_x=False)
    actual = run_layer(fused, tokens, training=False, grad_x=False)
    assert_close(actual[0], expected[0], "output")
    assert_close(actual[1], expected[1], "gradient (embedding, lstm and head weights)")
    _check_path(kernel_calls, fused=4 if bidirectional else 2)


@_cases("padding", *[(p,) for p in PADDINGS])
def test_input_dropout_in_training_matches_keras_lstm(padding, kernel_calls):
    # Same seed, same dropout mask: the fused path applies it to the inputs as Keras does.
    _compare(lambda cls: cls(U, return_sequences=True, dropout=0.4, seed=7),
             mask=_padded_mask(padding), training=True)
    _check_path(kernel_calls, fused=1)


# --- configurations and masks that run Keras' own loop --------------------------------------

def test_recurrent_dropout_runs_keras_loop(kernel_calls):
    _compare(lambda cls: cls(U, return_sequences=True, recurrent_dropout=0.3, seed=1),
             mask=_right_padded_mask())
    _check_path(kernel_calls, fused=0)


def test_other_activation_runs_keras_loop(kernel_calls):
    _compare(lambda cls: cls(U, activation="relu"))
    _check_path(kernel_calls, fused=0)


OTHER_MASKS = {
    "mixed_padding": [[1, 1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1, 1]],  # right and left
    "hole": [[1, 1, 1, 1, 1, 1, 1], [1, 0, 1, 1, 0, 0, 0]],
    "fully_masked": [[1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]],
}


@_cases("kind, go_backwards", *[(k, g) for k in OTHER_MASKS for g in (False, True)])
def test_other_masks_run_keras_loop(kind, go_backwards, kernel_calls):
    mask = np.array(OTHER_MASKS[kind] + [[1] * T] * (B - 2), dtype=bool)
    _compare(lambda cls: cls(U, return_sequences=True, go_backwards=go_backwards,
                             return_state=True), mask=mask)
    _check_path(kernel_calls, fused=0)
    if kernel_calls is not None:
        assert kernel_calls == [False]  # the kernel was asked and declined


def test_fit_updates_the_keras_variables_through_the_kernel(kernel_calls):
    rng = np.random.default_rng(4)
    tokens = rng.integers(1, 20, size=(16, T)).astype("int32")
    tokens[:, 5:] = 0
    y = rng.integers(0, 2, size=(16, 1)).astype("float32")
    model = keras.Sequential([
        keras.Input((T,), dtype="int32"),
        keras.layers.Embedding(20, F, mask_zero=True),
        FusedLSTM(U),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    before = [as_numpy(v.value) for v in model.layers[1].trainable_variables]
    losses = [float(model.train_on_batch(tokens, y)) for _ in range(5)]
    after = [as_numpy(v.value) for v in model.layers[1].trainable_variables]
    assert all(not np.allclose(a, b) for a, b in zip(after, before))  # every LSTM weight
    assert losses[-1] < losses[0], losses
    if kernel_calls is not None:
        assert kernel_calls.count(True) >= 5


# --- weights and files ------------------------------------------------------------------------

def test_fused_path_only_on_torch():
    layer = FusedLSTM(U)
    assert zoo.backend.fused_lstm_available(layer) is ON_TORCH
    assert not zoo.backend.fused_lstm_available(FusedLSTM(U, recurrent_dropout=0.1))
    assert not zoo.backend.fused_lstm_available(FusedLSTM(U, use_cudnn=False))
    assert not zoo.backend.fused_lstm_available(FusedLSTM(U, unroll=True))
    assert not zoo.backend.fused_lstm_available(FusedLSTM(U, stateful=True))
    if not ON_TORCH:
        x = np.zeros((B, T, F), "float32")
        assert zoo.backend.fused_lstm(x, x[:, 0, :1], x[:, 0, :1], None, kernel=None,
                                      recurrent_kernel=None, bias=None) is None


def test_zoo_lstm_is_fused_lstm_with_keras_layout():
    assert zoo.layers.LSTM is FusedLSTM
    layer = FusedLSTM(U)
    layer.build((None, T, F))
    assert layer.name.startswith("lstm")  # default names as keras.layers.LSTM's
    assert [(v.path.split("/", 1)[1], tuple(v.shape)) for v in layer.weights] == [
        ("lstm_cell/kernel", (F, 4 * U)),
        ("lstm_cell/recurrent_kernel", (U, 4 * U)),
        ("lstm_cell/bias", (4 * U,)),
    ]
    # unit_forget_bias: the forget gate's bias starts at 1, as in keras.layers.LSTM.
    np.testing.assert_array_equal(as_numpy(layer.cell.bias.value)[U:2 * U], 1.0)


@pytest.mark.skipif(not ON_TORCH, reason="the kernels' memory layout is torch's")
def test_kernels_are_stored_column_major_with_keras_values(tmp_path):
    # torch's kernel reads kernel.T and recurrent_kernel.T: contiguous, no copy per call
    reference, fused = _pair(lambda cls: cls(U))
    for v in (fused.cell.kernel, fused.cell.recurrent_kernel):
        assert v.value.T.is_contiguous(), v.value.stride()
    for a, b in zip(reference.get_weights(), fused.get_weights()):
        np.testing.assert_array_equal(a, b)  # values and shapes are Keras'
    path = tmp_path / "lstm.weights.h5"
    keras.Sequential([keras.Input((T, F)), fused]).save_weights(path)
    loaded = keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(U)])
    loaded.load_weights(path)
    for a, b in zip(reference.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    # loading keeps the layout (Keras assigns into the variable's own memory)
    again = FusedLSTM(U)
    keras.Sequential([keras.Input((T, F)), again]).load_weights(path)
    for a, b in zip(reference.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert again.cell.kernel.value.T.is_contiguous()


@pytest.mark.skipif(not ON_TORCH, reason="the zoo's Adam step exists on torch only")
def test_adam_slots_take_the_kernels_layout_in_the_zoo_loop():
    model = zoo.LSTMClassifier(sequence_length=T, num_features=F, num_classes=3, units=(U,))
    model.compile()
    rng = np.random.default_rng(2)
    model.fit(rng.normal(size=(8, T, F)).astype("float32"), rng.integers(0, 3, size=8),
              epochs=1, verbose=0)
    assert model.fit_path == "zoo torch loop", model.fit_path
    optimizer, kernel = model.optimizer, model.get_layer("lstm_0").cell.kernel
    index = optimizer._get_variable_index(kernel)
    for slot in (optimizer._momentums[index], optimizer._velocities[index]):
        assert slot.value.stride() == kernel.value.stride()


@pytest.mark.parity
@pytest.mark.parametrize("target", [b for b in BACKENDS if b != keras.backend.backend()])
def test_zoo_lstm_model_saved_here_loads_with_keras_on(target, tmp_path):
    model = zoo.LSTMClassifier(vocab_size=30, sequence_length=T, num_classes=3,
                               embedding_dim=F, units=(U, U), bidirectional=True)
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in model.get_weights()])
    tokens = rng.integers(1, 30, size=(B, T)).astype("int32")
    tokens[~_right_padded_mask()] = 0
    model.save(tmp_path / "lstm_classifier.keras")
    np.savez(tmp_path / "lstm_classifier.npz", x0=tokens,
             y=as_numpy(model.predict(tokens, verbose=0)))
    report = run_on_backend(target, REPO_ROOT / "tests" / "parity_worker.py", tmp_path)
    assert report["_backend"] == target
    assert report["lstm_classifier"] <= ATOL, report
