"""The real, unmodified ``huggingface_hub`` client against the loopback test Hub (tests/hub_server.py).

These tests pin down both the server and the client behaviour the zoo's hub module relies on: how revisions,
caches, offline mode, errors and interrupted downloads behave in the installed client version.
"""

from __future__ import annotations

import hashlib
import importlib.util
import types
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    constants,
    file_download,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.hub_fixtures import FAKE_TOKEN, hub_env, hub_server  # noqa: F401  (fixtures)
from tests.helpers import require_installed
from tests.hub_server import git_blob_oid

REPO = "zoo-test/convnet.digits"

FILES = {
    "config.json": b'{"class_name": "ConvNet", "config": {"filters": 8}}',
    "metadata.json": b'{"zoo_version": "0.1", "metrics": {"accuracy": 0.97}}',
    "model.weights.h5": bytes(range(256)) * 40,  # 10 KiB of binary
    "README.md": b"---\nlibrary_name: keras\ntags: [zoo]\n---\n# convnet.digits\n",
    "plots/loss.txt": b"0.9 0.5 0.2\n",
}


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def api(hub_env):
    return HfApi()


@pytest.fixture
def published(api, tmp_path):
    """REPO created and FILES uploaded in one commit; returns that commit's sha."""
    api.create_repo(REPO, exist_ok=True)
    info = api.upload_folder(repo_id=REPO, folder_path=write_folder(tmp_path / "artifact", FILES),
                             commit_message="Publish convnet.digits")
    return info.oid


def read(path) -> bytes:
    return Path(path).read_bytes()


# ---------------------------------------------------------------------------------------------------------------------
# set-up


def test_hub_env_patches_every_constant_the_environment_decides(hub_env):
    """constants.py recomputed from the patched environment equals the patched module: nothing stale is left."""
    spec = importlib.util.spec_from_file_location("_fresh_hf_constants", constants.__file__)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    plain = (str, bool, int, float, frozenset, Path, type(None))
    names = [name for name, value in vars(fresh).items() if not name.startswith("__") and isinstance(value, plain)]
    stale = {name: (getattr(constants, name), getattr(fresh, name)) for name in names
             if getattr(constants, name, None) != getattr(fresh, name)}
    assert not stale
    assert constants.ENDPOINT == hub_env.endpoint and HfApi().endpoint == hub_env.endpoint
    assert constants.HF_HUB_CACHE == str(hub_env.cache_dir)


def test_module_level_functions_use_the_test_endpoint(hub_env):
    import huggingface_hub

    hub_env.server.add_commit(REPO, {"a.txt": b"a"})
    assert huggingface_hub.model_info(REPO).id == REPO
    assert read(huggingface_hub.hf_hub_download(REPO, "a.txt")) == b"a"


# ---------------------------------------------------------------------------------------------------------------------
# repositories and commits


def test_create_repo_conflicts_unless_exist_ok(api, hub_env):
    url = api.create_repo(REPO, private=True)
    assert url.repo_id == REPO and url.startswith(hub_env.endpoint)
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo(REPO)
    assert conflict.value.response.status_code == 409
    assert api.create_repo(REPO, exist_ok=True).repo_id == REPO
    assert api.model_info(REPO).private is True


def test_token_is_sent_and_never_logged(api, hub_env, published):
    assert hub_env.server.log and all(entry.token_sent for entry in hub_env.server.log)
    assert FAKE_TOKEN not in repr(hub_env.server.log)


def test_private_repo_without_token_is_not_found(api, hub_env):
    api.create_repo(REPO, private=True)
    with pytest.raises(RepositoryNotFoundError):
        HfApi(token=False).model_info(REPO)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(REPO, ".gitattributes", token=False)


def test_writes_need_a_token(api, hub_env):
    anonymous = HfApi(token=False)
    with pytest.raises(HfHubHTTPError) as refused:
        anonymous.create_repo(REPO)
    assert refused.value.response.status_code == 401
    api.create_repo(REPO)
    with pytest.raises(HfHubHTTPError) as refused:
        anonymous.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO)
    assert refused.value.response.status_code == 401
    assert [entry.path for entry in api.list_repo_tree(REPO)] == [".gitattributes"]


