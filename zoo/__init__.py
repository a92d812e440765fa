"""keras-zoo: backend-agnostic Keras 3 models, recipes and pretrained weights.

Importing `zoo` selects the torch backend when none was chosen (see
`zoo.backend.select`); `KERAS_BACKEND` or a `keras.json` you wrote always wins.

Example:
    >>> import zoo
    >>> zoo.list_models()
    ['conditional_gan', 'convnet', 'dcgan', 'lstm_classifier', 'lstm_forecaster', 'mlp_classifier', 'mlp_regressor']
    >>> model = zoo.build("mlp_regressor", input_dim=10)
"""

from zoo.backend.select import select_default_backend as _select_default_backend

_select_default_backend()

from zoo.models import (  # noqa: E402  (after the backend choice)
    DCGAN,
    ConditionalGAN,
    ConvNet,
    LSTMClassifier,
    LSTMForecaster,
    MLPClassifier,
    MLPRegressor,
    ZooModel,
)
from zoo.registry import (  # noqa: E402
    build,
    get_architecture,
    get_pretrained,
    list_models,
    load_catalog as _load_catalog,
)

_load_catalog()

from zoo.loading import load  # noqa: E402
from zoo.publish import publish  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "DCGAN",
    "ConditionalGAN",
    "ConvNet",
    "LSTMClassifier",
    "LSTMForecaster",
    "MLPClassifier",
    "MLPRegressor",
    "ZooModel",
    "__version__",
    "build",
    "get_architecture",
    "get_pretrained",
    "list_models",
    "load",
    "publish",
]
