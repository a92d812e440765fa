"""Model families. Importing this package registers every architecture."""

from zoo.models.base import ZooClassifier, ZooModel
from zoo.models.classifier import MLPClassifier
from zoo.models.cnn import ConvNet
from zoo.models.gan import DCGAN, ConditionalGAN
from zoo.models.lstm import LSTMClassifier, LSTMForecaster
from zoo.models.regression import MLPRegressor

__all__ = ["ConditionalGAN", "ConvNet", "DCGAN", "LSTMClassifier", "LSTMForecaster",
           "MLPClassifier", "MLPRegressor", "ZooClassifier", "ZooModel"]
