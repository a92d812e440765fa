"""Run in a fresh process (or one per rank under torchrun): train the tiny
deterministic recipe of tests/training/test_distributed.py with or without
`distribute=True` and write the final weights as JSON.

Usage: KERAS_BACKEND=... python tests/training/distributed_worker.py OUTPUT RESULT.json [1]

`ZOO_TEST_TF_LOGICAL_CPUS=N` splits TensorFlow's CPU into N logical devices before TF
starts (what MirroredStrategy then trains on); for JAX set
`XLA_FLAGS=--xla_force_host_platform_device_count=N` in the environment instead.
Local rank r > 0 of a torchrun launch (several processes sharing one command line on
one machine) writes RESULT.json.r.

`ZOO_TEST_RECIPE=lstm` trains the tiny LSTM recipe instead of the MLP one (and on torch
reports the strides of its LSTM kernels, `lstm_kernel_strides`).

`ZOO_TEST_TF_RECORD_ROWS=1` (TensorFlow): every replica's train step records which
training rows it was given (`rows` in the result: per step, the indices into the
recipe's training split). On TensorFlow the split of each global batch over the workers
is tf.data's, not zoo's: this is what shows each worker trained on its own part.
"""

import json
import os
import sys
from pathlib import Path

if os.environ.get("ZOO_TEST_TF_LOGICAL_CPUS"):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * int(os.environ["ZOO_TEST_TF_LOGICAL_CPUS"]))

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from tests.training.test_distributed import tiny_recipe, tiny_train_x  # noqa: E402
from zoo.training.trainer import train  # noqa: E402


def record_tf_rows():
    """Wrap the TensorFlow trainer's train step so that each replica's `x` is appended
    to the returned list as it runs (a `tf.py_function` inside the compiled step)."""
    import tensorflow as tf
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    batches, keras_step = [], TensorFlowTrainer.train_step

    def train_step(self, batch):
        tf.py_function(lambda x: batches.append(x.numpy()) or 0, [batch[0]], [tf.int32])
        return keras_step(self, batch)

    TensorFlowTrainer.train_step = train_step
    return batches


def row_indices(batches):
    """Each recorded batch as indices into the tiny recipe's training split."""
    x_train = np.asarray(tiny_train_x(), "float32")
    index = {row.tobytes(): i for i, row in enumerate(x_train)}
    assert len(index) == len(x_train), "rows must be distinct to be identified"
    return [[index[row.tobytes()] for row in np.asarray(b, "float32")] for b in batches]


def main(output, result_path, distribute=False):
    batches = record_tf_rows() if os.environ.get("ZOO_TEST_TF_RECORD_ROWS") else None
    result = train(tiny_recipe(os.environ.get("ZOO_TEST_RECIPE", "mlp")), output, verbose=0,
                   distribute=distribute)
    rank = int(os.environ.get("LOCAL_RANK", 0))
    report = {"weights": [np.asarray(w).tolist() for w in result.model.get_weights()],
              "metrics": result.metrics, "history": result.history,
              "is_chief": result.is_chief, "distributed": result.metadata.get("distributed")}
    if os.environ.get("KERAS_BACKEND") == "torch":
        report["lstm_kernel_strides"] = [
            [list(v.value.stride()), v.shape[0]] for v in result.model.weights
            if v.path.endswith(("/kernel", "/recurrent_kernel")) and "lstm" in v.path]
    if batches is not None:
        report["rows"] = row_indices(batches)
    Path(result_path + (f".{rank}" if rank else "")).write_text(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "1")
