"""Everything that depends on which Keras backend runs lives in this package.

Model code calls the functions exported here; no other module branches on
`keras.backend.backend()`.
"""

from zoo.backend.layout import preferred_image_data_format
from zoo.backend.lstm import fused_lstm, fused_lstm_available, lay_out_fused_lstm_weights
from zoo.backend.select import DEFAULT_BACKEND, select_default_backend, user_chosen_backend


def current():
    """Name of the active Keras backend: "torch", "tensorflow" or "jax"."""
    import keras

    return keras.backend.backend()


__all__ = [
    "DEFAULT_BACKEND",
    "current",
    "fused_lstm",
    "fused_lstm_available",
    "lay_out_fused_lstm_weights",
    "preferred_image_data_format",
    "select_default_backend",
    "user_chosen_backend",
]