def test_upload_folder_is_one_commit_and_every_file_downloads(api, hub_env, published):
    info = api.model_info(REPO)
    assert info.sha == published
    assert sorted(s.rfilename for s in info.siblings) == sorted([".gitattributes", *FILES])
    commits = api.list_repo_commits(REPO)
    assert [c.commit_id for c in commits][0] == published
    assert [c.title for c in commits] == ["Publish convnet.digits", "initial commit"]
    for name, data in FILES.items():
        assert read(hf_hub_download(REPO, name)) == data
    snapshot = Path(snapshot_download(REPO))
    assert snapshot.name == published
    for name, data in FILES.items():
        assert read(snapshot / name) == data


def test_pinned_old_revision_serves_old_content(api, hub_env, published, tmp_path):
    new_config = b'{"class_name": "ConvNet", "config": {"filters": 16}}'
    second = api.upload_file(path_or_fileobj=new_config, path_in_repo="config.json", repo_id=REPO).oid
    api.delete_file("plots/loss.txt", repo_id=REPO)
    assert second != published
    assert read(hf_hub_download(REPO, "config.json")) == new_config
    assert read(hf_hub_download(REPO, "config.json", revision=published)) == FILES["config.json"]
    assert read(hf_hub_download(REPO, "plots/loss.txt", revision=published)) == FILES["plots/loss.txt"]
    assert "plots/loss.txt" not in api.list_repo_files(REPO)
    assert "plots/loss.txt" in api.list_repo_files(REPO, revision=published)
    old = Path(snapshot_download(REPO, revision=published, cache_dir=tmp_path / "other_cache"))
    assert read(old / "config.json") == FILES["config.json"]


def test_unchanged_files_are_not_committed_again(api, hub_env, published, tmp_path):
    again = api.upload_folder(repo_id=REPO, folder_path=write_folder(tmp_path / "same", FILES))
    assert again.oid == published  # the client compared the server's oids and skipped an empty commit


def test_branch_creation_and_commit_on_branch(api, hub_env, published):
    api.create_branch(REPO, branch="dev")
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_branch(REPO, branch="dev")
    assert conflict.value.response.status_code == 409
    api.create_branch(REPO, branch="dev", exist_ok=True)
    on_dev = api.upload_file(path_or_fileobj=b"dev only", path_in_repo="notes.txt", repo_id=REPO, revision="dev")
    refs = {ref.name: ref.target_commit for ref in api.list_repo_refs(REPO).branches}
    assert refs == {"main": published, "dev": on_dev.oid}
    assert read(hf_hub_download(REPO, "notes.txt", revision="dev")) == b"dev only"
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "notes.txt")


def test_create_pr_opens_a_pull_request_ref(api, hub_env, published):
    pr = api.upload_file(path_or_fileobj=b"proposal", path_in_repo="proposal.txt", repo_id=REPO, create_pr=True)
    assert pr.pr_num == 1 and pr.pr_revision == "refs/pr/1" and pr.pr_url.endswith("/discussions/1")
    assert api.model_info(REPO).sha == published  # main did not move
    assert api.model_info(REPO, revision="refs/pr/1").sha == pr.oid
    assert read(hf_hub_download(REPO, "proposal.txt", revision="refs/pr/1")) == b"proposal"
    refs = api.list_repo_refs(REPO, include_pull_requests=True)
    assert [(ref.ref, ref.target_commit) for ref in refs.pull_requests] == [("refs/pr/1", pr.oid)]
    follow_up = api.upload_file(path_or_fileobj=b"v2", path_in_repo="proposal.txt", repo_id=REPO,
                                revision=pr.pr_revision)
    assert api.model_info(REPO, revision="refs/pr/1").sha == follow_up.oid
    second = api.create_commit(REPO, [CommitOperationDelete("README.md")], commit_message="drop", create_pr=True)
    assert second.pr_num == 2


def test_stale_parent_commit_is_rejected(api, hub_env, published):
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO)
    with pytest.raises(HfHubHTTPError) as stale:
        api.create_commit(REPO, [CommitOperationAdd("y.txt", b"y")], commit_message="y", parent_commit=published)
    assert stale.value.response.status_code == 412


