"""`GAN`: the shared base of `DCGAN` and `ConditionalGAN` (see `zoo.models.gan`).

A `keras.Model` that holds two functional networks (`generator`, `discriminator`, built
by `zoo.models.gan_networks`) and, after `compile`, two optimizers. `call` runs the
generator; `fit` runs, per batch, a discriminator half-step then a generator half-step.
The losses of the half-steps are defined here with keras.ops; taking and applying their
gradients is backend-specific and lives in `zoo.backend.gan_step`. Keras' trainers see
the two optimizers as one `model.optimizer` (`_OptimizerPair`) whose variables are
both optimizers' variables, which is how the JAX trainer carries them in its state.

Example:
    >>> import zoo
    >>> gan = zoo.build("dcgan", **zoo.get_architecture("dcgan").tiny)
    >>> gan.compile()
    >>> [type(o).__name__ for o in (gan.d_optimizer, gan.g_optimizer)]
    ['Adam', 'Adam']
    >>> gan.predict(gan.example_inputs(2), verbose=0).shape
    (2, 8, 8, 1)
"""

import keras
import numpy as np
from keras import ops

from zoo.backend import gan_step
from zoo.models import gan_checks, gan_examples, gan_mmd, gan_networks, validation
from zoo.models.constructor_config import ConstructorConfig
from zoo.models.native_paths import NativePaths

HALF_STEPS = ("discriminator", "generator")  # the order of one training step


def default_optimizer():
    """Adam(2e-4, beta_1=0.5), as in the DCGAN paper."""
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


class _OptimizerPair:
    """What Keras' trainers see as `model.optimizer`: both optimizers' variables,
    the discriminator's first (the JAX trainer carries them in its training state)."""

    def __init__(self, model):
        self._model = model

    @property
    def variables(self):
        return list(self._model.d_optimizer.variables) + list(self._model.g_optimizer.variables)

    @property
    def built(self):
        return self._model.d_optimizer.built and self._model.g_optimizer.built

    def build(self, variables=None):
        """Build each optimizer on its own network's trainable variables."""
        for part in HALF_STEPS:
            network, optimizer = self._model.network_and_optimizer(part)
            if not optimizer.built:
                optimizer.build(network.trainable_variables)


def _resolve_optimizer(own, shared):
    """`own` if given, else a fresh copy of `shared`, else the default."""
    if own is not None:
        return keras.optimizers.get(own)
    if shared is None:
        return default_optimizer()
    template = keras.optimizers.get(shared)
    return template.__class__.from_config(template.get_config())


