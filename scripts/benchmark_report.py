"""The report of scripts/benchmark.py: the tables printed after a run and
docs/performance.md, written from a run's result (its JSON re-renders the page)."""

from __future__ import annotations

import os
from pathlib import Path


from benchmark_cases import (
    GOALS, INFER_BATCHES, KERAS_LOOP_BASES, LSTM_KERNEL_VARIANTS, STORAGE_NOTICEABLE, STORAGES,
    THREADS_STEPS, TWIN, cases, item_id, keras_loop_name, lstm_kernel_sizes, medians, paired)


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------
def machine():
    model, cores = "unknown", os.cpu_count()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return model, cores


def _fmt_rate(v):
    return "-" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")


def _fmt_ms(v):
    return "-" if v is None else (f"{v * 1e3:.2f}" if v < 0.01 else f"{v * 1e3:.1f}")


def _fmt_ratio(v, goal=None):
    if v is None:
        return "-"
    return f"{v:.2f}x" + (" **below goal**" if goal is not None and v < goal else "")


def tables(result):
    """Rows of the training and inference tables: medians of the times, and ratios to the
    twin paired within each round (None: not measured)."""
    med = medians(result)
    all_cases = cases(result["scale"])
    train_rows, infer_rows = [], []
    for item in result["plan"]:
        if item["what"] != "train" or item["worker"] == TWIN or item["threads"] is not None:
            continue
        case_name, backend = item["case"], item["worker"]
        case = all_cases[case_name]
        twin_id, zoo_id = item_id(TWIN, case_name, "train"), item["id"]
        zoo_n, twin_n = case.samples_on(backend), case.samples_on(TWIN)
        per_round = [zoo_n / twin_n * t / z for t, z in zip(result["times"][twin_id],
                                                            result["times"][zoo_id])]
        train_rows.append(dict(case=case_name, label=case.label, backend=backend,
                               variant=case.is_variant,
                               batch=case.batch, zoo=zoo_n / med[zoo_id],
                               twin=twin_n / med[twin_id],
                               ratio=zoo_n / twin_n * paired(result, twin_id, zoo_id),
                               spread=(min(per_round), max(per_round))))
        for batch in case.infer_batches:
            twin_id = item_id(TWIN, case_name, "infer", batch)
            row = dict(case=case_name, label=case.label, backend=backend, batch=batch,
                       twin=med.get(twin_id))
            for what in ("predict", "call", "call_nograd"):
                zoo_id = item_id(backend, case_name, what, batch)
                row[what] = med.get(zoo_id)
                row[f"{what}_ratio"] = paired(result, twin_id, zoo_id)
            infer_rows.append(row)
    return train_rows, infer_rows


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def train_table(rows):
    return _md_table(
        ["family", "backend", "batch", "zoo samples/s", "twin samples/s", "zoo / twin",
         "lowest - highest round"],
        [[r["label"], r["backend"], r["batch"], _fmt_rate(r["zoo"]), _fmt_rate(r["twin"]),
          _fmt_ratio(r["ratio"], GOALS["train"] if r["backend"] == "torch" else None),
          f"{r['spread'][0]:.2f} - {r['spread'][1]:.2f}"]
         for r in rows])


def infer_table(rows, batch):
    def ratio(r, key, goal=True):
        return _fmt_ratio(r[key], GOALS[batch] if goal and r["backend"] == "torch" else None)

    return _md_table(
        ["family", "backend", "twin ms", "zoo predict ms", "zoo call ms",
         "zoo call in no_grad ms", "predict: twin / zoo", "call: twin / zoo",
         "call in no_grad: twin / zoo"],
        [[r["label"], r["backend"], _fmt_ms(r["twin"]), _fmt_ms(r["predict"]),
          _fmt_ms(r["call"]), _fmt_ms(r["call_nograd"]), ratio(r, "predict_ratio"),
          ratio(r, "call_ratio", goal=False), ratio(r, "call_nograd_ratio")]
         for r in rows if r["batch"] == batch])


def section_numbers(result):
    """The measurements of the "what the zoo does for speed" and causes sections."""
    med = medians(result)
    all_cases = cases(result["scale"])
    out = {}

    def mid(*args, **kwargs):
        return item_id(*args, **kwargs)

    kernel_ids = {v: mid(w, "lstm_kernel", v) for v, (w, _) in LSTM_KERNEL_VARIANTS.items()}
    if all(i in med for i in kernel_ids.values()):
        out["kernel"] = {v: med[i] for v, i in kernel_ids.items()}
        out["kernel_vs"] = {  # speed relative to a torch.nn.LSTM reference, paired
            v: {ref: paired(result, kernel_ids[ref], i)
                for ref in ("twin_nomask", "twin_packed", "twin_gather", "twin_gather_pre")}
            for v, i in kernel_ids.items()}
        out["kernel_gain"] = {
            mask: paired(result, kernel_ids[f"keras_{mask}"], kernel_ids[f"fused_{mask}"])
            for mask in ("nomask", "post", "pre")}
        out["embed_gain"] = {  # the Embedding inside the FusedLSTM's step, paired
            mask: paired(result, kernel_ids[f"fused_{mask}"], kernel_ids[f"graph_{mask}"])
            for mask in ("post", "pre")}
        out["storage_gain"] = paired(result, kernel_ids["fused_rowmajor_nomask"],
                                     kernel_ids["fused_nomask"])  # column-major's speed
    column, row = (mid("torch", "lstm_floats", storage) for storage in STORAGES)
    if column in med and row in med:  # training, column-major's speed over row-major's
        out["storage_train_gain"] = paired(result, row, column)
    one, two = (mid("torch", "convnet", "train", threads=t) for t in (1, 2))
    if one in med and two in med:
        n = all_cases["convnet"].batch * min(THREADS_STEPS, all_cases["convnet"].steps)
        out["threads"] = {}
        for who, worker in (("zoo", "torch"), ("twin", TWIN)):
            one, two = (mid(worker, "convnet", "train", threads=t) for t in (1, 2))
            out["threads"][who] = (n / med[one], n / med[two], paired(result, two, one))
    keras_mlp = keras_loop_name("mlp_classifier")
    for key, before, after in (("layout", "convnet_cl", "convnet_cf"),
                               ("convnet_layers", "convnet_keras", "convnet"),
                               ("dcgan_layers", "dcgan_keras", "dcgan"),
                               ("bidirectional", "lstm_tokens_bidirectional_keras_call",
                                "lstm_tokens_bidirectional"),
                               ("jit", keras_mlp, "mlp_classifier_jit")):
        rows = _ab_rows(result, med, all_cases, before, after)
        if rows:
            out[key] = rows
    # the zoo's torch loop (after) against Keras' fit/predict/__call__ (before)
    for name in KERAS_LOOP_BASES:
        rows = _ab_rows(result, med, all_cases, keras_loop_name(name), name)
        if rows:
            out.setdefault("loop", {})[name] = rows
    jit, eager = mid("torch", "mlp_classifier_jit", "train"), mid("torch", keras_mlp, "train")
    warmup = result.get("warmup", {}).get("torch", {})
    if jit in warmup and eager in warmup:
        out["jit_warmup"] = (warmup[eager], warmup[jit])
    zoo_fit = mid("torch", "mlp_classifier", "train")
    if jit in med and zoo_fit in med:
        out["jit_vs_zoo"] = paired(result, jit, zoo_fit)  # gain of the zoo's loop
    # ms per training step of mlp_classifier: the zoo's fit, Keras' per-step paths, Keras'
    # fit (where its Keras-loop case ran) and the twin
    step_ids = {"fit": zoo_fit, "keras_fit": eager,
                "train_on_batch": mid("torch", "mlp_classifier", "train_on_batch"),
                "train_step": mid("torch", "mlp_classifier", "train_step"),
                "twin": mid(TWIN, "mlp_classifier", "train")}
    if eager not in med:
        del step_ids["keras_fit"]
    if all(i in med for i in step_ids.values()):
        steps = all_cases["mlp_classifier"].steps
        out["steps_batch"] = all_cases["mlp_classifier"].batch
        out["steps"] = {k: med[i] / steps for k, i in step_ids.items()}
        out["steps_vs_twin"] = {k: paired(result, i, step_ids["twin"])
                                for k, i in step_ids.items()}
    return out


def _ab_rows(result, med, all_cases, before, after):
    """(what, value before, value after, gain paired per round) on torch for two cases
    measured side by side: training samples/s, then the inference times both measured.
    None unless both cases' training was measured."""
    a, b = item_id("torch", before, "train"), item_id("torch", after, "train")
    if a not in med or b not in med:
        return None
    rows = [("training samples/s", all_cases[before].samples / med[a],
             all_cases[after].samples / med[b], paired(result, a, b))]
    for batch in INFER_BATCHES:
        for what in ("call", "predict"):
            a, b = (item_id("torch", c, what, batch) for c in (before, after))
            if a in med and b in med:
                rows.append((f"{what} batch {batch}, ms", med[a], med[b], paired(result, a, b)))
    return rows


def _ab_table(rows, before, after):
    return _md_table(["", before, after, f"gain of {after}"],
                     [[label, _fmt_rate(a) if "samples" in label else _fmt_ms(a),
                       _fmt_rate(b) if "samples" in label else _fmt_ms(b), _fmt_ratio(g)]
                      for label, a, b, g in rows])


def print_tables(result, log=print):
    train_rows, infer_rows = tables(result)
    log("\nTraining (samples/s, medians; zoo/twin >= 0.9 is the goal on torch)\n")
    log(train_table(train_rows))
    for batch in INFER_BATCHES:
        log(f"\nInference at batch {batch} (ms per call; twin/zoo >= {GOALS[batch]} is the "
            "goal on torch)\n")
        log(infer_table(infer_rows, batch))
    numbers = section_numbers(result)
    if "kernel" in numbers:
        log("\nLSTM forward+backward (ms):")
        for variant, seconds in numbers["kernel"].items():
            log(f"  {LSTM_KERNEL_VARIANTS[variant][1]:55s} {seconds * 1e3:8.1f}")
    if "threads" in numbers:
        t = numbers["threads"]
        log(f"\nconvnet training samples/s, torch threads 1 vs 2: zoo {t['zoo'][0]:.0f} vs "
            f"{t['zoo'][1]:.0f}; twin {t['twin'][0]:.0f} vs {t['twin'][1]:.0f}")
    if "steps" in numbers:
        log("\nmlp_classifier ms per training step on torch (fit: the zoo's loop; "
            "train_on_batch, train_step, keras_fit: Keras'): " + ", ".join(
                f"{k} {v * 1e3:.2f}" for k, v in numbers["steps"].items()))
    for name, rows in numbers.get("loop", {}).items():
        log(f"\n{name}, Keras' fit/predict -> the zoo's torch loop: " + "; ".join(
            f"{label} {_fmt_ratio(gain)}" for label, _, _, gain in rows))


def _run_details(result, command, machine_text):
    """The run's command, code, date, machine and versions, as list items."""
    versions = {}
    for per_worker in result["versions"].values():
        versions.update(per_worker)
    lines = [f"- Command: `{command}`"]
    if result.get("code"):
        lines.append(f"- Code: {result['code']}")
    lines += [f"- Date: {result['date']}; {result['rounds']} rounds; build and warm-up "
              f"{result['setup_s']:.0f} s, whole run {result['wall_s']:.0f} s",
              f"- Machine: {machine_text}",
              "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())]
    malloc = {tuple(sorted((k, v) for k, v in env.items() if v))
              for env in result.get("malloc", {}).values()}
    if malloc:
        settings = "; ".join(", ".join(f"{k}={v}" for k, v in env) or "glibc's defaults"
                             for env in sorted(malloc))
        lines.append(f"- Allocator (`--malloc`), in every process: {settings}")
    return lines


def render_doc(result, command, gpu_section=None):
    """The page for a CPU run; `gpu_section` (the "## GPU" section of an earlier GPU run,
    see `write_doc`) ends it, or a note that no GPU run is recorded."""
    train_rows, infer_rows = tables(result)
    numbers = section_numbers(result)
    numbers["train_rows"], numbers["infer_rows"] = train_rows, infer_rows
    cpu, cores = machine()
    all_cases = cases(result["scale"])
    lines = []
    add = lines.append
    add("# Performance\n")
    add("Generated by `scripts/benchmark.py`: every number on this page comes from the one "
        "run whose command is given below; rerun it to regenerate the page.\n")
    add("## The run\n")
    lines += _run_details(result, command,
                          f"{cpu}, {cores} cores, CPU only, shared with other processes "
                          "while it ran: absolute numbers drift, read the ratios (measured "
                          "side by side)")
    add("- Threads (`--threads`): " + "; ".join(
        f"{name}: " + ", ".join(f"{k}={v}" for k, v in report.items())
        for name, report in result["threads"].items()))
    add("")
    add("## Method\n")
    add("- **zoo**: the zoo model, `adapt()`-ed and `compile()`-d with its defaults (Adam, "
        "learning rate 1e-3; the DCGAN: Adam 2e-4, beta_1 0.5, per network), trained by "
        "`model.fit(x, y, batch_size=..., epochs=1, verbose=0)` on numpy arrays; one "
        "measurement is one `fit()` call (one epoch, its set-up included). On torch "
        "`fit`, `predict` and the direct call run the zoo's torch loop (eager; see \"The "
        "zoo's torch loop\" below), except in the rows marked \"Keras' fit/predict\", "
        "built with `native_torch_loop = False`, which run Keras' own (the DCGAN trains "
        "with its own GAN step through Keras' `fit`; its `predict` and call run the "
        "zoo's path). Keras' defaults elsewhere: eager on torch, `tf.function` "
        "without XLA on TensorFlow (Keras' choice on a CPU-only machine), `jax.jit` on "
        "JAX.")
    add("- **twin**: plain `torch.nn` modules with the same layers and the same number of "
        "trainable parameters (asserted; torch's LSTM has a second bias vector, which the "
        "twin freezes at zero; its LSTMs start from Keras' LSTM initialization, "
        "`keras_lstm_init`: with torch's default the token twin's gradient through 200 "
        "steps decays into float32's subnormal range, which made it 5x slower on an Intel "
        "CPU), a manual loop over shuffled batches with `torch.optim.Adam` "
        "(same learning rate and epsilon), tracking the loss and the zoo model's default "
        "metric. Images NCHW (torch's layout); losses from logits (`cross_entropy`, "
        "`binary_cross_entropy_with_logits`); token sequences run padded through "
        "`nn.LSTM`, each sequence's output taken at its last token (pre-padded rows first "
        "shifted to the front): what Keras computes with `mask_zero=True`; bidirectional, a "
        "second `nn.LSTM` per layer reads each sequence reversed within its length "
        "(unmasked float sequences: `nn.LSTM(bidirectional=True)`).")
    add("- Same synthetic data (seed 0) and batch size for both. Inference: "
        "`model.predict(x, batch_size=len(x), verbose=0)` (the user path), the direct call "
        "`model(x, training=False)`, and on torch the direct call inside `torch.no_grad()`, "
        "outputs converted to numpy; the twin in eval mode under `torch.no_grad()`, also "
        "converted to numpy.")
    if result.get("phased", False):
        alternation = (
            "in two phases one after the other: first the goal rows (the zoo's default "
            "configurations, each beside its twin), then the A/B rows and the sections below. "
            "Each phase's configurations are built and warmed up in every process when the "
            "phase starts (excluded from the times), then measured in rounds: every round of a "
            "phase measures each of its "
            "configurations once, zoo next to twin, in a fixed order, reversed in every "
            "second round: in a process the first measurement after other work runs "
            "colder, and so each configuration follows each of its neighbours. Between two "
            "measurements of a goal row, and before the first, every process thus has run "
            "only goal items, and the twin's process the same networks as the backends' "
            "(measured in one phase, `--one-phase`, or with every phase warmed up first, Keras' "
            "Python-loop LSTM of the kernel section, which only the torch process runs, slowed "
            "the torch process' later epochs of the float-sequence LSTM and not the twin's).")
    else:
        alternation = ("All processes build and warm up first (excluded), then measurements "
                       "alternate: every round measures every configuration once, in a fixed "
                       "order, zoo next to twin.")
    add("- Each backend and the twin run in their own process. "
        f"{alternation} Times and rates are medians over the rounds; a "
        "ratio is the median over rounds of the ratio of the two measurements of the same "
        "round (so it can differ a little from the ratio of the medians).")
    if any(any(env.values()) for env in result.get("malloc", {}).values()):
        add("- Allocator: glibc malloc's mmap and trim thresholds fixed in every process "
            "(`--malloc fixed`, the default; `--malloc default` keeps glibc's). With glibc's "
            "dynamic thresholds, whether a step's large temporaries (the token classifiers' "
            "5 MB embedding gradient, the LSTMs' outputs) are fresh pages, faulted in and "
            "zeroed, depends on what the process allocated and freed before: in the run of "
            "commit 8179ade (this page's command, glibc's defaults) the twin's epoch of the "
            "pre-padded token classifier took 175 ms in the goal phase and 238 ms for the "
            "same network, data and code in the A/B phase, the zoo's 207 ms, and the token "
            "rows read 0.84x and 0.82x (zoo 1,239 samples/s, twin 1,466). Fixed, every "
            "process reuses its heap, and both sides compute as a process in its steady "
            "state does" + _allocator_rates(numbers) + ". `zoo train` fixes the same "
            "thresholds for its own process (`zoo.training.allocator`).")
    add("- Ratios are speeds relative to the twin (training: zoo samples/s / twin samples/s; "
        "inference: twin time / zoo time): above 1, the zoo is faster.")
    add("")
    add("Sizes, as in the recipes and the keras-io examples:\n")
    size_rows = []
    for name, case in all_cases.items():
        if name not in result["params"]:
            continue
        counts = set(result["params"][name].values())
        data = ", ".join(f"{k}={v}" for k, v in case.data.items())
        config = ", ".join(f"{k}={v}" for k, v in case.config.items())
        steps = ", ".join([str(case.steps)] + [f"{b}: {n}" for b, n in case.steps_on.items()])
        size_rows.append([case.label, f"`{config}`" + (f" ({data})" if data else ""),
                          case.batch, steps, f"{counts.pop():,}",
                          result.get("layers", {}).get(name, "-")])
    add(_md_table(["family", "zoo config", "batch", "steps per measurement",
                   "trainable params (zoo = twin)", "Keras layers (torch)"], size_rows))
    add("\nToken ids: random, lengths from a tenth of the window to the window (about half "
        "fill it), padded with 0 in front (`pre`: what `keras.utils.pad_sequences` and "
        "`zoo.data`'s IMDB loader produce, as in the keras-io example) or at the end "
        "(`post`).\n")
    add("## Training\n")
    add(train_table(train_rows))
    add("")
    for batch in INFER_BATCHES:
        add(f"## Inference, batch {batch}\n")
        add(infer_table(infer_rows, batch))
        add("")
    add(_speed_section(numbers, result))
    add(_shortfall_section(train_rows, infer_rows, numbers,
                           result.get("layouts", {}).get("torch", {})))
    add((gpu_section or NO_GPU_SECTION).rstrip() + "\n")
    return "\n".join(lines)


GPU_HEADING = "## GPU"
GPU_MEASURED = f"{GPU_HEADING}\n\nMeasured on"  # how a GPU run's section starts
NO_GPU_SECTION = (
    f"{GPU_HEADING}\n\nNo GPU run of this script is recorded: this page has no GPU numbers. "
    "On a machine with a CUDA GPU, `python scripts/benchmark.py --device gpu` (the "
    "default `--device auto` picks the GPU there) measures the same cases there and "
    "writes its tables into this section, leaving the CPU sections above as they are.\n")


def split_gpu_section(text):
    """(the page before its "## GPU" section, that section or None)."""
    marker = f"\n{GPU_HEADING}\n"
    at = text.find(marker)
    if at < 0:
        return text, None
    return text[:at + 1], text[at + 1:]


def render_gpu_section(result, command):
    """The "## GPU" section for a run with `--device gpu`: its own run details, the
    training and inference tables and the goal table (the method is the CPU run's)."""
    train_rows, infer_rows = tables(result)
    gpus = sorted({d for d in result["devices"].values() if d != "cpu"})
    lines = [f"{GPU_MEASURED} {', '.join(gpus)}.\n"]
    add = lines.append
    cpu, cores = machine()
    where = "; ".join(f"{name}: {on}" for name, on in result["devices"].items())
    lines += _run_details(result, command, f"{cpu}, {cores} cores; each process on: {where}")
    add("- Method: as in \"Method\" above, on the GPU: the twin's modules and its "
        "training data on the GPU (the data moved there once, as the zoo's torch loop "
        "holds arrays that fit `zoo.backend.torch_loop.WHOLE_ON_DEVICE_BYTES`), "
        "inference inputs copied from host memory in every timed call and outputs read "
        "back to numpy, for the twin as for the zoo; every measurement ends with "
        "`torch.cuda.synchronize()`. Only the zoo's default configurations unless "
        "`--cases` names others; the CPU-only sections (threads, LSTM kernels, per-step "
        "paths) are not run.")
    add("")
    add("### Training\n")
    add(train_table(train_rows))
    for batch in INFER_BATCHES:
        add(f"\n### Inference, batch {batch}\n")
        add(infer_table(infer_rows, batch))
    table, short, total = _goal_table(train_rows, infer_rows)
    if total:
        add("\n### Goals on torch\n")
        add(f"Training >= {GOALS['train']}x the twin; inference >= {GOALS[256]}x at batch "
            f"256 and >= {GOALS[1]}x at batch 1 (the zoo's defaults; **below goal** "
            "marked):\n")
        add(table)
        add(f"\n{short} of {total} torch ratios are below the goal on the GPU.")
    return "\n".join(lines) + "\n"


def write_doc(path, result, command):
    """Write the run into the page at `path`: a CPU run renders the page and keeps the
    page's recorded GPU section; a GPU run replaces only that section. Written to a
    temporary file, then renamed."""
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    before, old_gpu = split_gpu_section(old)
    if result["device"] == "gpu":
        head = before if before.strip() else (
            "# Performance\n\nNo CPU run of `scripts/benchmark.py` is recorded on this "
            "page.\n\n")
        page = head.rstrip() + "\n\n" + render_gpu_section(result, command)
    else:
        recorded = old_gpu if old_gpu and old_gpu.startswith(GPU_MEASURED) else None
        page = render_doc(result, command, gpu_section=recorded)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page)
    os.replace(tmp, path)


def _loop_subsection(numbers, result):
    """Lines of "The zoo's torch loop" (first in "What the zoo does for speed")."""
    loop = numbers.get("loop")
    if not loop:
        return []
    all_cases = cases(result["scale"])
    lines = ["### The zoo's torch loop (`fit`, `evaluate`, `predict`, `__call__` on torch)\n"]
    add = lines.append
    add("On the torch backend `ZooModel.fit`, `evaluate`, `predict` and the direct call "
        "`model(x)` run the zoo's own code (zoo/backend/fast_path.py and the `torch_*` "
        "modules beside it) in place of Keras'. The model's functional graph is walked "
        "once; afterwards each layer's computation runs directly, without Keras' "
        "per-layer `Layer.__call__` machinery (the common layers, `Dense`, `Dropout`, "
        "`Normalization`, `Embedding`, `Flatten`, `Reshape`, `Permute`, `Add`, "
        "`Rescaling`, channels-first `MaxPooling2D`, the zoo's `FusedLSTM`, `Conv2D` "
        "and `Conv2DTranspose` and the "
        "`ids != 0` op Keras records for `Embedding(mask_zero=True)`'s mask, as direct "
        "torch code; the others through their own `call`). The numpy arrays become "
        "tensors once and a batch is an index into them, in place of Keras' "
        "DataLoader-based epoch iterator; batch callbacks run only when some callback "
        "defines them, in place of Keras' thread-pool dispatch after every batch; the "
        "training step computes Keras' loss, metrics and optimizer update from the "
        "compiled objects. Keras' `CallbackList`, `History`, progress bar and validation "
        "are kept, and training gives the weights and history Keras' `fit` gives, up to "
        "float rounding (Adam runs torch's fused kernel with Keras' rule; tested, "
        "tests/training/test_torch_loop.py). Whatever the loop does not cover (other "
        "backends, datasets, sample weights, a custom train step, several outputs, "
        "regularizer losses, layers not in float32, a Keras release without one of the "
        "Keras internals the loop reads, listed and checked in "
        "zoo/backend/keras_internals.py, ...) runs Keras' own methods. "
        "`model.native_torch_loop = False` switches it off (Keras' `fit`, `evaluate`, "
        "`predict` and `__call__` run); after each call `model.fit_path`, "
        "`model.evaluate_path` and `model.predict_path` say which path ran: "
        "`\"zoo torch loop\"` or `\"keras (<reason>)\"`. The DCGAN trains with its own "
        "GAN step through Keras' `fit`; its `predict`, call and `generate` run its "
        "sampler network's graph on this path.\n")
    add("Predicted: in a `cProfile` of Keras' torch train step for the MLP, Keras' "
        "per-layer `__call__` machinery, its loss and metric objects, the optimizer's "
        "bookkeeping, the DataLoader per batch and the per-batch thread-pool callback "
        "dispatch were most of a step that took several times the twin's. Removing them "
        "should bring the MLPs close to the twin, help the small LSTMs and the forecaster "
        "less (their torch kernels are a larger share of a step) and the convnet little "
        "(its convolutions dominate). At batch 1, `predict` and the direct call should "
        "gain most: there `predict`'s per-call set-up and the per-layer costs are most of "
        "the time.\n")
    add("Each `fit` call also skips Keras' `_symbolic_build` when there is nothing left "
        "to build (commit 4cf9860): on torch it re-made the model's torch `ParameterDict` "
        "on every call. Predicted: a fraction of a millisecond per `fit` call (it showed "
        "in a `cProfile` of one-step epochs), seen only in short epochs; not measured on "
        "its own (the float-sequence LSTM's training row moved with the FusedLSTM storage "
        "and the benchmark's phases, below, in the same commits).\n")
    if result.get("phased", False):
        when = ("in the same run; the Keras-loop rows in the A/B phase, each paired with its "
                "base row's measurement of the same round")
    else:
        when = "side by side; gain paired per round"
    add(f"Measured (torch; the same model with `native_torch_loop = False`, {when}):\n")
    for name, rows in loop.items():
        add(f"{all_cases[name].label}:\n")
        add(_ab_table(rows, "Keras' fit/predict/call", "zoo torch loop"))
        add("")
    ratios = _torch_train_ratios(numbers)
    pairs = [(all_cases[n].label, ratios[keras_loop_name(n)], ratios[n]) for n in loop
             if n in ratios and keras_loop_name(n) in ratios]
    if pairs:
        add("Training speed relative to the twin (training table), Keras' `fit` -> the "
            "zoo's loop: " + "; ".join(f"{label} {_fmt_ratio(a)} -> {_fmt_ratio(b)}"
                                         for label, a, b in pairs) + ".\n")
    return lines


def _torch_train_ratios(numbers):
    """{case name: zoo / twin training ratio} of the torch rows of the training table."""
    return {r["case"]: r["ratio"] for r in numbers.get("train_rows", [])
            if r["backend"] == "torch"}


def _storage_paragraph(numbers, scale):
    """The FusedLSTM kernels' column-major storage on torch: what it is, predicted, measured."""
    floats = _torch_train_ratios(numbers).get("lstm_floats")
    text = ("The kernels' storage (commit 2bd955e): torch's kernel reads the weights as "
            "row-major (4u, input_dim) and (4u, u) matrices, Keras keeps (input_dim, 4u) and "
            "(u, 4u). Handed the transposes of row-major variables, mkldnn copied them to "
            "contiguous matrices in the forward and again in the backward pass, and the "
            "fused Adam step copied the transposed gradients. FusedLSTM now stores its "
            "kernels column-major on torch (zoo/backend/torch_storage.py): the same values, "
            "shapes, `get_weights()` and files, and their transposes are the matrices the "
            "kernel reads; the zoo's Adam slots take the same strides. Predicted: a few "
            "percent of a small LSTM's training step (in a torch.profiler trace of the "
            "float-sequence LSTM's step the copies showed beside the kernel's own work), "
            "less of a long sequence's, where the arithmetic grows with the steps and the "
            "copies do not. Measured, column-major's speed over row-major's, paired per "
            "round: ")
    if numbers.get("storage_train_gain") is not None:
        case = cases(scale)["lstm_floats"]
        text += (f"{numbers['storage_train_gain']:.2f}x in training (the float-sequence "
                 f"LSTM's `fit`, batch {case.batch} x {case.config['sequence_length']} "
                 "steps, two models in the torch process measured one after the other); ")
    text += (f"{numbers['storage_gain']:.2f}x in the forward + backward pass of the "
             f"{lstm_kernel_sizes(scale)['steps']}-step token LSTM (the two FusedLSTM "
             "no-mask rows above)")
    if floats is not None:
        text += (f"; the float-sequence LSTM trains at {floats:.2f}x the twin (0.89x in the "
                 "run of commit 57f8f94, before the change, which also measured every "
                 "configuration in one phase)")
    gains = [g for g in (numbers.get("storage_train_gain"), numbers["storage_gain"])
             if g is not None]
    if max(gains) < STORAGE_NOTICEABLE:
        text += (". No gain shows in this run (the pairs are within this machine's "
                 "round-to-round spread); the storage is kept for what it removes: the "
                 "copies, and on CUDA the contiguous copy of each kernel that cuDNN "
                 "takes on every call (not measured: no GPU run yet)")
    return text + ".\n"


def _speed_section(numbers, result):
    lines = ["## What the zoo does for speed\n",
             "Each measure, the gain predicted before measuring (reasoning, no number) and "
             "the gain this run measured.\n"]
    add = lines.append
    lines += _loop_subsection(numbers, result)
    if "kernel" in numbers:
        k, vs = numbers["kernel"], numbers["kernel_vs"]
        s = lstm_kernel_sizes(result["scale"])
        add("### FusedLSTM (`zoo.layers.FusedLSTM`, in every zoo LSTM)\n")
        add("On the torch backend Keras runs `keras.layers.LSTM` on the CPU as a Python loop "
            "over time steps. FusedLSTM keeps Keras' weights and runs torch's fused LSTM "
            "kernel (the one behind `torch.nn.LSTM`), also with padded masks: right-padded "
            "(`Embedding(mask_zero=True)` on post-padded data: the padded batch runs "
            "through the kernel and each sequence's last output is gathered) and "
            "left-padded (pre-padded data, `keras.utils.pad_sequences`' default and the "
            "zoo's IMDB loader: each row's valid steps are first shifted to the front, one "
            "gather of the embedded inputs, and the outputs shifted back). Other masks "
            "(holes, a row padded on both sides, a fully masked row) fall back to Keras' "
            "loop.\n")
        add("Predicted: several times faster than `keras.layers.LSTM` (one C++ kernel call "
            f"instead of {s['steps']} Python-level steps of small ops); as fast as "
            "`torch.nn.LSTM` without a mask; faster than torch's packed sequences with a "
            "mask (torch's packed CPU kernel has a slow backward). Left-padded masks "
            "(added after the first version, which ran Keras' loop on them): the same gain "
            "as right-padded ones, less the shift (a copy of the embedded batch, forward "
            "and backward, beside an LSTM's arithmetic: a few percent). Gathering the "
            "shifted inputs straight into the kernel's time-major layout (the kernel "
            "otherwise copies a batch-first input into it; commit c7aca74) saves one of "
            "the copies: predicted a few percent of a masked LSTM step; measured: the "
            "pre-padded FusedLSTM row below against its torch.nn.LSTM twin (0.87x in the "
            "run of commit 5cf4f87, the commit before, on the same machine).\n")
        add(f"Measured: forward + backward of Embedding({s['vocab']}, {s['embed']}) + "
            f"LSTM({s['units']}) + Dense(1), BCE loss, batch {s['batch']} x {s['steps']} "
            "steps, on torch (speeds relative to the torch.nn.LSTM rows, paired per "
            "round; a pre-padded row against the torch.nn.LSTM that shifts its token ids "
            "to the front first):\n")
        rows = []
        for variant, (_, description) in LSTM_KERNEL_VARIANTS.items():
            masked = not variant.endswith("_nomask")
            gather = "twin_gather_pre" if variant.endswith("_pre") else "twin_gather"
            rows.append([description, f"{k[variant] * 1e3:.1f}",
                         "" if masked else _fmt_ratio(vs[variant]["twin_nomask"]),
                         _fmt_ratio(vs[variant]["twin_packed"])
                         if masked and gather == "twin_gather" else "",
                         _fmt_ratio(vs[variant][gather]) if masked else ""])
        add(_md_table(["implementation", "ms", "vs torch.nn.LSTM, no mask",
                       "vs packed torch.nn.LSTM", "vs torch.nn.LSTM padded + gather"], rows))
        gain = numbers["kernel_gain"]
        add(f"\nMeasured gain of FusedLSTM over keras.layers.LSTM: {gain['nomask']:.1f}x "
            f"without a mask, {gain['post']:.1f}x with a post-padded mask, "
            f"{gain['pre']:.1f}x with a pre-padded mask.")
        tokens = _torch_train_ratios(numbers)
        if {"lstm_tokens_pre", "lstm_tokens_post"} <= tokens.keys():
            add(f"In the training table the zoo's token classifier reaches "
                f"{tokens['lstm_tokens_post']:.2f}x the twin on post-padded data and "
                f"{tokens['lstm_tokens_pre']:.2f}x on pre-padded data (0.31x pre-padded "
                "in the run before left-padded masks were fused, commit 2e9e18c).")
        add("")
        add(_storage_paragraph(numbers, result["scale"]))
        lines += _embedding_inside_lstm_subsection(numbers)
    if "bidirectional" in numbers:
        lines += _bidirectional_subsection(numbers)
    if "convnet_layers" in numbers or "dcgan_layers" in numbers:
        add("### zoo.layers `Conv2D`, `Conv2DTranspose`, `BatchNormalization` (convnet, DCGAN)\n")
        add("Keras' torch backend adds a convolution's bias and applies its activation as "
            "separate operations; computes a transposed convolution's largest output and "
            "slices Keras' window out of it (a strided view that every later layer reads "
            "slowly, and a copy in the batch norm's backward); and builds batch "
            "normalization from about ten elementwise operations and reductions. The zoo's "
            "layers are Keras' (subclasses, same arguments, weights and files; on "
            "TensorFlow and JAX Keras' own code runs) and on torch: the bias inside torch's "
            "convolution kernel and a ReLU activation in place; torch's `padding`/"
            "`output_padding` giving Keras' transposed-convolution window directly; "
            "torch's batch-norm kernel, with Keras' moving-average rule. Tested against "
            "Keras' layers (outputs, gradients, moving statistics; tests/layers).\n")
        add("Predicted: the bias add and the ReLU are each a pass over a convolution's "
            "output, the largest tensors of a convnet, so a tenth or two of a convnet's "
            "forward pass; the batch norm, several passes each way over the generator's "
            "activations, a larger share of the DCGAN's step.\n")
        add("Measured (torch; the same model built with Keras' layers, side by side; gain "
            "paired per round):\n")
        for key, name in (("convnet_layers", "convnet"), ("dcgan_layers", "dcgan")):
            if key in numbers:
                add(f"{name}:\n")
                add(_ab_table(numbers[key], "Keras layers", "zoo.layers"))
                add("")
        add("Building the DCGAN's networks channels_first on torch (as the convnet) was "
            "tried as well and not kept: with these layers it measured no faster than "
            "channels-last within this machine's noise (a few percent, either way, over "
            "alternated rounds), and it adds two transposing layers per network.\n")
        add("Inside the zoo's torch graph (commit 5b78756) the two convolution layers run "
            "as functions prepared once per layer (the permutations, paddings and "
            "options worked out at graph build, the weights read directly), in place of "
            "the layer's `call`, which converts its input and weights through Keras and "
            "checks the backend on every call. Predicted: tens of microseconds per "
            "convolution layer and call, visible at batch 1 only.")
        lines[-1] += _predict_at_batch_one(
            numbers, "convnet", "the convnet",
            before="0.30 ms, 0.63x in the run of commit c892296, before it")
        add("")
    if "jit" in numbers:
        rows = numbers["jit"]
        add("### `jit_compile=True` on torch (measured, not adopted)\n")
        add("Keras compiles the training step with `torch.compile` when `compile(jit_compile="
            "True)` on torch.\n")
        add("Predicted: a large gain for the MLPs if the whole step (forward, loss, "
            "backward, optimizer) were captured in one graph, since Keras' per-layer Python "
            "work would vanish; a loss if Dynamo breaks the graph at Keras' Python "
            "machinery.\n")
        add("Measured (mlp_classifier, torch, both through Keras' `fit` with "
            "`native_torch_loop = False`: `jit_compile` compiles Keras' train step; gain "
            "paired per round):\n")
        add(_ab_table(rows, "eager (Keras' default)", "jit_compile=True"))
        if "jit_warmup" in numbers:
            eager, jit = numbers["jit_warmup"]
            add(f"\nWarm-up (first `fit()` call): eager {eager:.1f} s, jit_compile "
                f"{jit:.1f} s.")
        if numbers.get("jit_vs_zoo") is not None:
            add(f"\nThe zoo's torch loop (eager; the `mlp_classifier` row) trains "
                f"{_fmt_ratio(numbers['jit_vs_zoo'])} as fast as the jit_compile=True step.")
        add("\nCompiling even the model's forward pass alone (`torch.compile` of "
            "`model(x, training=True)`) broke the graph inside Keras (TensorFlow's "
            "`executing_eagerly` reached through Keras' preprocessing layers, dict "
            "mutations in Keras' layer bookkeeping, imports), and ran slower than eager: "
            "the compiled step is many small graphs with guards between them. Not "
            "adopted.\n")
    add("### Measures considered and not taken\n")
    add("- `steps_per_execution > 1` (several batches per step call): Keras' torch trainer "
        "refuses it (\"`steps_per_execution` must be 1 with the PyTorch backend\").")
    add("- A lighter `Normalization` layer in the MLPs: not needed as a layer of its own. "
        "Inside the zoo's torch graph `Normalization` is lowered to direct torch code (a "
        "subtraction and a division), as `Dense` is; through Keras' own path it still "
        "costs a whole Keras layer call.")
    add("- `torch.no_grad()` inside the direct call: on torch `ZooModel.__call__` runs the "
        "zoo's graph but, as Keras' call does, leaves gradient tracking on, since a caller "
        "may differentiate through `model(x)`; `predict` runs without it. The no_grad "
        "columns measure what wrapping the call in `torch.no_grad()` gives.")
    add("")
    if "threads" in numbers:
        t = numbers["threads"]
        add("### One intra-op thread (`OMP_NUM_THREADS=1`, `--threads`)\n")
        add("The models are small; on this shared 2-core machine torch's OpenMP threads wait "
            "for each other whenever another process holds a core.\n")
        add("Predicted: a large gain on a busy machine, little or none on an idle one.\n")
        add(f"Measured: convnet training ({THREADS_STEPS} steps per measurement), 2 threads "
            "set by `torch.set_num_threads(2)` around the measurement, alternated with 1 "
            "thread:\n")
        add(_md_table(["samples/s", "1 thread", "2 threads", "gain of 1 thread"], [
            [label, f"{t[who][0]:,.0f}", f"{t[who][1]:,.0f}", _fmt_ratio(t[who][2])]
            for label, who in (("zoo convnet (torch)", "zoo"), ("twin convnet", "twin"))]))
        add("")
    if "layout" in numbers:
        default = result.get("layouts", {}).get("torch", {}).get("convnet")
        add("### convnet `data_format=\"channels_first\"` on torch\n")
        add("`zoo.ConvNet(data_format=...)` chooses how the convolutions run inside (inputs "
            "stay channels-last, the weights are the same). With channels_last Keras' torch "
            "backend transposes to NCHW and back around every convolution and pooling; "
            "channels_first transposes once, at the input. "
            + (f"In this run `data_format=None` (the `convnet` rows) ran {default} on torch."
               if default else "") + "\n")
        add("Predicted: a modest gain (the transposes are memory copies beside the "
            "convolutions' arithmetic).\n")
        add("Measured (torch; gain paired per round):\n")
        add(_ab_table(numbers["layout"], "channels_last", "channels_first"))
        add("")
    return "\n".join(lines)


def _embedding_inside_lstm_subsection(numbers):
    """The torch graph's pairing of an Embedding with the FusedLSTM that reads it."""
    gain = numbers["embed_gain"]
    lines = ["### The Embedding inside the FusedLSTM's step (the zoo's torch graph)\n",
             "Where an `Embedding`'s output is read only by a FusedLSTM (the zoo's token "
             "classifiers; or by a `Bidirectional` over two, below), the zoo's torch graph "
             "(zoo/backend/torch_graph.py, `_embed_in_reader`) runs the embedding inside "
             "the LSTM's step: a padded batch's token ids are shifted to the front "
             "(pre-padded) and cut to the longest sequence, then embedded straight into "
             "the kernel's time-major layout, in place of shifting the embedded features "
             "and of the kernel's own batch-first-to-time-major copy. The mask is still "
             "computed from the ids; through Keras' own call the layers run one by one, "
             "as before.\n",
             "Predicted (commit 001f3dc): shifting ids (one integer per step) instead of "
             "features (64 floats per step) removes a gather of the embedded batch and its "
             "scatter in the backward pass, and the embedding's gather lays out the "
             "kernel's input, which removes the kernel's copy: pre-padded data as fast as "
             "post-padded, both faster than the twin's batch-first `nn.LSTM`, by about a "
             "copy or two of the embedded batch beside the LSTM's arithmetic.\n",
             f"Measured (the forward + backward rows above, paired per round): the graph "
             f"over the FusedLSTM layer alone {gain['pre']:.2f}x on pre-padded data, "
             f"{gain['post']:.2f}x on post-padded data."]
    pre = _torch_infer_row(numbers, "lstm_tokens_pre", 256)
    if pre is not None:
        lines[-1] += (f" The pre-padded token classifier at batch 256, twin / zoo: "
                      f"predict {pre['predict_ratio']:.2f}x, call in no_grad "
                      f"{pre['call_nograd_ratio']:.2f}x (0.86x and 0.84x in the run of "
                      "commit 24e7587, before the change).")
    lines[-1] += "\n"
    lines.append(
        "The masked call's other fixed costs (commit 515d1d2): Keras records "
        "`Embedding(mask_zero=True)`'s mask as a `NotEqual` op node and passes it to the "
        "LSTM as `mask=`; the graph filled such arguments in through Keras' general "
        "argument walk (its tree utilities) and ran the op through Keras. Now tensors and "
        "constants given as arguments of their own are looked up directly and the op "
        "runs as `torch.ne`. Predicted: tens of microseconds per call, visible at batch 1 "
        "only.")
    lines[-1] += _predict_at_batch_one(
        numbers, "lstm_tokens_pre", "the pre-padded token classifier",
        before="0.92 ms, 0.57x in the run of commit ee458c2, before it") + "\n"
    return lines


def _allocator_rates(numbers):
    """This run's pre-padded token classifier training rates on torch, as a clause."""
    for row in numbers.get("train_rows", []):
        if row["backend"] == "torch" and row["case"] == "lstm_tokens_pre":
            return (f": in this run zoo {_fmt_rate(row['zoo'])} samples/s, twin "
                    f"{_fmt_rate(row['twin'])}")
    return ""


def _bidirectional_subsection(numbers):
    """`Bidirectional(FusedLSTM)` lowered in the torch graph, against its own call."""
    return [
        "### Bidirectional(FusedLSTM) in the zoo's torch graph\n",
        "Both LSTM recipes wrap each LSTM in `keras.layers.Bidirectional`. Its own `call` "
        "runs each direction through Keras' `Layer.__call__` and `RNN.call`'s set-up, then "
        "flips the backward outputs and concatenates; and an `Embedding` before it was not "
        "paired with its reader (a `Bidirectional`, not a FusedLSTM), so both directions "
        "shifted the embedded features. The graph now lowers a `Bidirectional` over two "
        "FusedLSTMs (zoo/backend/torch_lowering.py, `_bidirectional`, commit 3f1a646): "
        "each direction's kernel called directly, merged as Keras merges, an `Embedding` "
        "read only by it embedded inside each direction's step.\n",
        "Predicted: at batch 1 the two layer calls per `Bidirectional` are a large part of "
        "a call; at batch 256 shifting token ids rather than 128 floats per step removes "
        "gathers of the embedded batch; in training the four directions' kernels over 200 "
        "steps dominate: little.\n",
        "Measured (the IMDB recipe's network on torch; `Bidirectional` through its own "
        "call in the graph, `lstm_tokens_bidirectional_keras_call`, against the lowering; "
        "gain paired per round):\n",
        _ab_table(numbers["bidirectional"], "Keras' Bidirectional call", "lowered"),
        ""]


def _torch_infer_row(numbers, case, batch):
    """This run's torch inference row of `case` at `batch`, or None."""
    for row in numbers.get("infer_rows", []):
        if row["backend"] == "torch" and row["case"] == case and row["batch"] == batch:
            return row
    return None


def _predict_at_batch_one(numbers, case, name, before):
    """A sentence with this run's batch-1 `predict` time of `case` and its ratio to the
    twin, `before` (the numbers of an earlier run) in parentheses; "" if not measured."""
    row = _torch_infer_row(numbers, case, 1)
    if row is None:
        return ""
    return (f" Measured, {name}'s `predict` at batch 1: {row['predict'] * 1e3:.2f} ms, "
            f"twin / zoo {row['predict_ratio']:.2f}x ({before}).")


def _goal_table(train_rows, infer_rows):
    """(markdown table of the torch goal ratios of the zoo's defaults, how many are below
    the goal, how many there are)."""
    infer = {(r["case"], r["batch"]): r for r in infer_rows if r["backend"] == "torch"}
    rows, short = [], 0
    for r in train_rows:
        if r["backend"] != "torch" or r["variant"]:
            continue
        cells = [r["label"], _fmt_ratio(r["ratio"], GOALS["train"])]
        short += r["ratio"] < GOALS["train"]
        for batch in INFER_BATCHES:
            for what in ("predict", "call_nograd"):
                value = infer.get((r["case"], batch), {}).get(f"{what}_ratio")
                cells.append(_fmt_ratio(value, GOALS[batch]))
                short += value is not None and value < GOALS[batch]
        rows.append(cells)
    table = _md_table(["family", "training", "predict b1", "call in no_grad b1",
                       "predict b256", "call in no_grad b256"], rows)
    return table, short, len(rows) * 5


def _shortfall_section(train_rows, infer_rows, numbers, layouts):
    lines = ["## Where the zoo falls short of the goal\n",
             f"Goal, on torch: training >= {GOALS['train']}x the twin for every family; "
             f"inference >= {GOALS[256]}x at batch 256 and >= {GOALS[1]}x at batch 1. "
             "Ratios on torch from the tables above, the zoo's defaults only (A/B rows "
             "left out; **below goal** marked). The twin infers under `torch.no_grad()`, "
             "so the direct call is held to the goal in the same mode (the no_grad "
             "columns); a call that records autograd, as `model(x)` does by default in "
             "Keras and in torch, is shown in the inference tables for the record:\n"]
    add = lines.append
    table, short, total = _goal_table(train_rows, infer_rows)
    add(table)
    add(f"\n{short} of {total} torch ratios are below the goal.\n")
    add("### Causes found\n")
    add("Found by profiling (`cProfile`) the torch runs and by the measurements below.\n")
    lines += _keras_path_causes(numbers, train_rows)
    add("- **The direct call records an autograd graph on torch.** `model(x, training=False)` "
        "(the zoo's graph on torch, as Keras' call) leaves gradient tracking on (only "
        "`predict` turns it off); the no_grad columns show what `with torch.no_grad():` "
        "around the call gives.")
    if "layout" in numbers:
        default = layouts.get("convnet")
        add("- **Channels-last convolutions and pooling on torch.** torch's kernels take "
            "NCHW: a channels_last convolution or pooling is transposed to NCHW and back "
            "around each call (convnet channels_last vs channels_first rows"
            + (f"; `data_format=None` ran {default} on torch in this run" if default else "")
            + ").")
    lines += _batch_one_cause(train_rows, infer_rows)
    lines += _other_backends_cause(train_rows, infer_rows)
    add("")
    return "\n".join(lines)


def _keras_path_causes(numbers, train_rows):
    """The "Causes found" bullets on Keras' own torch path, which the Keras-loop rows
    still measure and the zoo's torch loop avoids."""
    lines = []
    loop = numbers.get("loop", {})
    labels = {r["case"]: r["label"] for r in train_rows}
    text = "- **Keras' own torch path: a fixed cost per step and per layer.**"
    if "steps" in numbers:
        s, v = numbers["steps"], numbers["steps_vs_twin"]
        keras_fit = "keras_fit" in s
        text += (f" mlp_classifier, ms per training step of batch {numbers['steps_batch']}: "
                 + (f"Keras' `fit()` {s['keras_fit'] * 1e3:.2f}, " if keras_fit else "")
                 + f"Keras' `train_on_batch` {s['train_on_batch'] * 1e3:.2f}, Keras' "
                 f"`train_step` called directly {s['train_step'] * 1e3:.2f}; the zoo's "
                 f"`fit()` {s['fit'] * 1e3:.2f}; the twin {s['twin'] * 1e3:.2f} (Keras' "
                 f"`train_step` takes {v['train_step']:.1f}x the twin's time, "
                 + (f"Keras' `fit()` {v['keras_fit']:.1f}x, " if keras_fit else "")
                 + f"the zoo's `fit()` {v['fit']:.1f}x). `fit` is the zoo's torch loop; "
                 "`train_on_batch` and `train_step` are Keras' and the zoo leaves them so.")
    text += (" Inside Keras' `train_step` the time goes to Keras' `Layer.__call__` "
             "machinery around every layer (argument and mask handling, autocast and name "
             "scopes, nested-structure maps; the preprocessing-layer path of "
             "`Normalization`, which the MLPs and float-input LSTMs run twice), the loss and "
             "metric objects (running means updated through variable assignments every "
             "step) and the optimizer's bookkeeping; Keras' `fit()` adds its epoch iterator "
             "(a torch DataLoader slicing the numpy arrays) and callbacks dispatched to a "
             "thread pool after every batch. No single part dominated a profile of the "
             "MLP's step (the forward pass through the layers the largest share, under "
             "half, then the backward pass, the optimizer's update, the loss and the "
             "metric), so replacing one layer or object would move a step by a few percent: "
             "the zoo's torch loop replaces the whole path instead (see \"The zoo's torch "
             "loop\" above).")
    gains = sorted(((rows[0][3], labels.get(name, name)) for name, rows in loop.items()
                    if rows[0][3] is not None), reverse=True)
    if gains:
        text += (" The cost is per step and per layer, not per sample; the zoo's loop gains "
                 "most in training where it weighs most (Keras' `fit` -> the zoo's, this "
                 "run, largest gain first: " + "; ".join(
                     f"{label} {_fmt_ratio(g)}" for g, label in gains) + ").")
    if "jit" in numbers:
        text += (f" `jit_compile=True` on torch measured {_fmt_ratio(numbers['jit'][0][3])} "
                 "Keras' eager `fit` (see above).")
    jax = {r["case"]: r["ratio"] for r in train_rows if r["backend"] == "jax"}
    mlps = [(labels[n], jax[n]) for n in ("mlp_regressor", "mlp_classifier") if n in jax]
    if mlps:
        text += (" On JAX, where `jax.jit` compiles Keras' whole step, the MLPs train at "
                 + " and ".join(f"{_fmt_ratio(r)} the twin ({label})" for label, r in mlps)
                 + ".")
    if "steps" in numbers or gains:
        lines.append(text)
    predict = [(labels.get(name, name), a, b, g) for name, rows in loop.items()
               for label, a, b, g in rows if label == "predict batch 1, ms"]
    lines.append(
        "- **Keras' `model.predict` per call.** Every call of Keras' `predict` builds a data "
        "adapter, an epoch iterator, a callback list (and its thread pool) and "
        "concatenates the outputs; at small batches that is most of its time. The zoo's "
        "`predict` on torch converts the array once and makes no callback list when there "
        "is no callback" + (": at batch 1, Keras' `predict` -> the zoo's, ms: " + "; ".join(
            f"{label} {_fmt_ms(a)} -> {_fmt_ms(b)} ({_fmt_ratio(g)})"
            for label, a, b, g in predict) if predict else "") + ".")
    return lines


def _batch_one_cause(train_rows, infer_rows):
    """The "Fixed costs at batch 1" bullet, from the default torch rows of the run."""
    default = {r["case"] for r in train_rows if r["backend"] == "torch"
               and not cases()[r["case"]].is_variant}
    rows = [r for r in infer_rows if r["backend"] == "torch" and r["batch"] == 1
            and r["case"] in default]
    twin = [r["twin"] for r in rows if r["twin"] is not None]
    if not twin:
        return []
    below = []
    for r in rows:
        short = [f"{what} {r[f'{what}_ratio']:.2f}x" for what in ("predict", "call")
                 if r[f"{what}_ratio"] is not None and r[f"{what}_ratio"] < GOALS[1]]
        if short:
            below.append(f"{r['label']} ({', '.join(short)})")
    return [f"- **Fixed costs at batch 1.** At batch 1 the twin's forward pass takes "
            f"{_fmt_ms(min(twin))} to {_fmt_ms(max(twin))} ms in this run. The zoo's graph "
            "still runs each layer as a Python call (a torch function or the layer's own "
            "`call`) and converts the numpy input and the output, and `predict` adds its "
            "(smaller) per-call set-up: a fixed cost that weighs most beside the smallest "
            "forward passes"
            + ". "
            + (f"Below the batch-1 goal on torch in this run: {'; '.join(below)}."
               if below else "Every family reaches the batch-1 goal on torch in this run.")]


def _other_backends_cause(train_rows, infer_rows):
    """The "Other backends" bullet (no goal there), from the run's TensorFlow/JAX rows."""
    def spread(values):
        values = [v for v in values if v is not None]
        return f"{_fmt_ms(min(values))} to {_fmt_ms(max(values))} ms" if values else None

    family = {name: case.family for name, case in cases().items()}
    parts = []
    tf_predict = spread(r["predict"] for r in infer_rows
                        if r["backend"] == "tensorflow" and r["batch"] == 1)
    if tf_predict:
        parts.append(f"TensorFlow's `predict` takes {tf_predict} per call at batch 1, and "
                     "its LSTMs run a `tf.while_loop` without a fused CPU kernel")
    lstm_call = spread(r["call"] for r in infer_rows
                       if r["backend"] in ("tensorflow", "jax") and r["batch"] == 1
                       and family.get(r["case"], "").startswith("lstm_"))
    if lstm_call:
        parts.append("on TensorFlow and JAX the direct call of an LSTM model runs eagerly "
                     f"(JAX re-traces its `lax.scan` on every call): {lstm_call} at batch 1")
    gan = {(r["backend"]): r["ratio"] for r in train_rows if r["case"] == "dcgan"}
    if "jax" in gan:
        gan_infer = [r["call_ratio"] for r in infer_rows if r["backend"] == "jax"
                     and r["case"] == "dcgan" and r["batch"] == max(INFER_BATCHES)]
        parts.append(f"on JAX the DCGAN trains at {_fmt_ratio(gan['jax'])} the twin, slow "
                     "in the gradient of the generator's transposed convolutions on XLA's "
                     "CPU backend, while the forward pass is not"
                     + (f" (direct call at batch {max(INFER_BATCHES)}: "
                        f"{_fmt_ratio(gan_infer[0])} the twin)"
                        if gan_infer and gan_infer[0] is not None else ""))
    if not parts:
        return []
    return ["- **Other backends** (no goal set; for the record): " + "; ".join(parts) + "."]
