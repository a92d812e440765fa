"""Data parallelism on torch: torch.distributed + DistributedDataParallel.

Keras' torch backend has no DDP integration: `model.fit` runs `TorchTrainer.train_step`,
which calls the model directly. A Keras model on torch *is* a `torch.nn.Module` whose
variables are `torch.nn.Parameter`s (see `keras/src/backend/torch/layer.py`), so
`DistributedDataParallel(model)` wraps it as it is: at construction DDP broadcasts
rank 0's parameters, and during `backward` its reducer all-reduces the gradients
(averaged over the processes, in buckets, overlapped with the backward pass). For the
reducer to run, the forward pass must go through the DDP wrapper; `prepare` therefore
gives the model a train step that is Keras' own `TorchTrainer.train_step` with
`self(x)` replaced by `ddp(x)` (the gradient averaging itself is DDP's, not ours).
The Keras optimizer then applies the averaged gradients identically on every process.

Launch: `torchrun --nproc_per_node=N [--nnodes=M --node_rank=K --rdzv_endpoint=H:P]
-m zoo.cli train RECIPE --distribute`; `init_process_group` reads torchrun's
environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), NCCL on CUDA, gloo on CPU.
"""

import os
import sys
import warnings

import torch
import torch.distributed as torch_dist

from zoo.backend.distribute import SingleDevice, free_ports, shard_epoch


class TorchDistributed(SingleDevice):
    enabled = True

    def __init__(self):
        self.rank = torch_dist.get_rank()
        self.replicas = self.processes = torch_dist.get_world_size()
        self.local_rank = int(os.environ.get("LOCAL_RANK", 0))
        self.device = torch.device("cuda", self.local_rank) if torch.cuda.is_available() \
            else torch.device("cpu")
        self._owns_group = False
        self.ddp = None

    def describe(self):
        return (f"torch DistributedDataParallel, {self.replicas} process(es), "
                f"{torch_dist.get_backend()} on {self.device.type}")

    def prepare(self, model):
        from keras.src import tree
        from keras.src.trainers.data_adapters import data_adapter_utils

        if type(model).train_step is not _keras_train_step():
            raise NotImplementedError(
                f"--distribute on torch supports models trained by Keras' standard train "
                f"step; {type(model).__name__} has its own train_step (e.g. a GAN)."
            )
        ddp = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[self.local_rank] if self.device.type == "cuda" else None)
        self.ddp = ddp

        def train_step(data):
            # keras/src/backend/torch/trainer.py TorchTrainer.train_step, forward via DDP
            x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(data)
            if model._call_has_training_arg:
                y_pred = ddp(x, training=True)
            else:
                y_pred = ddp(x)
            model.zero_grad()
            loss = model._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                       training=True)
            model._loss_tracker.update_state(
                loss, sample_weight=next(i for i in tree.flatten(x) if i is not None).shape[0])
            if model.optimizer is not None:
                loss = model.optimizer.scale_loss(loss)
            if model.trainable_weights:
                loss.backward()  # DDP's reducer averages the gradients across processes
                trainable_weights = model.trainable_weights[:]
                gradients = [v.value.grad for v in trainable_weights]
                with torch.no_grad():
                    model.optimizer.apply(gradients, trainable_weights)
            else:
                warnings.warn("The model does not have any trainable weights.")
            return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

        # an instance attribute, not a submodule: Keras' trainer calls self.train_step
        object.__setattr__(model, "train_step", train_step)
        model.make_train_function(force=True)
        return model

    def feed(self, x, y, batch_size):
        return shard_epoch(x, y, batch_size, self.replicas, self.processes, self.rank)

    def reduce_history(self, history):
        keys = sorted(history)
        if not keys:
            return history
        values = torch.tensor([history[k] for k in keys], dtype=torch.float64,
                              device=self.device if torch_dist.get_backend() == "nccl"
                              else "cpu")
        torch_dist.all_reduce(values)
        values = (values / self.processes).cpu().numpy()
        return {k: [float(v) for v in row] for k, row in zip(keys, values)}

    def barrier(self):
        if self.device.type == "cuda":
            torch_dist.barrier(device_ids=[self.local_rank])
        else:
            torch_dist.barrier()

    def close(self):
        if self._owns_group and torch_dist.is_initialized():
            self.barrier()
            torch_dist.destroy_process_group()


def _keras_train_step():
    from keras.src.backend.torch.trainer import TorchTrainer

    return TorchTrainer.train_step


def setup():
    """Join (or create) the process group: torchrun's environment, or a group of one."""
    owns = False
    if not torch_dist.is_initialized():
        if "WORLD_SIZE" not in os.environ:  # not under torchrun: a group of one process
            os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0",
                              MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_ports()[0]))
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        torch_dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        owns = True
    dist = TorchDistributed()
    dist._owns_group = owns
    return dist


def relaunch_command(argv):
    """`torchrun --standalone --nproc_per_node=<GPUs> -m zoo.cli argv...` when several
    GPUs are visible and this process was not started by torchrun; else None."""
    if "WORLD_SIZE" in os.environ or torch.cuda.device_count() < 2:
        return None
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={torch.cuda.device_count()}", "-m", "zoo.cli", *argv]
