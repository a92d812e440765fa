"""Run in a fresh process (or one per rank under torchrun): train the tiny
deterministic recipe of tests/training/test_distributed.py with or without
`distribute=True` and write the final weights as JSON.

Usage: KERAS_BACKEND=... python tests/training/distributed_worker.py OUTPUT RESULT.json [1]

`ZOO_TEST_TF_LOGICAL_CPUS=N` splits TensorFlow's CPU into N logical devices before TF
starts (what MirroredStrategy then trains on); for JAX set
`XLA_FLAGS=--xla_force_host_platform_device_count=N` in the environment instead.
Rank r > 0 of a torchrun launch writes RESULT.json.r.
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

from tests.training.test_distributed import tiny_recipe  # noqa: E402
from zoo.training.trainer import train  # noqa: E402


def main(output, result_path, distribute=False):
    result = train(tiny_recipe(), output, verbose=0, distribute=distribute)
    rank = int(os.environ.get("RANK", 0))
    report = {"weights": [np.asarray(w).tolist() for w in result.model.get_weights()],
              "metrics": result.metrics, "history": result.history,
              "is_chief": result.is_chief, "distributed": result.metadata.get("distributed")}
    Path(result_path + (f".{rank}" if rank else "")).write_text(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "1")
