"""`dcgan` and `conditional_gan`: a generator and a discriminator trained by one `fit()`.

The model's `call` (and so `predict`) runs the generator: noise of shape
(batch, latent_dim) -- plus int class ids of shape (batch,) for the conditional GAN --
to images in the data's range. `fit(x)` / `fit(x, y)` trains both networks, each with
its own optimizer: every batch runs a discriminator half-step, then a generator
half-step. The gradient bookkeeping of those half-steps is backend-specific and lives
in `zoo.backend.gan_step`; the losses they minimize are written once, here.

Images are scaled from the data's range (`data_range`, e.g. (0, 16) for sklearn digits,
(0, 255) for MNIST) to the generator's tanh range [-1, 1] inside the model, and back.

Example:
    >>> import zoo
    >>> from sklearn.datasets import load_digits
    >>> digits = load_digits()
    >>> gan = zoo.ConditionalGAN(image_shape=(8, 8, 1), num_classes=10, latent_dim=16,
    ...                          generator_filters=(32, 16), discriminator_filters=(16, 32),
    ...                          data_range=(0.0, 16.0))
    >>> gan.compile()
    >>> history = gan.fit(digits.images[..., None], digits.target, epochs=1, verbose=0)
    >>> gan.generate(3, labels=[0, 1, 2], seed=0).shape
    (3, 8, 8, 1)
"""

import keras

from zoo.models.gan_base import GAN
from zoo.registry import register_architecture


_TINY = {"image_shape": (8, 8, 1), "latent_dim": 16, "generator_filters": (16, 8),
         "discriminator_filters": (8, 16), "data_range": (0.0, 16.0)}


@keras.saving.register_keras_serializable(package="zoo")
@register_architecture(
    "dcgan", family="gan",
    description="DCGAN: transposed-conv generator with batch norm, strided-conv "
    "discriminator; any image shape; one fit() trains both",
    tiny=_TINY,
)
class DCGAN(GAN):
    """Unconditional DCGAN (Radford et al. 2015) for images of any shape.

    Defaults fit MNIST: 28x28x1 images of 0..255 pixels, 128-d noise, a 7x7 base grid.
    `ema_momentum` (default 0.99; None turns it off): samples come from `generator_ema`,
    an exponential moving average of the generator's weights updated after every
    generator step, which gives markedly better samples than the last step's weights
    (measured on digits: docs/results.md).

    Example:
        >>> import zoo
        >>> gan = zoo.DCGAN(image_shape=(8, 8, 1), latent_dim=16, data_range=(0.0, 16.0))
        >>> x, _ = gan.example_batch(64)
        >>> gan.compile()
        >>> history = gan.fit(x, epochs=1, batch_size=32, verbose=0)
        >>> gan.generate(2, seed=0).shape
        (2, 8, 8, 1)
        >>> gan.sampler.name  # the moving average of the generator's weights
        'generator_ema'
    """

    def __init__(self, image_shape=(28, 28, 1), latent_dim=128, generator_filters=(128, 64),
                 discriminator_filters=(64, 128), kernel_size=4, dropout=0.3,
                 data_range=(0.0, 255.0), ema_momentum=0.99,
                 name="dcgan", **kwargs):
        config = dict(image_shape=tuple(image_shape), latent_dim=latent_dim,
                      generator_filters=tuple(generator_filters),
                      discriminator_filters=tuple(discriminator_filters),
                      kernel_size=kernel_size, dropout=dropout,
                      data_range=tuple(float(v) for v in data_range),
                      ema_momentum=ema_momentum)
        super().__init__(**config, num_classes=None, config=config, name=name, **kwargs)


@keras.saving.register_keras_serializable(package="zoo")
@register_architecture(
    "conditional_gan", family="gan",
    description="class-conditional DCGAN: one-hot labels concatenated to the generator's "
    "noise and to the discriminator's image channels",
    tiny={**_TINY, "num_classes": 4},
)
class ConditionalGAN(GAN):
    """Class-conditional DCGAN: `fit(images, labels)`, `generate(n, labels=...)`.

    Arguments as `DCGAN`'s, plus `num_classes`.

    Example:
        >>> import numpy as np, zoo
        >>> gan = zoo.ConditionalGAN(image_shape=(8, 8, 1), num_classes=4, latent_dim=16,
        ...                          data_range=(0.0, 16.0))
        >>> x, y = gan.example_batch(64)  # train: gan.compile(); gan.fit(x, y, epochs=...)
        >>> gan.generate(4, labels=np.arange(4), seed=0).shape
        (4, 8, 8, 1)
        >>> gan.generate(2, labels=[0, 4], seed=0)
        Traceback (most recent call last):
        ...
        ValueError: ConditionalGAN.generate expects int class ids of shape (2,) in 0..3 ...
    """

    def __init__(self, image_shape=(28, 28, 1), num_classes=10, latent_dim=128,
                 generator_filters=(128, 64), discriminator_filters=(64, 128), kernel_size=4,
                 dropout=0.3, data_range=(0.0, 255.0), ema_momentum=0.99,
                 name="conditional_gan", **kwargs):
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"ConditionalGAN needs num_classes >= 2 (an int), "
                             f"got {num_classes!r}.")
        config = dict(image_shape=tuple(image_shape), num_classes=num_classes,
                      latent_dim=latent_dim, generator_filters=tuple(generator_filters),
                      discriminator_filters=tuple(discriminator_filters),
                      kernel_size=kernel_size, dropout=dropout,
                      data_range=tuple(float(v) for v in data_range),
                      ema_momentum=ema_momentum)
        settings = {k: v for k, v in config.items() if k != "num_classes"}
        super().__init__(**settings, num_classes=num_classes, config=config, name=name,
                         **kwargs)
