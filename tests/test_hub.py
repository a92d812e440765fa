"""zoo.load from the Hub (loopback test Hub, real huggingface_hub client): verified downloads,
pinned revisions, offline mode, tampered and cut downloads, clear errors, plain Keras interop."""

from __future__ import annotations

import doctest
import hashlib
import importlib
import json
import os
import types

import numpy as np

import keras
import pytest
from huggingface_hub import file_download, hf_hub_download

import zoo
from tests.helpers import BACKENDS, REPO_ROOT, require_installed, run_on_backend
from tests.hub_artifacts import (  # noqa: F401  (fixtures)
    artifact,
    assert_same,
    clear_cache,
    predict,
    repo_cache,
    shifted,
    trained,
    write,
)
from tests.hub_fixtures import hub_env, hub_server  # noqa: F401  (fixtures)
from zoo import artifacts, registry
from zoo.artifacts import ArtifactError
from zoo.hub import ChecksumError, HubError, parse_hub_id
from zoo.loading import PACKAGE_DIR, UnsafeArtifactError
from zoo.publish import file_checksums

REPO = "zoo-test/mlp-classifier-hubtest"
WEIGHTS = "model.weights.h5"


def quiet(*args):
    pass


@pytest.fixture
def published(hub_env, artifact):
    """The trained artifact published to REPO (main); returns the Published record."""
    return zoo.publish(artifact, REPO, log=quiet)


@pytest.fixture
def no_retry_pause(monkeypatch):
    """Skip the client's 1 s pause between download retries (file_download.time is only used for that)."""
    monkeypatch.setattr(file_download, "time", types.SimpleNamespace(sleep=lambda seconds: None))


def snapshot_entries(hub_env, name, repo_id=REPO):
    """Snapshot links named `name`, dangling ones included (rglob(name) would skip those)."""
    return [p for p in (repo_cache(hub_env, repo_id) / "snapshots").rglob("*") if p.name == name]


def snapshot_weights(hub_env, repo_id=REPO):
    return snapshot_entries(hub_env, WEIGHTS, repo_id)


def blobs(hub_env, repo_id=REPO):
    folder = repo_cache(hub_env, repo_id) / "blobs"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


# ---------------------------------------------------------------------------------------------------------------------
# loading by hub id


@pytest.mark.parametrize("module", ["zoo.hub", "zoo.loading", "zoo.publish"])
def test_docstring_examples(module):
    assert doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS).failed == 0


def test_parse_hub_id():
    assert parse_hub_id("hf://org/name") == ("org/name", "main")
    assert parse_hub_id("hf://org/name@refs/pr/1") == ("org/name", "refs/pr/1")
    for bad in ("hf://name", "hf://org/name/extra", "hf:///name"):
        with pytest.raises(ValueError, match="hf://org/name"):
            parse_hub_id(bad)


def test_published_model_loads_by_hub_id_with_identical_outputs(hub_env, trained, published):
    clear_cache(hub_env)
    model = zoo.load(f"hf://{REPO}")
    assert_same(predict(model, trained.x), trained.expected)
    assert_same(predict(zoo.load(published.hub_id), trained.x), trained.expected)
    # exactly the artifact's files were fetched, all from the published commit
    snapshot = repo_cache(hub_env, REPO) / "snapshots" / published.commit_sha
    fetched = sorted(p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file())
    assert fetched == sorted(artifacts.artifact_files(trained.folder))


def test_pinned_older_revision_loads_the_old_weights(hub_env, trained, published, tmp_path):
    newer = shifted(trained.folder, 0.5)
    second = zoo.publish(write(tmp_path / "newer", newer, accuracy=0.95), REPO, log=quiet)
    assert second.commit_sha != published.commit_sha
    assert_same(predict(zoo.load(f"hf://{REPO}@{published.commit_sha}"), trained.x), trained.expected)
    latest = predict(zoo.load(f"hf://{REPO}"), trained.x)
    assert_same(latest, predict(newer, trained.x))


def test_branch_and_pull_request_revisions_load(hub_env, trained, artifact):
    zoo.publish(artifact, REPO, revision="dev", log=quiet)
    assert_same(predict(zoo.load(f"hf://{REPO}@dev"), trained.x), trained.expected)
    pr = zoo.publish(artifact, REPO, create_pr=True, log=quiet)
    assert pr.revision == "refs/pr/1"
    assert_same(predict(zoo.load(f"hf://{REPO}@refs/pr/1"), trained.x), trained.expected)


# ---------------------------------------------------------------------------------------------------------------------
# offline mode and the cache


