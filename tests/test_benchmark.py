"""scripts/benchmark.py: every zoo model and its hand-written torch twin stay comparable.

The twins are written by hand; these tests fail when a zoo architecture or a twin
changes so that they no longer have the same trainable parameters, and when the
benchmark's core (build, warm up, measure, tabulate) stops running. Tiny sizes, the
current backend in-process: seconds.
"""

import importlib
import importlib.util
import math
import sys

import numpy as np
import pytest

import zoo
from tests.helpers import REPO_ROOT

torch = pytest.importorskip("torch")


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("zoo_benchmark",
                                                  REPO_ROOT / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


benchmark = _load_benchmark()
# its modules, importable once it is loaded (it puts scripts/ on the path)
report = importlib.import_module("benchmark_report")
bench_cases = importlib.import_module("benchmark_cases")
TINY = benchmark.cases("tiny")
# Architectures the benchmark deliberately leaves out (same networks as dcgan).
NOT_BENCHMARKED = {"conditional_gan"}


def test_every_architecture_is_benchmarked():
    covered = {case.family for case in TINY.values()}
    assert set(zoo.list_models()) - NOT_BENCHMARKED == covered


def test_default_and_tiny_cases_match():
    default = benchmark.cases()
    assert default.keys() == TINY.keys()
    for name, case in default.items():
        assert case.family == TINY[name].family
        assert case.config.keys() == TINY[name].config.keys()


@pytest.mark.parametrize("name", sorted(TINY))
def test_twin_has_the_zoo_models_trainable_parameters(name):
    case = TINY[name]
    model = benchmark.build_zoo(case)
    twin = benchmark.build_twin(case)
    assert benchmark.zoo_trainable_params(model) == twin.trainable_params > 0
    # Layer by layer, as multisets of weight shapes (torch's (out, in) is Keras' (in, out)
    # transposed; the LSTM's frozen second bias is not trainable).
    zoo_sizes = sorted(math.prod(v.shape) for v in model.trainable_variables)
    twin_sizes = sorted(p.numel() for p in twin.net.parameters() if p.requires_grad)
    assert zoo_sizes == twin_sizes


def _copy_cell(cell, lstm):
    """A Keras LSTM cell's weights into a one-layer torch.nn.LSTM (Keras' kernels
    transposed; its bias as b_ih, b_hh left at zero as the twin freezes it)."""
    import keras

    value = lambda v: torch.as_tensor(keras.ops.convert_to_numpy(v))  # noqa: E731
    assert lstm.hidden_size == cell.units
    lstm.weight_ih_l0.copy_(value(cell.kernel).T)
    lstm.weight_hh_l0.copy_(value(cell.recurrent_kernel).T)
    lstm.bias_ih_l0.copy_(value(cell.bias))


@pytest.mark.parametrize("name", ["lstm_tokens_pre", "lstm_tokens_post",
                                  "lstm_tokens_bidirectional"])
def test_token_twin_computes_the_masked_lstm(name):
    """The twin's shifts and gathers give what Keras' masked (bidirectional, stacked)
    LSTM gives, for the padding the case uses (same weights copied in)."""
    import keras

    case = TINY[name]
    model = benchmark.build_zoo(case)
    twin = benchmark.build_twin(case)
    value = lambda v: torch.as_tensor(keras.ops.convert_to_numpy(v))  # noqa: E731
    head = model.get_layer("head")
    with torch.no_grad():
        twin.net.embedding.weight.copy_(value(model.get_layer("embedding").embeddings))
        for i, directions in enumerate(twin.net.lstms):
            if case.config.get("bidirectional"):
                wrapper = model.get_layer(f"bidirectional_{i}")
                cells = [wrapper.forward_layer.cell, wrapper.backward_layer.cell]
            else:
                cells = [model.get_layer(f"lstm_{i}").cell]
            assert len(cells) == len(directions)
            for cell, lstm in zip(cells, directions):
                _copy_cell(cell, lstm)
        twin.net.head.weight.copy_(value(head.kernel).T)
        twin.net.head.bias.copy_(value(head.bias))
    x = benchmark.inference_inputs(case, 16)
    zoo_out = keras.ops.convert_to_numpy(model(x, training=False))
    twin_out = twin.infer(twin.prepare_inputs(x))
    np.testing.assert_allclose(zoo_out, twin_out, rtol=1e-4, atol=1e-5)


def test_keras_call_variant_runs_bidirectional_through_its_own_call():
    """The A/B row of the Bidirectional lowering: the same model and outputs, its
    `Bidirectional` layers and their `Embedding` run as Keras layers in the graph."""
    import keras

    if keras.backend.backend() != "torch":
        pytest.skip("the zoo's graph is torch's")
    from zoo.backend import torch_lowering
    from zoo.backend.torch_graph import TorchGraph

    lowered = benchmark.build_zoo(TINY["lstm_tokens_bidirectional"])
    own = benchmark.build_zoo(TINY["lstm_tokens_bidirectional_keras_call"])
    runs = {step.layer.name: step.run for step in TorchGraph.of(own).steps}
    assert runs["bidirectional_0"] == own.get_layer("bidirectional_0").call
    assert runs["bidirectional_1"] == own.get_layer("bidirectional_1").call
    assert runs["embedding"] is not torch_lowering.token_ids
    assert {step.layer.name: step.run for step in TorchGraph.of(lowered).steps}[
        "bidirectional_0"].__name__ == "bidirectional"
    x = benchmark.inference_inputs(TINY["lstm_tokens_bidirectional"], 8)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(own(x, training=False)),
                               keras.ops.convert_to_numpy(lowered(x, training=False)),
                               atol=1e-6)


