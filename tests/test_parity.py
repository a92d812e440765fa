"""Weights saved on this backend load on the other two (fresh processes), same outputs."""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import BACKENDS, REPO_ROOT, as_numpy, run_on_backend, tiny_model

ATOL = 1e-4
WORKER = REPO_ROOT / "tests" / "parity_worker.py"


def _save_every_model(folder):
    for name in zoo.list_models():
        model, x_fit, y_fit = tiny_model(name)
        model.compile()
        model.fit(x_fit, y_fit, epochs=1, batch_size=16, verbose=0)  # non-initial weights
        x = model.example_inputs(16, seed=7)
        y = as_numpy(model.predict(x, verbose=0))
        model.save(folder / f"{name}.keras")
        xs = x if isinstance(x, (list, tuple)) else [x]
        np.savez(folder / f"{name}.npz", y=y, **{f"x{i}": xi for i, xi in enumerate(xs)})


@pytest.mark.parity
@pytest.mark.parametrize("target", [b for b in BACKENDS if b != keras.backend.backend()])
def test_models_saved_here_give_the_same_outputs_on(target, tmp_path):
    _save_every_model(tmp_path)
    report = run_on_backend(target, WORKER, tmp_path)
    assert report.pop("_backend") == target
    assert sorted(report) == zoo.list_models()
    worst = {name: diff for name, diff in report.items() if not diff <= ATOL}
    assert not worst, f"outputs differ on {target} beyond {ATOL}: {worst}"