def test_offline_loads_from_the_cache_without_any_request(hub_env, trained, published):
    zoo.load(f"hf://{REPO}")
    hub_env.set_offline()
    hub_env.server.clear_log()
    assert_same(predict(zoo.load(f"hf://{REPO}"), trained.x), trained.expected)
    assert_same(predict(zoo.load(published.hub_id), trained.x), trained.expected)
    assert hub_env.server.requests == []


def test_offline_uncached_model_fails_saying_what_to_do(hub_env, published):
    hub_env.set_offline()
    with pytest.raises(HubError) as err:
        zoo.load(f"hf://{REPO}")
    message = str(err.value)
    assert f"hf://{REPO}" in message and "HF_HUB_OFFLINE" in message
    assert "copy" in message and "connect" in message


def test_offline_with_a_partial_cache_names_the_missing_file(hub_env, published):
    hf_hub_download(REPO, "metadata.json")  # only one file cached
    hub_env.set_offline()
    with pytest.raises(HubError, match=r"HF_HUB_OFFLINE") as err:
        zoo.load(f"hf://{REPO}")
    assert "config.json" in str(err.value)  # the first file not cached


def test_unreachable_hub_falls_back_to_a_cached_model(hub_env, trained, published):
    zoo.load(f"hf://{REPO}")
    hub_env.server.stop()
    assert_same(predict(zoo.load(f"hf://{REPO}"), trained.x), trained.expected)


def test_unreachable_hub_with_nothing_cached_says_so(hub_env, monkeypatch):
    from huggingface_hub.utils import _http

    monkeypatch.setattr(_http, "time", types.SimpleNamespace(sleep=lambda seconds: None))  # skip back-off pauses
    hub_env.server.stop()
    with pytest.raises(HubError, match=rf"hf://{REPO}: could not reach the Hub at {hub_env.endpoint}.*network"):
        zoo.load(f"hf://{REPO}")


# ---------------------------------------------------------------------------------------------------------------------
# integrity: tampered and interrupted downloads


def test_tampered_file_fails_the_checksum_and_is_removed_from_the_cache(hub_env, trained, published):
    clear_cache(hub_env)
    good = (trained.folder / WEIGHTS).read_bytes()
    evil = bytearray(good)
    evil[-100] ^= 0xFF  # same size: the client's own check (size only) accepts it
    etag = hub_env.server.tamper(REPO, WEIGHTS, bytes(evil))
    with pytest.raises(ChecksumError) as err:
        zoo.load(f"hf://{REPO}")
    assert err.value.filename == WEIGHTS
    assert err.value.expected == hashlib.sha256(good).hexdigest()
    assert err.value.actual == hashlib.sha256(evil).hexdigest()
    assert WEIGHTS in str(err.value) and err.value.expected in str(err.value) and err.value.actual in str(err.value)
    assert etag not in blobs(hub_env) and snapshot_weights(hub_env) == []  # no poisoned cache
    with pytest.raises(ChecksumError):  # still bad on the server: downloaded again and refused again
        zoo.load(f"hf://{REPO}")
    hub_env.server.tamper(REPO, WEIGHTS, good)
    assert_same(predict(zoo.load(f"hf://{REPO}"), trained.x), trained.expected)
    assert etag in blobs(hub_env)


def test_forged_metadata_matching_forged_weights_is_caught(hub_env, trained, published):
    """An attacker who changes the weights and rewrites metadata.json to match them is caught by
    metadata.json's own check (the Hub's ETag of it), and nothing is used."""
    clear_cache(hub_env)
    evil = bytearray((trained.folder / WEIGHTS).read_bytes())
    evil[-100] ^= 0xFF
    metadata = json.loads((trained.folder / "metadata.json").read_text())
    metadata["files"][WEIGHTS] = hashlib.sha256(evil).hexdigest()
    hub_env.server.tamper(REPO, WEIGHTS, bytes(evil))
    hub_env.server.tamper(REPO, "metadata.json", json.dumps(metadata, indent=2).encode())
    with pytest.raises(ChecksumError, match="metadata.json"):
        zoo.load(f"hf://{REPO}")
    assert snapshot_weights(hub_env) == []
    assert snapshot_entries(hub_env, "metadata.json") == []


def test_cut_download_is_retried_and_gives_the_full_file(hub_env, trained, published):
    clear_cache(hub_env)
    hub_env.server.clear_log()
    hub_env.server.cut_next_download(WEIGHTS, after_bytes=1000)
    assert_same(predict(zoo.load(f"hf://{REPO}"), trained.x), trained.expected)
    gets = [e for e in hub_env.server.log if e.method == "GET" and e.path.endswith(WEIGHTS)]
    assert len(gets) == 2  # cut once, then retried by the client from the start
    assert not list(repo_cache(hub_env, REPO).rglob("*.incomplete"))