def test_core_measures_one_tiny_config():
    """Plan, build, warm up and measure mlp_classifier on the current backend and the
    twin in this process, then tabulate it as the report does."""
    import keras

    backend = keras.backend.backend()
    plan = benchmark.plan_items(["mlp_classifier"], [backend], scale="tiny", sections=False)
    benches = {worker: benchmark.Bench(worker, "tiny", target_s=0.001, max_calls=2)
               for worker in (benchmark.TWIN, backend)}
    times = {}
    for item in plan:
        benches[item["worker"]].prepare(item)
        times[item["id"]] = [benches[item["worker"]].measure(item)]
    assert all(t[0] > 0 for t in times.values())
    result = dict(plan=plan, times=times, scale="tiny")
    train_rows, infer_rows = report.tables(result)
    assert [r["backend"] for r in train_rows] == [backend]
    assert {r["batch"] for r in infer_rows} == set(bench_cases.INFER_BATCHES)
    assert all(r["ratio"] > 0 and r["twin"] > 0 for r in train_rows)
    assert "mlp_classifier" in report.train_table(train_rows)


def test_goal_rows_are_measured_in_a_phase_before_the_ab_rows_and_sections():
    names = ["mlp_classifier", "mlp_classifier_keras_loop", "convnet", "lstm_floats"]
    plan = benchmark.plan_items(names, ["torch", "jax"], scale="tiny")
    phases = [item["phase"] for item in plan]
    assert phases == sorted(phases) and set(phases) == {0, 1}
    for item in plan:
        ab = (TINY.get(item["case"]) is None or TINY[item["case"]].is_variant
              or item["what"] in ("kernel", "train_on_batch", "train_step", "train_storage")
              or item["threads"] is not None)
        assert item["phase"] == int(ab), item
    assert {i["case"] for i in plan if i["phase"] == 0} == {"mlp_classifier", "convnet",
                                                             "lstm_floats"}
    one = benchmark.plan_items(names, ["torch", "jax"], scale="tiny", phased=False)
    assert {item["phase"] for item in one} == {0}
    assert sorted(i["id"] for i in one) == sorted(i["id"] for i in plan)


