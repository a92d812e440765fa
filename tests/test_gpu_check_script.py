"""scripts/gpu_check.sh, what can be checked without a GPU: syntax, the steps it would
run (--dry-run), usage errors, and a failing step making it exit non-zero."""

import subprocess

from tests.helpers import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "gpu_check.sh"


def _run(*args, env=None):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=REPO_ROOT)


def test_the_script_parses():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_dry_run_lists_install_tests_and_benchmark_for_torch_and_jax(tmp_path):
    proc = _run("--dry-run", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "pip install --no-index --find-links" in out and "--no-deps -e ." in out
    for backend in ("torch", "jax"):
        assert f"KERAS_BACKEND={backend}" in out
        for suite in ("models", "parity", "gpu-tier"):
            assert f"({backend}/{suite})" in out
    # the benchmark once, on the GPU, for both backends (it writes the page's GPU section)
    bench = [line for line in out.splitlines() if "scripts/benchmark.py" in line]
    assert len(bench) == 1 and "--device gpu" in bench[0] and "--rounds 3" in bench[0]
    assert "torch\\,jax" in bench[0] or "torch,jax" in bench[0]
    assert "tests/models" in out and "-m parity" in out and "tests/test_gpu.py" in out
    assert "nothing was run" in out


def test_a_missing_wheels_folder_is_a_usage_error():
    proc = _run()
    assert proc.returncode == 2 and "folder of wheels" in proc.stderr


def test_a_failing_step_fails_the_script_and_shows_in_the_summary(tmp_path):
    import os

    env = {**os.environ, "PYTHON": "false", "LOG_DIR": str(tmp_path / "logs")}
    proc = _run("--backends", "torch", str(tmp_path), env=env)
    assert proc.returncode == 1
    assert "FAILED(1)" in proc.stdout and "some steps FAILED" in proc.stdout
    assert (tmp_path / "logs" / "any-install.log").is_file()