class GAN(NativePaths, ConstructorConfig, keras.Model):
    """Shared base of `DCGAN` and `ConditionalGAN` (`num_classes` None: unconditional).

    Attributes: `generator` and `discriminator` (functional models working in [-1, 1]),
    and after `compile`: `d_optimizer`, `g_optimizer`, `loss_fn`.
    """

    half_steps = HALF_STEPS

    def __init__(self, *, image_shape, latent_dim, generator_filters, discriminator_filters,
                 kernel_size, dropout, data_range, num_classes, config, name,
                 ema_momentum=None, **kwargs):
        gan_checks.check_config(type(self).__name__, image_shape, latent_dim, generator_filters,
                                discriminator_filters, kernel_size, dropout, data_range,
                                ema_momentum)
        super().__init__(name=name, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.data_range = data_range
        self._num_classes = num_classes
        self.generator = gan_networks.build_generator(
            image_shape, latent_dim, generator_filters, num_classes, kernel_size)
        self.ema_momentum = ema_momentum
        self.generator_ema = None
        if ema_momentum is not None:
            # A copy that follows the generator's weights as an exponential moving average
            # (Karras et al. 2018, Yazici et al. 2019): what `call`/`generate` sample from.
            self.generator_ema = gan_networks.build_generator(
                image_shape, latent_dim, generator_filters, num_classes, kernel_size,
                name="generator_ema")
            self.generator_ema.set_weights(self.generator.get_weights())
            self.generator_ema.trainable = False
        self.discriminator = gan_networks.build_discriminator(
            image_shape, discriminator_filters, num_classes, kernel_size, dropout)
        self.noise_seed = keras.random.SeedGenerator(name="noise_seed")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self._zoo_config = dict(config)
        self.built = True

    # -- configuration -------------------------------------------------------------
    @property
    def num_classes(self):
        return self._num_classes

    @property
    def trainable(self):
        return keras.Model.trainable.fget(self)

    @trainable.setter
    def trainable(self, value):
        # Keras sets `trainable` on every sublayer (from_config does, after __init__);
        # the moving average is never trained (the JAX step relies on that: it collects
        # the average's new values among the non-trainable ones).
        keras.Model.trainable.fset(self, value)
        if getattr(self, "generator_ema", None) is not None:
            self.generator_ema.trainable = False

    @property
    def takes_targets(self):
        """Whether `fit` takes labels `y` (the conditional GAN) or images alone."""
        return self.num_classes is not None

    # -- compile ---------------------------------------------------------------------
    def compile(self, d_optimizer=None, g_optimizer=None, loss_fn=None, *, optimizer=None,
                loss=None, metrics=None, **kwargs):
        """Set both optimizers and the real/fake loss; every argument has a default.

        d_optimizer, g_optimizer: Keras optimizers (or names); default `default_optimizer()`.
        optimizer: instead, one optimizer (or name) that each network gets a copy of.
        loss_fn (or loss): `loss_fn(targets, logits)`; default binary cross-entropy from
        logits. Other keyword arguments (`jit_compile`, `run_eagerly`,
        `steps_per_execution`) go to `keras.Model.compile`.
        """
        if metrics:
            raise ValueError(f"{type(self).__name__} reports d_loss and g_loss; it takes "
                             f"no compile metrics, got metrics={metrics!r}.")
        d_optimizer = _resolve_optimizer(d_optimizer, optimizer)
        g_optimizer = _resolve_optimizer(g_optimizer, optimizer)
        if d_optimizer is g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two optimizer instances.")
        loss_fn = loss_fn if loss_fn is not None else loss
        if loss_fn is None:
            loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        loss_fn = keras.losses.get(loss_fn)
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn
        self.optimizer = _OptimizerPair(self)
        self.optimizer.build()

    def get_compile_config(self):
        if not self.compiled or not hasattr(self, "d_optimizer"):
            return None
        serialize = keras.saving.serialize_keras_object
        return {"d_optimizer": serialize(self.d_optimizer),
                "g_optimizer": serialize(self.g_optimizer),
                "loss_fn": serialize(self.loss_fn)}

    def compile_from_config(self, config):
        if config:
            self.compile(**{key: keras.saving.deserialize_keras_object(value)
                            for key, value in config.items()})

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    # -- the model's forward pass: the generator -----------------------------------------
    @property
    def output_shape(self):
        return self.generator.output_shape

    @property
    def sampler(self):
        """The network that `call` and `generate` run: `generator_ema` if the model keeps
        one (`ema_momentum` set), else `generator`."""
        return self.generator if self.generator_ema is None else self.generator_ema

    def call(self, inputs, training=False):
        return self.to_data_range(self.sampler(inputs, training=training))

    def native_call_parts(self):
        """(network, post-processing) that compute `call`: what the zoo's torch path
        runs for `model(...)` and `predict` (zoo/backend/torch_loop.py)."""
        return self.sampler, self.to_data_range

    def update_generator_ema(self):
        """Move `generator_ema` towards `generator` (after each generator half-step).

        Weights: `ema = m * ema + (1 - m) * weight` with m = `ema_momentum`; batch-norm
        moving statistics are copied. Written with variable assignments, so the JAX step
        runs it in a `StatelessScope` (see `zoo.backend.gan_step_jax`). No-op without EMA.
        """
        if self.generator_ema is None:
            return
        momentum = self.ema_momentum
        for average, variable in zip(self.generator_ema.weights, self.generator.weights):
            if variable.trainable:
                average.assign(momentum * average.value + (1.0 - momentum) * variable.value)
            else:
                average.assign(variable.value)

    def to_model_range(self, images):
        """Data-range images -> the generator's tanh range [-1, 1]."""
        low, high = self.data_range
        return ops.cast(images, "float32") * (2.0 / (high - low)) - (high + low) / (high - low)

    def to_data_range(self, images):
        """[-1, 1] -> the data's range."""
        low, high = self.data_range
        return (images + 1.0) * ((high - low) / 2.0) + low

    # -- one training step: the losses, written once for every backend -------------------
    def network_and_optimizer(self, part):
        """(network, optimizer) of a half-step: "discriminator" or "generator"."""
        if part == "discriminator":
            return self.discriminator, self.d_optimizer
        if part == "generator":
            return self.generator, self.g_optimizer
        raise ValueError(f"a GAN half-step is one of {HALF_STEPS}, got {part!r}.")

    def half_step_loss(self, part, real_images, labels=None):
        """The loss that half-step `part` minimizes on a batch of data-range images."""
        if part == "discriminator":
            return self.discriminator_loss(real_images, labels)
        if part == "generator":
            return self.generator_loss(ops.shape(real_images)[0], labels)
        raise ValueError(f"a GAN half-step is one of {HALF_STEPS}, got {part!r}.")

    def sample_noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.noise_seed)

    def _loss(self, targets, logits):
        return ops.mean(self.loss_fn(targets, logits))

    def discriminator_loss(self, real_images, labels=None, training=True):
        """Real images scored as real plus as many fresh fakes scored as fake.

        The fakes come from the generator in training mode (batch statistics) through
        `stateless_call`, so this half-step leaves every generator variable, moving
        statistics included, as it was, and no gradient reaches the generator. Real
        and fake images go through the discriminator as one batch.
        """
        g = self.generator
        batch_size = ops.shape(real_images)[0]
        fakes, _ = g.stateless_call([v.value for v in g.trainable_variables],
                                    [v.value for v in g.non_trainable_variables],
                                    self._generator_inputs(self.sample_noise(batch_size), labels),
                                    training=training)
        images = ops.concatenate([self.to_model_range(real_images), ops.stop_gradient(fakes)])
        both = None if labels is None else ops.concatenate([labels, labels])
        logits = self.discriminator(self._discriminator_inputs(images, both), training=training)
        real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
        return (self._loss(ops.ones_like(real_logits), real_logits)
                + self._loss(ops.zeros_like(fake_logits), fake_logits))

    def generator_loss(self, batch_size, labels=None, training=True, noise=None):
        """Non-saturating generator loss: fresh fakes scored as real by the discriminator."""
        if noise is None:
            noise = self.sample_noise(batch_size)
        fakes = self.generator(self._generator_inputs(noise, labels), training=training)
        logits = self.discriminator(self._discriminator_inputs(fakes, labels), training=training)
        return self._loss(ops.ones_like(logits), logits)

    def track_losses(self, losses):
        """Add a step's {part: loss} to the running means; the logs `fit` reports."""
        trackers = {"discriminator": self.d_loss_tracker, "generator": self.g_loss_tracker}
        for part, loss in losses.items():
            trackers[part].update_state(loss)
        return {tracker.name: tracker.result() for tracker in self.metrics}

    def unpack_batch(self, data):
        """(real images, int32 labels or None) from a batch that `fit` delivers.

        The DCGAN ignores labels in dataset batches; the conditional GAN needs them.
        """
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if self.num_classes is None:
            return images, None
        if labels is None:
            raise ValueError(f"{type(self).__name__}.fit needs (images, labels) batches: "
                             f"labels are int class ids of shape (batch,).")
        return images, ops.cast(labels, "int32")

    def train_step(self, *args):
        return gan_step.fit_step(self, *args)

    def test_step(self, *args):
        raise NotImplementedError(
            f"{type(self).__name__} has no evaluate(); use loss_on(x, y) or "
            "zoo.training.sample_quality to measure it."
        )

    # -- generator / discriminator inputs (the conditional GAN adds labels) --------------
    def _generator_inputs(self, noise, labels):
        return noise if self.num_classes is None else [noise, labels]

    def _discriminator_inputs(self, images, labels):
        return images if self.num_classes is None else [images, labels]

    # -- data checks (see zoo.models.gan_checks) ------------------------------------------
    def validate_inputs(self, x):
        """Raise ValueError unless `x` is a batch of images of `image_shape` in `data_range`."""
        gan_checks.check_images(type(self).__name__, x, self.image_shape, self.data_range)

    def validate_targets(self, y):
        """Raise ValueError unless `y` fits: None for the DCGAN, class ids (n,) otherwise."""
        self.check_labels(y, None, "fit")

    def check_labels(self, labels, n, where):
        """Class ids as int32 of shape (n,) in [0, num_classes) (None for the DCGAN)."""
        return gan_checks.check_labels(f"{type(self).__name__}.{where}", labels, n,
                                       self.num_classes)

    def validate_generator_inputs(self, inputs):
        """Raise ValueError unless `inputs` fit `call`: noise, or [noise, labels]."""
        gan_checks.check_generator_inputs(type(self).__name__, inputs, self.latent_dim,
                                          self.num_classes)

    def predict(self, x, *args, **kwargs):
        self.validate_generator_inputs(x)
        done = self._route("predict", args, kwargs, x)
        return done if done is not None else super().predict(x, *args, **kwargs)

    def fit(self, x=None, y=None, *args, **kwargs):
        """Keras `fit`: images `x` in `data_range` (and int class ids `y` when conditional)."""
        if validation.is_array_like(x):
            self.validate_inputs(x)
            self.check_labels(y, len(x), "fit")
        return super().fit(x, y, *args, **kwargs)

    def adapt(self, x, y=None):
        """Nothing to fit before training (scaling comes from `data_range`); checks the data."""
        if validation.is_array_like(x):
            self.validate_inputs(x)
            self.check_labels(y, len(x), "adapt")
        return self

    # -- sampling -------------------------------------------------------------------------
    def example_inputs(self, n=32, seed=0):
        """What `model(...)`/`predict` takes: noise, or [noise, labels] when conditional."""
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((n, self.latent_dim)).astype("float32")
        if self.num_classes is None:
            return noise
        return [noise, rng.integers(0, self.num_classes, size=n).astype("int32")]

    def example_batch(self, n=32, seed=0):
        """(images, labels or None) that `fit` takes: a blob placed by its class."""
        images, labels = gan_examples.blob_images(n, self.image_shape, self.data_range,
                                                  self.num_classes or 4, seed)
        return images, None if self.num_classes is None else labels

    def generate(self, n, labels=None, seed=None, batch_size=256):
        """`n` images in the data's range, shape (n, H, W, C); the same for the same seed.

        The noise comes from `numpy.random.default_rng(seed)`; labels are required
        (shape (n,) int class ids) for the conditional GAN and must be None otherwise.
        The generator runs in inference mode (batch-norm moving statistics).
        """
        labels = self.check_labels(labels, n, "generate")
        noise = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        noise = noise.astype("float32")
        chunks = [np.zeros((0, *self.image_shape), "float32")]
        for start in range(0, n, batch_size):
            part = slice(start, start + batch_size)
            inputs = self._generator_inputs(noise[part], None if labels is None else labels[part])
            chunks.append(ops.convert_to_numpy(self(inputs, training=False)))
        return np.clip(np.concatenate(chunks), *self.data_range)

    def loss_on(self, x, y=None, max_samples=2048):
        """How far the generator's samples are from the images `x`: kernel MMD^2 (a float).

        `len(x)` samples (labels `y` for the conditional GAN) from `generate(seed=0)`, in
        inference mode, against `x`, both scaled to [-1, 1]: see `zoo.models.gan_mmd`
        (jointly with the labels when conditional; 0 only for identical sets). It does
        not involve the discriminator: a discriminator's opinion of the samples gets
        harsher as it trains, so the adversarial generator loss often rises in a run
        that improves the samples. At most `max_samples` images of `x` (a seeded choice).
        """
        self.validate_inputs(x)
        labels = self.check_labels(y, len(x), "loss_on")
        x = np.asarray(x, "float32")
        if len(x) > max_samples:
            keep = np.sort(np.random.default_rng(0).choice(len(x), max_samples, replace=False))
            x, labels = x[keep], None if labels is None else labels[keep]
        samples = self.generate(len(x), labels=labels, seed=0)
        scale = self.to_model_range
        return gan_mmd.mmd2(ops.convert_to_numpy(scale(x)), ops.convert_to_numpy(scale(samples)),
                            labels, labels)