def test_storage_section_trains_two_models_whose_lstm_kernels_differ_only_in_layout():
    import keras

    if keras.backend.backend() != "torch":
        pytest.skip("the kernels' storage is torch's")
    bench = benchmark.Bench("torch", "tiny")
    case = TINY["lstm_floats"]
    for storage in bench_cases.STORAGES:
        bench._storage_fn(case, storage)()  # one epoch through the zoo's loop
    column, row = (bench.models[f"lstm_floats:{s}"] for s in bench_cases.STORAGES)
    assert column.fit_path == row.fit_path == "zoo torch loop"
    for model, transposed in ((column, True), (row, False)):
        kernel = model.get_layer("lstm_0").cell.kernel
        assert kernel.value.T.is_contiguous() is transposed
        assert kernel.value.is_contiguous() is not transposed


def test_keras_loop_variants_mirror_their_case():
    """Each Keras-loop case is its base case (sizes, data, inference batches) on torch
    through Keras' own fit/predict/__call__, counted as an A/B variant."""
    for name in bench_cases.KERAS_LOOP_BASES:
        base, variant = TINY[name], TINY[bench_cases.keras_loop_name(name)]
        assert variant.keras_loop and variant.is_variant and not base.is_variant
        assert variant.backends == ("torch",)
        for attribute in ("family", "config", "data", "batch", "steps", "infer_batches"):
            assert getattr(variant, attribute) == getattr(base, attribute), attribute


@pytest.mark.parametrize("name", bench_cases.KERAS_LOOP_BASES)
def test_keras_loop_case_trains_through_keras(name):
    """The Keras-loop case's fit and predict run Keras' code, the base case's the zoo's
    torch loop."""
    import keras

    if keras.backend.backend() != "torch":
        pytest.skip("the zoo's torch loop (native_torch_loop) exists on torch only")
    for case, path in ((TINY[name], "zoo torch loop"),
                       (TINY[bench_cases.keras_loop_name(name)], "keras")):
        model = benchmark.build_zoo(case)
        x, y = benchmark.make_data(case, case.samples)
        model.fit(x, y, batch_size=case.batch, epochs=1, verbose=0)
        model.predict(benchmark.inference_inputs(case, 1), batch_size=1, verbose=0)
        assert model.fit_path.startswith(path), (case.name, model.fit_path)
        assert model.predict_path.startswith(path), (case.name, model.predict_path)


def test_split_gpu_section_finds_the_section_at_a_line_start():
    page = "# Performance\n\ntext about ## GPU inline\n\n## GPU\n\nMeasured on X.\n"
    before, gpu = report.split_gpu_section(page)
    assert before == "# Performance\n\ntext about ## GPU inline\n\n"
    assert gpu == "## GPU\n\nMeasured on X.\n"
    assert report.split_gpu_section("# Performance\n") == ("# Performance\n", None)


def test_a_gpu_run_replaces_only_the_pages_gpu_section_and_a_cpu_run_keeps_it(tmp_path):
    """Two worker processes (the twin and this backend) measure one tiny case; written as
    a GPU run, the CPU page stays as it was; written again as a CPU run, the recorded
    GPU section stays. (No GPU is needed: the result is labelled as a GPU run.)"""
    import keras

    result = benchmark.run(["mlp_classifier"], [keras.backend.backend()], rounds=1,
                           threads=1, scale="tiny", sections=False, log=lambda *a: None)
    result.update(date="2026-01-01", code=None)
    assert result["device"] == "cpu" and set(result["devices"].values()) == {"cpu"}
    page = tmp_path / "performance.md"
    page.write_text("# Performance\n\nan older page\n\n## GPU\n\nNo GPU machine was lent.\n")
    report.write_doc(page, result, "python scripts/benchmark.py --device cpu")
    cpu_page = page.read_text()  # a GPU section that records no GPU run is not kept
    assert cpu_page.endswith(report.NO_GPU_SECTION.rstrip() + "\n")
    assert "## Training" in cpu_page and "mlp_classifier" in cpu_page

    as_gpu = dict(result, device="gpu",
                  devices={name: "cuda: Example GPU" for name in result["devices"]})
    report.write_doc(page, as_gpu, "python scripts/benchmark.py --device gpu")
    before, gpu = report.split_gpu_section(page.read_text())
    assert before == report.split_gpu_section(cpu_page)[0]
    assert gpu.startswith("## GPU\n\nMeasured on cuda: Example GPU.")
    assert "--device gpu" in gpu and "### Training" in gpu and "mlp_classifier" in gpu
    assert "### Inference, batch 256" in gpu

    report.write_doc(page, result, "python scripts/benchmark.py --device cpu")
    assert report.split_gpu_section(page.read_text())[1] == gpu
    assert not list(tmp_path.glob(".*.tmp"))


