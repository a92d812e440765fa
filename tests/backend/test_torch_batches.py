"""`torch_loop.Batches`, the zoo's torch loop's data: tensors made once, batches as
indices, and on an accelerator the arrays moved there once (the `meta` device stands in
for one here: it has shapes and devices but no data, and needs no GPU)."""

import keras
import numpy as np
import pytest

torch = pytest.importorskip("torch")
if keras.backend.backend() != "torch":
    pytest.skip("the zoo's torch loop runs on torch only", allow_module_level=True)

from zoo.backend import torch_loop  # noqa: E402


def _arrays(n=10):
    return np.arange(n * 3, dtype="float32").reshape(n, 3), np.arange(n, dtype="int64")


def test_on_the_cpu_batches_are_rows_of_the_arrays_in_the_given_order():
    x, y = _arrays()
    data = torch_loop.Batches((x, y), 4)
    assert (data.size, data.count, data.on_device) == (10, 3, False)
    torch.manual_seed(0)
    order = data.shuffled()
    assert sorted(order.tolist()) == list(range(10))
    seen = []
    for index in range(data.count):
        xb, yb = data(index, order)
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])
        seen += yb.tolist()
    assert seen == order.tolist()
    last_x, _ = data(2)
    np.testing.assert_array_equal(last_x.numpy(), x[8:])


def test_the_shuffle_is_the_same_on_every_device():
    x, y = _arrays()
    torch.manual_seed(3)
    on_cpu = torch_loop.Batches((x, y), 4, device="cpu").shuffled()
    torch.manual_seed(3)
    elsewhere = torch_loop.Batches((x, y), 4, device="meta").shuffled()
    assert elsewhere.device.type == "meta" and elsewhere.shape == on_cpu.shape


def test_on_an_accelerator_small_arrays_move_once_and_batches_are_cut_there():
    x, y = _arrays()
    data = torch_loop.Batches((x, y), 4, device="meta")
    assert data.on_device and all(t.device.type == "meta" for t in data.tensors)
    xb, yb = data(1, data.shuffled())
    assert xb.device.type == yb.device.type == "meta"
    assert (tuple(xb.shape), tuple(yb.shape)) == ((4, 3), (4,))
    whole = torch_loop.Batches((x, y), 32, device="meta")(0)
    assert [tuple(t.shape) for t in whole] == [(10, 3), (10,)]


def test_on_an_accelerator_large_arrays_stay_on_the_host_and_move_per_batch(monkeypatch):
    x, y = _arrays()
    monkeypatch.setattr(torch_loop, "WHOLE_ON_DEVICE_BYTES", x.nbytes)  # x + y is more
    data = torch_loop.Batches((x, y), 4, device="meta")
    assert not data.on_device and all(t.device.type == "cpu" for t in data.tensors)
    order = data.shuffled()
    assert order.device.type == "cpu"
    xb, yb = data(0, order)
    assert xb.device.type == yb.device.type == "meta" and tuple(xb.shape) == (4, 3)
