"""dcgan and conditional_gan on sklearn digits: half-steps, training, saving, sampling, errors.

Run once per backend: `KERAS_BACKEND=jax python -m pytest tests/models/test_gan.py -q`.
"""

import doctest
import importlib
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import zoo
import zoo.backend
from zoo.backend.gan_step import gan_train_step
from zoo.models import gan_networks
from zoo.training import sample_quality

DIGITS_GAN = dict(image_shape=(8, 8, 1), latent_dim=16, generator_filters=(32, 16),
                  discriminator_filters=(16, 32), data_range=(0.0, 16.0))
NAMES = ["dcgan", "conditional_gan"]
DOCUMENTED = ["zoo.models.gan_networks", "zoo.models.gan_checks", "zoo.models.gan_examples",
              "zoo.models.gan_mmd", "zoo.training.sample_quality"]
# Examples that train or predict: on the default backend only (the tests above run the same
# code on every backend; JAX compiling each example's steps would take a minute).
TRAINING_EXAMPLES = ["zoo.models.gan", "zoo.models.gan_base", "zoo.backend.gan_step"]


def build(name):
    extra = {"num_classes": 10} if name == "conditional_gan" else {}
    return zoo.build(name, **DIGITS_GAN, **extra)


def labels_for(model, y):
    return None if model.num_classes is None else y


def snapshot(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def iterations(optimizer):
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.images[..., None].astype("float32"), data.target.astype("int32")


@pytest.fixture(scope="module", params=NAMES)
def trained(request, digits, tmp_path_factory):
    """A GAN trained briefly on 512 digits with a ModelCheckpoint callback."""
    keras.utils.set_random_seed(0)
    model = build(request.param)
    model.compile()
    x, y = digits[0][:512], labels_for(model, digits[1][:512])
    before = model.loss_on(x, y)
    checkpoint = tmp_path_factory.mktemp(request.param) / "checkpoint.keras"
    history = model.fit(x, y, epochs=5, batch_size=64, verbose=0,
                        callbacks=[keras.callbacks.ModelCheckpoint(checkpoint)])
    return SimpleNamespace(model=model, x=x, y=y, before=before, after=model.loss_on(x, y),
                           history=history.history, checkpoint=checkpoint)


# -- the two half-steps -----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_each_half_step_changes_only_its_own_network(name, digits):
    model = build(name)
    model.compile()
    x, y = digits[0][:32], labels_for(model, digits[1][:32])
    for part, done in (("discriminator", (1, 0)), ("generator", (1, 1))):
        own, _ = model.network_and_optimizer(part)
        other = model.generator if own is model.discriminator else model.discriminator
        own_before, other_before = snapshot(own.trainable_weights), snapshot(other.weights)

        logs = gan_train_step(model, x, y, parts=(part,))

        assert list(logs) == ["d_loss" if part == "discriminator" else "g_loss"]
        assert np.isfinite(list(logs.values())[0])
        for before, after in zip(other_before, snapshot(other.weights)):
            np.testing.assert_array_equal(before, after)  # moving statistics included
        for variable, before, after in zip(own.trainable_weights, own_before,
                                           snapshot(own.trainable_weights)):
            assert not np.array_equal(before, after), (part, variable.path)
        assert (iterations(model.d_optimizer), iterations(model.g_optimizer)) == done


@pytest.mark.parametrize("name", NAMES)
def test_the_sampler_is_a_moving_average_updated_by_generator_steps_only(name, digits):
    model = build(name)
    model.compile()
    momentum = model.ema_momentum
    assert model.sampler is model.generator_ema and momentum == 0.99
    # Never trained, also in a rebuilt model (Keras sets `trainable` on every sublayer).
    rebuilt = model.__class__.from_config(model.get_config())
    for gan in (model, rebuilt):
        assert not gan.generator_ema.trainable
        assert len(gan.trainable_variables) == len(gan.generator.trainable_variables) + len(
            gan.discriminator.trainable_variables)
    x, y = digits[0][:32], labels_for(model, digits[1][:32])
    # It starts as a copy of the generator (an untrained model samples from its generator).
    for average, weight in zip(snapshot(model.generator_ema.weights),
                               snapshot(model.generator.weights)):
        np.testing.assert_array_equal(average, weight)
    gan_train_step(model, x, y, parts=("generator",))
    ema_before = snapshot(model.generator_ema.weights)
    gan_train_step(model, x, y, parts=("discriminator",))
    for before, after in zip(ema_before, snapshot(model.generator_ema.weights)):
        np.testing.assert_array_equal(before, after)
    gan_train_step(model, x, y, parts=("generator",))
    for variable, before, average, weight in zip(
            model.generator.weights, ema_before, snapshot(model.generator_ema.weights),
            snapshot(model.generator.weights)):
        expected = momentum * before + (1 - momentum) * weight if variable.trainable else weight
        np.testing.assert_allclose(average, expected, rtol=1e-5, atol=1e-7,
                                   err_msg=variable.path)


def test_without_ema_the_generator_samples(digits):
    model = zoo.build("dcgan", **DIGITS_GAN, ema_momentum=None)
    model.compile()
    assert model.generator_ema is None and model.sampler is model.generator
    gan_train_step(model, digits[0][:32])
    noise = model.example_inputs(4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(noise)),
                               (keras.ops.convert_to_numpy(model.generator(noise)) + 1) * 8,
                               atol=1e-5)
    with pytest.raises(ValueError, match="ema_momentum"):
        zoo.build("dcgan", **DIGITS_GAN, ema_momentum=1.0)


