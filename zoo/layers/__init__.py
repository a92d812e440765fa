"""Reusable layers that keep Keras' weight layouts."""

import keras

# The recurrent layer every zoo LSTM model uses. One name, so a faster implementation
# with the same weight layout can replace it in one place.
LSTM = keras.layers.LSTM

__all__ = ["LSTM"]
