"""zoo.publish, `zoo publish` and scripts/publish_all.py against the loopback test Hub."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download

import zoo
from tests.helpers import REPO_ROOT
from tests.hub_artifacts import (  # noqa: F401  (fixtures)
    CURVE_PNG,
    artifact,
    assert_same,
    clear_cache,
    predict,
    shifted,
    trained,
    write,
)
from tests.hub_fixtures import hub_env, hub_server  # noqa: F401  (fixtures)
from zoo import artifacts, registry
from zoo.cli import main as cli
from zoo.hub import HubError
from zoo.loading import PACKAGE_DIR
from zoo.publish import PublishError, file_checksums, is_published, prepare

REPO = "zoo-test/mlp-classifier-publish"


def quiet(*args):
    pass


def writes(server):
    """Requests that change something on the Hub."""
    return [(e.method, e.path) for e in server.log if e.method in ("POST", "PUT", "DELETE")
            and not e.path.endswith(("/preupload/main", "/validate-yaml"))]


def remote_files(repo_id=REPO, revision=None):
    return sorted(HfApi().list_repo_files(repo_id, revision=revision))


# ---------------------------------------------------------------------------------------------------------------------
# what gets published


def test_publish_uploads_only_the_artifact_in_one_commit(hub_env, trained, artifact, capsys):
    (artifact / "checkpoint").mkdir()
    (artifact / "checkpoint" / "model.keras").write_bytes(b"optimizer state")
    (artifact / "notes.txt").write_text("scratch")
    result = zoo.publish(artifact, REPO)
    assert remote_files() == sorted([".gitattributes", *artifacts.artifact_files(trained.folder)])
    commits = HfApi().list_repo_commits(REPO)
    assert [c.commit_id for c in commits] == [result.commit_sha, commits[1].commit_id] and len(commits) == 2
    assert result.url == f"{hub_env.endpoint}/{REPO}" and result.revision == "main"
    assert result.hub_id == f"hf://{REPO}@{result.commit_sha}"
    out = capsys.readouterr().out
    assert result.url in out and result.commit_sha in out and f'zoo.load("hf://{REPO}@{result.commit_sha}")' in out


def test_the_card_names_the_hub_id_and_the_checksums_still_hold(hub_env, artifact):
    zoo.publish(artifact, REPO, log=quiet)
    card = Path(hf_hub_download(REPO, "README.md")).read_text()
    assert card.startswith("---\nlibrary_name: keras")
    assert f'zoo.load("hf://{REPO}")' in card and f'keras.saving.load_model("hf://{REPO}")' in card
    assert "assets/training_curve.png" in card
    assert (artifact / "README.md").read_text() == card  # written into the artifact too
    artifacts.verify_artifact(artifact)  # ... with fresh checksums


def test_publishing_again_unchanged_makes_no_new_commit(hub_env, artifact):
    first = zoo.publish(artifact, REPO, log=quiet)
    assert zoo.publish(artifact, REPO, log=quiet).commit_sha == first.commit_sha
    assert len(HfApi().list_repo_commits(REPO)) == 2


def test_a_new_artifact_replaces_the_old_files(hub_env, trained, artifact, tmp_path):
    artifacts.write_artifact(artifact, trained.model, zoo_metadata=artifacts.read_metadata(artifact)["zoo"],
                             assets={"old_samples.png": CURVE_PNG})
    zoo.publish(artifact, REPO, log=quiet)
    assert "assets/old_samples.png" in remote_files()
    newer = write(tmp_path / "newer", shifted(trained.folder, 0.1))
    second = zoo.publish(newer, REPO, log=quiet)
    assert remote_files() == sorted([".gitattributes", *artifacts.artifact_files(newer)])
    assert is_published(newer, REPO, second.commit_sha)


def test_is_published_compares_every_file(hub_env, artifact):
    result = zoo.publish(artifact, REPO, log=quiet)
    assert is_published(artifact, REPO, result.commit_sha)
    assert not is_published(artifact, "zoo-test/absent", "main")
    assert not is_published(artifact, REPO, "no-such-branch")
    (artifact / "recipe.yaml").write_text("changed: true\n")
    assert not is_published(artifact, REPO, result.commit_sha)


# ---------------------------------------------------------------------------------------------------------------------
# what is refused


def test_an_artifact_that_misses_its_target_is_refused_unless_forced(hub_env, trained, tmp_path):
    folder = write(tmp_path / "weak", trained.model, meets_target=False, accuracy=0.5)
    with pytest.raises(PublishError) as err:
        zoo.publish(folder, REPO, log=quiet)
    assert all(s in str(err.value) for s in ("accuracy", "0.5000", "0.8", "--force"))
    assert writes(hub_env.server) == []  # nothing was created
    assert zoo.publish(folder, REPO, force=True, log=quiet).commit_sha


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "model.weights.h5").unlink(), "model.weights.h5 is missing"),
    (lambda f: (f / "recipe.yaml").unlink(), "recipe.yaml is recorded .* but missing"),
    (lambda f: (f / "config.json").write_text((f / "config.json").read_text() + " "),
     "checksum mismatch for config.json"),
    (lambda f: (f / "assets" / "extra.png").write_bytes(b"x"), "assets/extra.png not covered by the checksums"),
    (lambda f: (f / "metadata.json").unlink(), "metadata.json is missing"),
])
def test_an_incomplete_or_altered_artifact_is_refused(hub_env, artifact, damage, message):
    damage(artifact)
    with pytest.raises(PublishError, match=message):
        zoo.publish(artifact, REPO, log=quiet)
    assert writes(hub_env.server) == []


def test_an_artifact_without_recorded_results_is_refused(hub_env, trained, tmp_path):
    folder = artifacts.write_artifact(tmp_path / "bare", trained.model, zoo_metadata={"name": "x"},
                                      recipe_yaml="name: x\n")
    with pytest.raises(PublishError, match="records no test metrics"):
        zoo.publish(folder, REPO, log=quiet)


def test_an_artifact_that_does_not_load_is_refused(hub_env, artifact):
    config = json.loads((artifact / "config.json").read_text())
    config["class_name"], config["registered_name"] = "NoSuchModel", "zoo>NoSuchModel"
    (artifact / "config.json").write_text(json.dumps(config))
    artifacts.write_metadata(artifact, artifacts.read_metadata(artifact))
    with pytest.raises(PublishError, match="does not load"):
        zoo.publish(artifact, REPO, log=quiet)


def test_publishing_offline_is_refused(hub_env, artifact):
    hub_env.set_offline()
    with pytest.raises(HubError, match="HF_HUB_OFFLINE"):
        zoo.publish(artifact, REPO, log=quiet)


def test_publishing_without_a_token_says_how_to_log_in(hub_env, artifact, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(HubError, match="hf auth login"):
        zoo.publish(artifact, REPO, log=quiet)


# ---------------------------------------------------------------------------------------------------------------------
# branches and pull requests


def test_revision_publishes_to_a_new_branch_and_leaves_main(hub_env, trained, artifact, tmp_path):
    main = zoo.publish(artifact, REPO, log=quiet)
    newer = write(tmp_path / "newer", shifted(trained.folder, 0.25))
    dev = zoo.publish(newer, REPO, revision="dev", log=quiet)
    refs = {ref.name: ref.target_commit for ref in HfApi().list_repo_refs(REPO).branches}
    assert refs == {"main": main.commit_sha, "dev": dev.commit_sha} and dev.revision == "dev"
    again = zoo.publish(write(tmp_path / "newest", shifted(trained.folder, 0.5)), REPO, revision="dev", log=quiet)
    assert HfApi().model_info(REPO, revision="dev").sha == again.commit_sha != dev.commit_sha
    assert_same(predict(zoo.load(f"hf://{REPO}@{dev.commit_sha}"), trained.x), predict(zoo.load(newer), trained.x))
    assert_same(predict(zoo.load(f"hf://{REPO}"), trained.x), trained.expected)


def test_create_pr_opens_a_pull_request_and_leaves_main(hub_env, trained, artifact, tmp_path, capsys):
    main = zoo.publish(artifact, REPO, log=quiet)
    pr = zoo.publish(write(tmp_path / "newer", shifted(trained.folder, 0.25)), REPO, create_pr=True)
    assert pr.revision == "refs/pr/1" and pr.pr_url.endswith("/discussions/1")
    assert pr.pr_url in capsys.readouterr().out
    assert HfApi().model_info(REPO).sha == main.commit_sha
    assert HfApi().model_info(REPO, revision="refs/pr/1").sha == pr.commit_sha


def test_create_pr_into_a_fresh_repository(hub_env, artifact):
    pr = zoo.publish(artifact, REPO, create_pr=True, private=True, log=quiet)
    assert pr.revision == "refs/pr/1" and HfApi().model_info(REPO).private is True
    assert remote_files() == [".gitattributes"]


def test_create_pr_with_a_branch_and_a_commit_sha_revision_are_refused(hub_env, artifact):
    with pytest.raises(ValueError, match="pull request is opened against main"):
        zoo.publish(artifact, REPO, revision="dev", create_pr=True, log=quiet)
    with pytest.raises(ValueError, match="commit sha"):
        zoo.publish(artifact, REPO, revision="a" * 40, log=quiet)
    assert hub_env.server.log == []


# ---------------------------------------------------------------------------------------------------------------------
# the token


SECRET = "hf_zoo_secret_token_must_not_leak_0123456789"


def test_the_token_never_leaks(hub_env, artifact, capsys, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    result = zoo.publish(artifact, REPO, token=SECRET)
    with pytest.raises(PublishError):  # an error path too
        zoo.publish(write(tmp_path / "weak", zoo.load(artifact), meets_target=False), REPO, token=SECRET)
    assert hub_env.server.log and all(e.token_sent for e in hub_env.server.log if e.method == "POST")
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err + caplog.text
    stored = [p for p in hub_env.server.store.root.rglob("*") if p.is_file()]
    assert stored and not any(SECRET.encode() in p.read_bytes() for p in stored)
    assert not any(SECRET.encode() in p.read_bytes() for p in artifact.rglob("*") if p.is_file())
    assert result.commit_sha


def test_the_cli_token_comes_from_the_environment_and_is_not_printed(hub_env, artifact, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    assert cli(["publish", str(artifact), "--repo", REPO, "--revision", "dev", "--private"]) == 0
    captured = capsys.readouterr()
    assert "dev" in captured.out and f"hf://{REPO}@" in captured.out
    assert SECRET not in captured.out + captured.err
    assert HfApi().model_info(REPO).private is True


# ---------------------------------------------------------------------------------------------------------------------
# the command line


def test_cli_publish_reports_the_commit_and_refuses_clearly(hub_env, trained, artifact, tmp_path, capsys):
    assert cli(["publish", str(artifact), "--repo", REPO]) == 0
    sha = HfApi().model_info(REPO).sha
    assert sha in capsys.readouterr().out
    weak = write(tmp_path / "weak", trained.model, meets_target=False, accuracy=0.5)
    assert cli(["publish", str(weak), "--repo", REPO]) == 1
    assert "--force" in capsys.readouterr().err
    assert cli(["publish", str(weak), "--repo", REPO, "--force", "--create-pr"]) == 0
    assert "discussions/1" in capsys.readouterr().out
    assert cli(["publish", str(tmp_path / "nothing"), "--repo", REPO]) == 1
    assert "no such artifact directory" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------------
# scripts/publish_all.py


@pytest.fixture
def publish_all():
    spec = importlib.util.spec_from_file_location("publish_all", REPO_ROOT / "scripts" / "publish_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture
def bundled_variant(artifact):
    """A registered variant bundled in a temporary folder, as the catalogue would list it."""

    def register(**fields):
        registry._PRETRAINED.pop("mlp_classifier.pubtest", None)
        fields = {"hub_repo": REPO, "bundled": os.path.relpath(artifact, PACKAGE_DIR),
                  "files": file_checksums(artifact), **fields}
        return registry.register_pretrained(registry.PretrainedVariant(
            name="mlp_classifier.pubtest", architecture="mlp_classifier", dataset="toy",
            recipe="recipes/none.yaml", config={}, metrics={"accuracy": 0.9}, target={"accuracy": 0.8},
            **fields))

    yield register
    registry._PRETRAINED.pop("mlp_classifier.pubtest", None)


def test_publish_all_dry_run_changes_nothing(hub_env, artifact, bundled_variant, publish_all, capsys):
    bundled_variant()
    before = file_checksums(artifact)
    assert publish_all(["--dry-run", "--only", "mlp_classifier.pubtest"]) == 0
    assert "would publish" in capsys.readouterr().out
    assert hub_env.server.log == [] and file_checksums(artifact) == before


def test_publish_all_publishes_prints_pins_then_skips(hub_env, trained, artifact, bundled_variant, publish_all,
                                                     capsys):
    bundled_variant()
    assert publish_all(["--only", "mlp_classifier.pubtest"]) == 0
    out = capsys.readouterr().out
    assert "| mlp_classifier.pubtest | " + REPO in out and "published" in out
    pins = json.loads(out[out.index("{"):])["mlp_classifier.pubtest"]
    assert pins["revision"] == HfApi().model_info(REPO).sha and pins["hub_repo"] == REPO
    assert pins["files"] == file_checksums(artifact)  # the bundled copy now carries the Hub card
    # pinned as printed: the bundled copy verifies, so does the Hub copy, and nothing is re-published
    bundled_variant(revision=pins["revision"], files=pins["files"])
    assert_same(predict(zoo.load("mlp_classifier.pubtest"), trained.x), trained.expected)
    bundled_variant(revision=pins["revision"], files=pins["files"], bundled=None)
    assert_same(predict(zoo.load("mlp_classifier.pubtest"), trained.x), trained.expected)
    bundled_variant(revision=pins["revision"], files=pins["files"])
    hub_env.server.clear_log()
    assert publish_all(["--only", "mlp_classifier.pubtest"]) == 0
    assert "up to date" in capsys.readouterr().out and writes(hub_env.server) == []


def test_publish_all_reports_a_bundled_copy_that_fails_its_checksums(hub_env, artifact, bundled_variant,
                                                                      publish_all, capsys):
    bundled_variant()
    (artifact / "recipe.yaml").write_text("altered\n")
    assert publish_all(["--only", "mlp_classifier.pubtest"]) == 1
    assert "FAILED" in capsys.readouterr().out and hub_env.server.log == []


def test_prepare_is_idempotent(hub_env, artifact):
    prepare(artifact, REPO)
    once = file_checksums(artifact)
    prepare(artifact, REPO)
    assert file_checksums(artifact) == once
    prepare(artifact, "zoo-test/other-name")
    assert file_checksums(artifact)["README.md"] != once["README.md"]