def test_download_cut_beyond_retries_fails_clearly_then_succeeds(hub_env, trained, published, no_retry_pause):
    clear_cache(hub_env)
    hub_env.server.cut_next_download(WEIGHTS, after_bytes=500, times=6)  # first try + 5 retries
    with pytest.raises(HubError, match=rf"{WEIGHTS}.*run again"):
        zoo.load(f"hf://{REPO}")
    assert snapshot_weights(hub_env) == [] and not list(repo_cache(hub_env, REPO).rglob("*.incomplete"))
    assert_same(predict(zoo.load(f"hf://{REPO}"), trained.x), trained.expected)


# ---------------------------------------------------------------------------------------------------------------------
# clear errors


def test_unknown_repo_is_a_clear_error(hub_env):
    with pytest.raises(HubError, match=r"no model repository 'zoo-test/missing'.*HF_TOKEN"):
        zoo.load("hf://zoo-test/missing")


def test_unknown_revision_is_a_clear_error(hub_env, published):
    with pytest.raises(HubError, match=rf"{REPO} has no revision 'no-such-branch'.*main"):
        zoo.load(f"hf://{REPO}@no-such-branch")
    with pytest.raises(HubError, match="has no revision '0000000000"):
        zoo.load(f"hf://{REPO}@{'0' * 40}")


def test_missing_file_is_a_clear_error(hub_env, trained):
    files = {n: (trained.folder / n).read_bytes() for n in artifacts.artifact_files(trained.folder)}
    del files[WEIGHTS]
    hub_env.server.add_commit(REPO, files)
    with pytest.raises(HubError, match=rf"has no file '{WEIGHTS}'.*zoo publish"):
        zoo.load(f"hf://{REPO}")


def test_a_plain_keras_upload_is_not_a_zoo_artifact(hub_env):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(f"hf://{REPO}")
    with pytest.raises(ArtifactError, match="not a zoo artifact.*keras.saving.load_model"):
        zoo.load(f"hf://{REPO}")


# ---------------------------------------------------------------------------------------------------------------------
# plain Keras interop


def test_plain_keras_loads_a_published_zoo_artifact(hub_env, trained, published):
    require_installed("tensorflow")  # Keras reads hf:// paths through TensorFlow's gfile
    clear_cache(hub_env)
    model = keras.saving.load_model(f"hf://{REPO}")  # snapshot_download: every file, .gitattributes too
    assert isinstance(model, zoo.MLPClassifier)
    assert_same(predict(model, trained.x), trained.expected)
    assert_same(predict(zoo.load(f"hf://{REPO}"), trained.x), trained.expected)  # same cache, still verified


@pytest.mark.parity
@pytest.mark.parametrize("target", [b for b in BACKENDS if b != keras.backend.backend()])
def test_published_here_loads_on(target, hub_env, trained, published, tmp_path, monkeypatch):
    """A fresh process on another backend, with its own empty cache, downloads and loads it."""
    np.savez(tmp_path / "io.npz", x=trained.x, y=trained.expected)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "other_cache"))  # read by the fresh process only
    report = run_on_backend(target, REPO_ROOT / "tests" / "hub_worker.py", tmp_path, published.hub_id, REPO)
    assert report.pop("_backend") == target
    assert report["zoo"] <= 1e-5 and report["keras"] <= 1e-5, report
    assert any((tmp_path / "other_cache").rglob("model.weights.h5"))  # it did download


# ---------------------------------------------------------------------------------------------------------------------
# registered pretrained variants


def variant(name="mlp_classifier.hubtest", **fields):
    return registry.PretrainedVariant(
        name=name, architecture="mlp_classifier", dataset="toy", recipe="recipes/none.yaml",
        config={}, metrics={"accuracy": 0.9}, target={"accuracy": 0.8}, **fields)


@pytest.fixture
def register():
    """Register variants for one test; removed afterwards."""
    names = []

    def add(v):
        names.append(v.name)
        return registry.register_pretrained(v)

    yield add
    for name in names:
        registry._PRETRAINED.pop(name, None)


def test_registered_hub_variant_downloads_its_pinned_revision(hub_env, trained, artifact, published, register,
                                                              tmp_path):
    register(variant(hub_repo=REPO, revision=published.commit_sha, files=file_checksums(artifact)))
    zoo.publish(write(tmp_path / "newer", shifted(trained.folder, 1.0)), REPO, log=quiet)  # main moves on
    clear_cache(hub_env)
    assert_same(predict(zoo.load("mlp_classifier.hubtest"), trained.x), trained.expected)
    hub_env.set_offline()
    hub_env.server.clear_log()
    assert_same(predict(zoo.load("mlp_classifier.hubtest"), trained.x), trained.expected)
    assert hub_env.server.requests == []


def test_registered_variant_uncached_offline_names_the_model(hub_env, published, register):
    register(variant(hub_repo=REPO, revision=published.commit_sha,
                     files={"config.json": "0" * 64, "metadata.json": "0" * 64, WEIGHTS: "0" * 64}))
    hub_env.set_offline()
    with pytest.raises(HubError, match=r"mlp_classifier.hubtest is not in the local Hugging Face cache"):
        zoo.load("mlp_classifier.hubtest")


def test_registered_variant_with_a_wrong_checksum_is_refused_and_evicted(hub_env, artifact, published, register):
    files = file_checksums(artifact)
    files[WEIGHTS] = "f" * 64
    register(variant(hub_repo=REPO, revision=published.commit_sha, files=files))
    with pytest.raises(ChecksumError, match=rf"mlp_classifier.hubtest: checksum mismatch for {WEIGHTS}: "
                                            rf"expected sha256 f{{64}}"):
        zoo.load("mlp_classifier.hubtest")
    assert snapshot_weights(hub_env) == []


def test_bundled_variant_is_verified_before_use(trained, register, tmp_path):
    folder = trained.copy(tmp_path / "bundled")
    register(variant(bundled=os.path.relpath(folder, PACKAGE_DIR), files=file_checksums(folder)))
    assert_same(predict(zoo.load("mlp_classifier.hubtest"), trained.x), trained.expected)
    data = bytearray((folder / WEIGHTS).read_bytes())
    data[-100] ^= 0xFF
    (folder / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=rf"bundled.*checksum mismatch for {WEIGHTS}.*reinstall"):
        zoo.load("mlp_classifier.hubtest")


def test_catalogue_entries_must_cover_the_required_files(register):
    register(variant(hub_repo=REPO, revision="a" * 40, files={"config.json": "0" * 64}))
    with pytest.raises(ArtifactError, match="no sha256 for metadata.json, model.weights.h5"):
        zoo.load("mlp_classifier.hubtest")
    registry._PRETRAINED.pop("mlp_classifier.hubtest")
    register(variant(files={n: "0" * 64 for n in artifacts.REQUIRED}))
    with pytest.raises(ArtifactError, match="neither bundled nor published.*zoo train"):
        zoo.load("mlp_classifier.hubtest")


# ---------------------------------------------------------------------------------------------------------------------
# local folders, names and unsafe configurations


def test_local_folder_loads_and_a_tampered_one_is_refused(trained, artifact):
    assert_same(predict(zoo.load(artifact), trained.x), trained.expected)
    assert_same(predict(zoo.load(str(artifact)), trained.x), trained.expected)
    (artifact / "config.json").write_text((artifact / "config.json").read_text() + " ")
    with pytest.raises(ArtifactError, match="checksum mismatch for config.json"):
        zoo.load(artifact)


def test_unknown_names_and_paths_are_clear_errors(tmp_path):
    with pytest.raises(KeyError, match="unknown pretrained model 'convnet.nope'"):
        zoo.load("convnet.nope")
    with pytest.raises(ArtifactError, match="no such artifact folder"):
        zoo.load(str(tmp_path / "missing"))


def lambda_artifact(folder, function):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(function), keras.layers.Dense(2)])
    return artifacts.write_artifact(folder, model, zoo_metadata={})


def test_keras_safe_mode_refuses_python_lambdas_and_so_does_zoo(tmp_path):
    folder = lambda_artifact(tmp_path / "lambda", lambda x: x * 2)
    with pytest.raises(ValueError, match="lambda"):
        keras.saving.load_model(folder, safe_mode=True)  # what Keras itself refuses
    with pytest.raises(UnsafeArtifactError, match="Lambda layer"):
        zoo.load(folder)


def test_zoo_refuses_lambda_layers_that_keras_safe_mode_accepts(tmp_path):
    folder = lambda_artifact(tmp_path / "named", keras.activations.relu)
    keras.saving.load_model(folder, safe_mode=True)  # a named function passes Keras' safe mode
    with pytest.raises(UnsafeArtifactError, match="Lambda layer"):
        zoo.load(folder)


def test_zoo_refuses_classes_from_other_modules(tmp_path, artifact):
    config = json.loads((artifact / "config.json").read_text())
    config["module"] = "evil.models"
    (artifact / "config.json").write_text(json.dumps(config))
    metadata = artifacts.read_metadata(artifact)
    artifacts.write_metadata(artifact, metadata)  # consistent checksums: only the content is wrong
    with pytest.raises(UnsafeArtifactError, match="'evil.models'"):
        zoo.load(artifact)