def test_each_phase_is_built_and_warmed_up_when_it_starts():
    """The A/B rows' processes build and warm them up only after the goal rows' rounds
    (worker processes, tiny sizes): every item is measured, with its repetitions."""
    import keras

    if keras.backend.backend() != "torch":
        pytest.skip("the A/B rows are torch's")
    lines = []
    result = benchmark.run(["mlp_classifier", "mlp_classifier_keras_loop"], ["torch"],
                           rounds=1, threads=1, scale="tiny", sections=False,
                           log=lines.append)
    phases = {item["id"]: item["phase"] for item in result["plan"]}
    assert set(phases.values()) == {0, 1}
    labels = [line.strip().split(" (")[0] for line in lines]
    assert labels[-3:] == ["goal rows: round 1/1", "A/B rows and sections: ready",
                           "A/B rows and sections: round 1/1"]
    for worker, calls in result["calls"].items():
        ids = {i["id"] for i in result["plan"] if i["worker"] == worker}
        assert set(calls) == ids == set(result["warmup"][worker])
    assert all(len(t) == 1 and t[0] > 0 for t in result["times"].values())
    # every worker ran with malloc's thresholds fixed (`--malloc fixed`)
    assert all(env == benchmark.FIXED_MALLOC for env in result["malloc"].values())


def test_fixed_malloc_is_what_the_zoos_allocator_sets():
    from zoo.training import allocator

    assert benchmark.FIXED_MALLOC == {
        "MALLOC_MMAP_THRESHOLD_": str(allocator.DEFAULT_THRESHOLD),
        "MALLOC_TRIM_THRESHOLD_": str(allocator.DEFAULT_THRESHOLD)}


def test_malloc_default_leaves_glibcs_thresholds(monkeypatch):
    for key in benchmark.FIXED_MALLOC:
        monkeypatch.delenv(key, raising=False)
    import keras

    result = benchmark.run(["mlp_regressor"], [keras.backend.backend()], rounds=1,
                           threads=1, scale="tiny", sections=False, log=lambda *a: None,
                           malloc="default")
    assert all(set(env.values()) == {None} for env in result["malloc"].values())
    with pytest.raises(ValueError, match="'fixed' or 'default'"):
        benchmark.run(["mlp_regressor"], ["torch"], 1, 1, scale="tiny", malloc="jemalloc")


def test_device_gpu_without_a_gpu_is_a_usage_error(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SystemExit) as stop:
        benchmark.main(["--device", "gpu", "--no-doc"])
    assert stop.value.code == 2
    assert "torch sees no CUDA GPU" in capsys.readouterr().err


def test_the_twin_runs_where_it_is_asked_to():
    twin = benchmark.build_twin(TINY["lstm_floats"], device="cpu")
    assert twin.device.type == "cpu" and twin.x.device.type == "cpu"
    assert all(p.device.type == "cpu" for p in twin.net.parameters())
    loss, metric = twin.train_epoch()
    assert np.isfinite(loss) and 0 <= metric <= 1
    out = twin.infer(twin.prepare_inputs(benchmark.inference_inputs(TINY["lstm_floats"], 3)))
    assert isinstance(out, np.ndarray) and out.shape[0] == 3
