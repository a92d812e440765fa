"""Reusable layers that keep Keras' weight layouts."""

from zoo.layers.batch_norm import BatchNormalization
from zoo.layers.conv import Conv2D, Conv2DTranspose
from zoo.layers.fused_lstm import FusedLSTM

# The recurrent layer every zoo LSTM model uses. One name, so a faster implementation
# with the same weight layout can replace it in one place: FusedLSTM runs torch's
# fused kernel on the torch backend and is keras.layers.LSTM elsewhere.
LSTM = FusedLSTM

__all__ = ["BatchNormalization", "Conv2D", "Conv2DTranspose", "FusedLSTM", "LSTM"]