def test_an_unknown_half_step_is_refused(digits):
    model = build("dcgan")
    model.compile()
    with pytest.raises(ValueError, match="half-step"):
        gan_train_step(model, digits[0][:8], parts=("both",))


# -- training -----------------------------------------------------------------------------
def test_a_short_run_on_digits_brings_samples_closer_to_the_data(trained):
    assert set(trained.history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(trained.history["g_loss"]))
    assert trained.after < 0.8 * trained.before, (trained.before, trained.after)


def test_the_checkpoint_callback_saves_a_loadable_model(trained):
    loaded = keras.saving.load_model(trained.checkpoint)
    labels = None if trained.y is None else np.arange(10)
    np.testing.assert_array_equal(loaded.generate(10, labels=labels, seed=3),
                                  trained.model.generate(10, labels=labels, seed=3))


def test_save_load_restores_samples_and_both_optimizers(trained, tmp_path):
    model = trained.model
    model.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True)
    labels = None if model.num_classes is None else np.arange(16) % 10
    np.testing.assert_array_equal(loaded.generate(16, labels=labels, seed=7),
                                  model.generate(16, labels=labels, seed=7))
    for attr in ("d_optimizer", "g_optimizer"):
        saved, restored = getattr(model, attr), getattr(loaded, attr)
        assert iterations(restored) == iterations(saved) == 40
        assert len(restored.variables) == len(saved.variables)
        for a, b in zip(snapshot(saved.variables), snapshot(restored.variables)):
            np.testing.assert_array_equal(a, b)
    assert loaded.d_optimizer.get_config()["beta_1"] == 0.5


# -- sampling -----------------------------------------------------------------------------
def test_generate_is_deterministic_for_a_seed_and_within_the_data_range(trained):
    model = trained.model
    labels = None if model.num_classes is None else np.arange(20) % 10
    first = model.generate(20, labels=labels, seed=11)
    assert first.shape == (20, 8, 8, 1)
    np.testing.assert_array_equal(first, model.generate(20, labels=labels, seed=11))
    assert not np.array_equal(first, model.generate(20, labels=labels, seed=12))
    assert first.min() >= 0.0 and first.max() <= 16.0
    assert first.max() - first.min() > 8.0  # trained samples use the range, not a grey blur


def test_predict_runs_the_generator_in_the_data_range(trained):
    model = trained.model
    inputs = model.example_inputs(6, seed=0)
    out = keras.ops.convert_to_numpy(model.predict(inputs, verbose=0))
    noise, labels = (inputs, None) if model.num_classes is None else inputs
    expected = model.sampler.predict(inputs, verbose=0)
    np.testing.assert_allclose(out, (keras.ops.convert_to_numpy(expected) + 1) * 8, atol=1e-4)
    assert noise.shape == (6, 16) and (labels is None or labels.shape == (6,))


def test_generator_fits_any_image_shape():
    generator = gan_networks.build_generator((7, 9, 3), latent_dim=4, filters=(8, 4))
    assert generator.output_shape == (None, 7, 9, 3)
    assert gan_networks.upsampling_plan((28, 28, 1), stages=2) == ((7, 7), (0, 0))
    assert gan_networks.upsampling_plan((32, 32, 3), stages=3) == ((4, 4), (0, 0))


