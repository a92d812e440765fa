"""`import zoo` picks torch unless the user chose a backend."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT, require_installed

PROBE = "import {first}zoo, keras; print(keras.backend.backend())"


def _backend_after_import(tmp_path, env_backend=None, keras_json=None, first=""):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(KERAS_HOME=str(tmp_path), PYTHONPATH=str(REPO_ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    if env_backend:
        env["KERAS_BACKEND"] = env_backend
    if keras_json is not None:
        (tmp_path / "keras.json").write_text(json.dumps(keras_json, indent=4))
    code = PROBE.format(first=first)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_torch_is_the_default(tmp_path):
    assert _backend_after_import(tmp_path) == "torch"


def test_keras_autowritten_config_is_not_a_choice(tmp_path):
    autowritten = {"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow",
                   "image_data_format": "channels_last"}
    assert _backend_after_import(tmp_path, keras_json=autowritten) == "torch"


@pytest.mark.parametrize("how", ["env", "keras_json"])
def test_an_explicit_choice_wins(tmp_path, how):
    require_installed("jax")
    if how == "env":
        assert _backend_after_import(tmp_path, env_backend="jax") == "jax"
    else:
        choice = {"backend": "jax", "floatx": "float32"}
        assert _backend_after_import(tmp_path, keras_json=choice) == "jax"


def test_keras_imported_first_keeps_its_backend(tmp_path):
    env = {"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow",
           "image_data_format": "channels_last"}
    # keras imported before zoo, with nothing chosen: keras' own default stays.
    require_installed("tensorflow")
    assert _backend_after_import(tmp_path, keras_json=env, first="keras, ") == "tensorflow"
