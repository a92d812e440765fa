"""Data parallelism on TensorFlow: `tf.distribute.MirroredStrategy`.

The model is created, compiled (and, on resume, loaded) under `strategy.scope()`; Keras'
TensorFlow trainer then distributes each global batch of `fit` over the replicas
(`strategy.experimental_distribute_dataset`), scales each replica's loss by
1/replicas (`keras.losses.loss.scale_loss_for_distribution`) and sums the gradients
with the strategy's all-reduce.

Several hosts: set `TF_CONFIG` on every worker (the cluster and this worker's task, see
https://www.tensorflow.org/guide/distributed_training); `setup` then uses
`tf.distribute.MultiWorkerMirroredStrategy`. Each worker is fed the whole epoch and
tf.data's auto-sharding gives it its part of every global batch; the chief is task
`worker` 0 (or a task of type `chief`).
"""

import json
import os

import tensorflow as tf

from zoo.backend.distribute import SingleDevice, shard_epoch


class TensorFlowDistributed(SingleDevice):
    enabled = True

    def __init__(self, strategy):
        self.strategy = strategy
        self.replicas = strategy.num_replicas_in_sync
        resolver = getattr(strategy, "cluster_resolver", None)
        task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
        self.processes = 1  # every worker is fed the whole epoch (tf.data shards it)
        self.rank = 0
        if resolver is not None and task:
            kind, index = task.get("type", "worker"), int(task.get("index", 0))
            has_chief = "chief" in json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
            self.rank = 0 if kind == "chief" else index + 1 if has_chief else index

    def describe(self):
        return f"tf.distribute.{type(self.strategy).__name__}, {self.replicas} replica(s)"

    def build_scope(self):
        return self.strategy.scope()

    def feed(self, x, y, batch_size):
        return shard_epoch(x, y, batch_size, self.replicas, 1, 0)


def setup():
    if os.environ.get("TF_CONFIG"):
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    return TensorFlowDistributed(strategy)