# -- compile ------------------------------------------------------------------------------
def test_compile_defaults_follow_the_dcgan_paper():
    model = build("dcgan")
    model.compile()
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert np.isclose(optimizer.get_config()["learning_rate"], 2e-4)
        assert optimizer.get_config()["beta_1"] == 0.5
    assert model.loss_fn.get_config()["from_logits"] is True
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    assert model.d_optimizer is not model.g_optimizer
    assert isinstance(model.g_optimizer, keras.optimizers.SGD)
    with pytest.raises(ValueError, match="metrics"):
        model.compile(metrics=["accuracy"])


# -- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("labels, problem", [
    (np.zeros((4, 1), "int32"), "shape"), (np.zeros(3, "int32"), "shape"),
    (np.zeros(4, "float32"), "dtype"), (np.array([0, 1, 2, 10]), "ids"), (None, "needs labels"),
])
def test_wrong_labels_for_generate_say_what_was_expected(labels, problem):
    model = build("conditional_gan")
    with pytest.raises(ValueError, match=problem) as error:
        model.generate(4, labels=labels, seed=0)
    assert "int class ids of shape (4,) in 0..9" in str(error.value)


def test_wrong_labels_for_fit_say_what_was_expected(digits):
    model = build("conditional_gan")
    model.compile()
    x, y = digits[0][:16], digits[1][:16]
    with pytest.raises(ValueError, match=r"expects int class ids of shape \(16,\)"):
        model.fit(x, y[:15], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="needs labels"):
        model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="expects"):
        model.predict([np.zeros((2, 16), "float32"), np.zeros(3, "int32")], verbose=0)


def test_the_unconditional_gan_refuses_labels_and_wrong_images(digits):
    model = build("dcgan")
    model.compile()
    with pytest.raises(ValueError, match="unconditional"):
        model.generate(2, labels=[0, 1])
    with pytest.raises(ValueError, match="unconditional"):
        model.fit(digits[0][:8], digits[1][:8], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="data_range"):
        model.fit(digits[0][:8] * 16, epochs=1, verbose=0)  # 0..255 pixels, built for 0..16
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 8, 8, 1\)"):
        model.fit(digits[0][:8, :, :, 0], epochs=1, verbose=0)


# -- sample quality -----------------------------------------------------------------------
def test_frechet_distance_matches_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 6))
    assert sample_quality.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 3.0])
    assert sample_quality.frechet_distance(a, a + shift) == pytest.approx(shift @ shift)
    # N(0, diag(s1^2)) vs N(m, diag(s2^2)): ||m||^2 + sum (s1 - s2)^2
    s1, s2, m = np.array([1.0, 2.0, 0.5]), np.array([2.0, 1.0, 0.5]), np.array([1.0, 0.0, 2.0])
    x = rng.normal(size=(200_000, 3)) * s1
    y = m + rng.normal(size=(200_000, 3)) * s2
    expected = m @ m + np.sum((s1 - s2) ** 2)
    assert sample_quality.frechet_distance(x, y) == pytest.approx(expected, rel=0.02)
    with pytest.raises(ValueError, match="same d"):
        sample_quality.frechet_distance(a, a[:, :3])


def test_a_quick_judge_scores_real_digits_and_their_labels(digits):
    x, y = digits
    judge = zoo.ConvNet(input_shape=(8, 8, 1), num_classes=10, filters=(16, 32),
                        padding="same", rescale=1 / 16, dropout=0.2)
    judge.compile(optimizer=keras.optimizers.Adam(3e-3))
    judge.fit(x[:1200], y[:1200], epochs=6, batch_size=64, verbose=0)
    test_x, test_y = x[1200:], y[1200:]
    features = sample_quality.judge_features(judge, test_x)
    assert features.shape == (len(test_x), judge.get_layer("head").input.shape[-1])
    assert sample_quality.conditional_accuracy(judge, test_x, test_y) > 0.85
    assert sample_quality.conditional_accuracy(judge, test_x, (test_y + 1) % 10) < 0.1
    noise = np.random.default_rng(0).uniform(0, 16, test_x.shape)
    real_vs_real = sample_quality.fid(judge, x[:1200], test_x)
    assert real_vs_real < 0.2 * sample_quality.fid(judge, noise, test_x)


@pytest.mark.parametrize("module", DOCUMENTED + [
    pytest.param(name, marks=pytest.mark.skipif(
        keras.backend.backend() != zoo.backend.DEFAULT_BACKEND,
        reason="training examples run on the default backend")) for name in TRAINING_EXAMPLES])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed
