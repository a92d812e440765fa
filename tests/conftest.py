"""Shared pytest set-up: every test runs on the backend named by KERAS_BACKEND."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

import zoo  # noqa: E402,F401  (registers the architectures)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seeds and the default image layout."""
    keras.utils.set_random_seed(1234)
    keras.config.set_image_data_format("channels_last")
    yield
    keras.config.set_image_data_format("channels_last")


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"