def test_tree_listing_and_paths_info(api, hub_env, published):
    tree = {entry.path: entry for entry in api.list_repo_tree(REPO, recursive=True)}
    assert tree["plots"].__class__.__name__ == "RepoFolder"
    config, weights = tree["config.json"], tree["model.weights.h5"]
    assert config.blob_id == git_blob_oid(FILES["config.json"]) and config.lfs is None
    # *.h5 is LFS-tracked by the initial .gitattributes: described by sha256, like on the Hub
    assert weights.size == weights.lfs.size == len(FILES["model.weights.h5"])
    assert weights.lfs.sha256 == hashlib.sha256(FILES["model.weights.h5"]).hexdigest()
    siblings = {s.rfilename: s for s in api.model_info(REPO, files_metadata=True).siblings}
    assert siblings["model.weights.h5"].lfs.sha256 == weights.lfs.sha256
    assert siblings["config.json"].blob_id == config.blob_id
    top = {entry.path for entry in api.list_repo_tree(REPO)}
    assert "plots" in top and "plots/loss.txt" not in top
    info = api.get_paths_info(REPO, ["config.json", "plots", "missing.txt"])
    assert [entry.path for entry in info] == ["config.json", "plots"]


def test_upload_works_with_the_xet_pipeline_client_too(api, hub_env, monkeypatch, tmp_path):
    """With hf_xet installed and Xet not disabled, upload_folder takes another code path; it must still work."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    api.create_repo(REPO)
    info = api.upload_folder(repo_id=REPO, folder_path=write_folder(tmp_path / "artifact", FILES))
    assert api.model_info(REPO).sha == info.oid
    assert read(hf_hub_download(REPO, "model.weights.h5")) == FILES["model.weights.h5"]


def test_download_to_local_dir(api, hub_env, published, tmp_path):
    target = tmp_path / "checkout"
    path = hf_hub_download(REPO, "plots/loss.txt", local_dir=target)
    assert Path(path) == target / "plots" / "loss.txt" and read(path) == FILES["plots/loss.txt"]
    folder = Path(snapshot_download(REPO, local_dir=target))
    assert all(read(folder / name) == data for name, data in FILES.items())


def test_keras_hf_paths_round_trip(hub_env):
    """keras.saving with hf:// URLs (create_repo + upload_folder, then snapshot_download) against the test hub."""
    require_installed("tensorflow")  # Keras reads hf:// paths through TensorFlow's gfile
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save("hf://zoo-test/tiny")
    loaded = keras.saving.load_model("hf://zoo-test/tiny")  # the snapshot also holds .gitattributes
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------------------
# errors


def test_unknown_repo_raises_repository_not_found(api, hub_env):
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("zoo-test/missing")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("zoo-test/missing", "config.json")
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download("zoo-test/missing")


def test_unknown_revision_raises_revision_not_found(api, hub_env, published):
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "config.json", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "config.json", revision="0" * 40)
    with pytest.raises(RevisionNotFoundError):
        snapshot_download(REPO, revision="no-such-branch")


def test_missing_file_raises_entry_not_found(api, hub_env, published):
    with pytest.raises(RemoteEntryNotFoundError) as missing:
        hf_hub_download(REPO, "no_such_file.bin")
    assert isinstance(missing.value, EntryNotFoundError)
    with pytest.raises(EntryNotFoundError):
        api.delete_file("no_such_file.bin", repo_id=REPO)


# ---------------------------------------------------------------------------------------------------------------------
# offline mode and cache


def test_offline_mode_serves_the_cache_and_fails_for_the_rest(api, hub_env, published):
    cached = hf_hub_download(REPO, "config.json")
    snapshot = snapshot_download(REPO)
    hub_env.set_offline()
    hub_env.server.clear_log()
    assert hf_hub_download(REPO, "config.json") == cached
    assert hf_hub_download(REPO, "config.json", revision=published) == cached
    assert snapshot_download(REPO) == snapshot
    with pytest.raises(LocalEntryNotFoundError):
        hf_hub_download("zoo-test/never-downloaded", "config.json")
    with pytest.raises(LocalEntryNotFoundError):
        snapshot_download("zoo-test/never-downloaded")
    assert hub_env.server.requests == []  # offline means no request at all


def test_unreachable_hub_falls_back_to_the_cache(api, hub_env, published):
    cached = hf_hub_download(REPO, "config.json")
    snapshot = snapshot_download(REPO)
    hub_env.server.stop()  # connection refused from now on, pooled connections cut
    assert hf_hub_download(REPO, "config.json") == cached
    assert snapshot_download(REPO) == snapshot


def test_pinned_commit_in_cache_needs_no_request(api, hub_env, published):
    path = hf_hub_download(REPO, "config.json", revision=published)
    hub_env.server.clear_log()
    assert hf_hub_download(REPO, "config.json", revision=published) == path
    assert hub_env.server.requests == []
    assert hf_hub_download(REPO, "config.json") == path  # a branch is re-resolved with one HEAD
    assert hub_env.server.requests == [("HEAD", f"/{REPO}/resolve/main/config.json")]


# ---------------------------------------------------------------------------------------------------------------------
# test hooks: tampering and cut downloads


def test_tamper_changes_served_bytes_but_not_commit_or_etag(api, hub_env, published):
    weights = FILES["model.weights.h5"]
    evil = bytes(reversed(weights))  # same length
    etag = hub_env.server.tamper(REPO, "model.weights.h5", evil)
    assert etag == hashlib.sha256(weights).hexdigest()  # LFS file: ETag is the sha256 of the committed bytes
    path = Path(hf_hub_download(REPO, "model.weights.h5"))
    assert path.read_bytes() == evil  # the client accepted it: only the caller can verify
    assert path.resolve().name == etag and path.parent.name == published
    assert api.model_info(REPO).sha == published
    hub_env.server.tamper(REPO, "config.json", b"{}")  # regular file: its Content-Length follows the new bytes
    assert read(hf_hub_download(REPO, "config.json")) == b"{}"


def test_tampered_lfs_file_of_another_size_fails_the_size_check(api, hub_env, published):
    hub_env.server.tamper(REPO, "model.weights.h5", b"short")
    with pytest.raises(OSError, match="Consistency check failed"):
        hf_hub_download(REPO, "model.weights.h5")  # X-Linked-Size still says the committed size


def test_cut_small_download_is_retried_from_the_start(api, hub_env, published):
    hub_env.server.cut_next_download("model.weights.h5", after_bytes=1000)
    path = hf_hub_download(REPO, "model.weights.h5")  # the client retries by itself, after a 1 s pause
    assert read(path) == FILES["model.weights.h5"]
    gets = [(entry.range, entry.status) for entry in hub_env.server.log if entry.method == "GET"]
    # The client keeps only whole 10 MiB chunks (constants.DOWNLOAD_CHUNK_SIZE): the 1000 bytes were dropped.
    assert gets == [(None, 200), (None, 200)]


@pytest.fixture
def no_retry_pause(monkeypatch):
    """Skip the client's 1 s pause between download retries (file_download.time is only used for that sleep)."""
    monkeypatch.setattr(file_download, "time", types.SimpleNamespace(sleep=lambda seconds: None))


def test_download_cut_beyond_retries_fails_then_a_retry_gets_full_bytes(api, hub_env, published, no_retry_pause):
    hub_env.server.cut_next_download("model.weights.h5", after_bytes=0, times=6)  # first try + 5 resumes
    with pytest.raises(httpx2.RemoteProtocolError):
        hf_hub_download(REPO, "model.weights.h5")
    repo_cache = hub_env.cache_dir / f"models--{REPO.replace('/', '--')}"
    assert not list(repo_cache.rglob("*.incomplete"))
    assert not list((repo_cache / "snapshots").rglob("model.weights.h5"))
    assert read(hf_hub_download(REPO, "model.weights.h5")) == FILES["model.weights.h5"]
    assert not list(repo_cache.rglob("*.incomplete"))


def test_cut_large_download_resumes_with_a_range_request(api, hub_env, no_retry_pause):
    chunk = constants.DOWNLOAD_CHUNK_SIZE
    big = bytes(range(251)) * (chunk // 251 + 20)  # a little over one client chunk
    hub_env.server.add_commit(REPO, {"big.bin": big})
    hub_env.server.cut_next_download("big.bin", after_bytes=chunk + 100)
    assert read(hf_hub_download(REPO, "big.bin")) == big
    gets = [(entry.range, entry.status) for entry in hub_env.server.log if entry.method == "GET"]
    assert gets == [(None, 200), (f"bytes={chunk}-", 206)]
