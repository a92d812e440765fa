"""Choose torch as Keras' backend unless the user already chose one.

This module must not import keras: it runs before keras is imported.
"""

import json
import os
import sys

DEFAULT_BACKEND = "torch"

# What Keras writes to ~/.keras/keras.json on its first import when the file does
# not exist. A file with exactly this content records no choice of the user's.
_KERAS_AUTOWRITTEN = {
    "floatx": "float32",
    "epsilon": 1e-07,
    "backend": "tensorflow",
    "image_data_format": "channels_last",
}


def _keras_config_path():
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        home = os.path.join(base, ".keras")
    return os.path.join(home, "keras.json")


def user_chosen_backend():
    """The backend the user chose explicitly, or None.

    An explicit choice is `KERAS_BACKEND`, or a `keras.json` whose backend the user
    set (a file identical to the one Keras writes on its first import is no choice).
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    path = _keras_config_path()
    try:
        with open(path) as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    if "backend" in config and config != _KERAS_AUTOWRITTEN:
        return config["backend"]
    return None


def select_default_backend():
    """Set `KERAS_BACKEND=torch` when keras is not imported yet and nothing was chosen.

    Returns the backend keras will use (or is using).
    """
    if "keras" in sys.modules:
        return None  # keras already decided; zoo works on whatever it chose
    chosen = user_chosen_backend()
    if chosen:
        return chosen
    os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
    return DEFAULT_BACKEND
