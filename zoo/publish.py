"""Publish an artifact to the Hugging Face Hub: validate it, write its model card, upload it.

Only the artifact's own files go up (`artifacts.artifact_files`: no checkpoints, no stray
files), in one commit; files the target branch holds from an earlier artifact are deleted
in that same commit, so every revision is exactly one artifact. The token comes from the
`token` argument, ``HF_TOKEN`` or your ``hf auth login``; it is never printed or written.

Example:
    >>> import zoo
    >>> published = zoo.publish("runs/convnet.digits", "my-org/convnet.digits")  # doctest: +SKIP
    Published convnet.digits to https://huggingface.co/my-org/convnet.digits (main) ...
    >>> model = zoo.load(published.hub_id)  # the pinned commit              # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from zoo import artifacts, hub, loading
from zoo.artifacts import ASSETS, CARD, METADATA, RECIPE, REQUIRED, ArtifactError
from zoo.model_card import render_card
from zoo.training.checkpoint import atomic_write_text

PUBLISH_REQUIRED = (*REQUIRED, RECIPE)
CURVE = "training_curve.png"
KEPT_REMOTE = {".gitattributes"}  # the Hub's own file in every repository


class PublishError(ArtifactError):
    """An artifact that must not be published as it is (the message says why and what to do)."""


@dataclass(frozen=True)
class Published:
    """Where a publish went: the repository URL and the commit to pin."""

    repo_id: str
    url: str
    revision: str
    commit_sha: str
    pr_url: str | None = None

    @property
    def hub_id(self) -> str:
        """``hf://org/name@<commit>``: what `zoo.load` takes to get exactly this upload."""
        return f"{hub.HF_PREFIX}{self.repo_id}@{self.commit_sha}"


def publish(artifact_dir, repo_id: str, revision: str | None = None, private: bool = False,
            create_pr: bool = False, force: bool = False, token: str | None = None, *,
            commit_message: str | None = None, log=print) -> Published:
    """Validate `artifact_dir`, write its model card for `repo_id`, upload it in one commit.

    `revision` is a branch (created when new; default main); `create_pr` opens a pull
    request against main instead. An artifact that misses its target is refused unless
    `force`. Returns (and logs) the repository URL and the commit sha to pin.
    """
    _check_request(repo_id, revision, create_pr)
    folder = Path(artifact_dir)
    metadata = prepare(folder, repo_id, force=force)
    zoo_meta = metadata["zoo"]
    branch = revision or hub.DEFAULT_REVISION
    message = commit_message or (
        f"Publish {zoo_meta.get('name', folder.name)} ({zoo_meta['metric']} "
        f"{_value(zoo_meta):.4f}) with keras-zoo"
    )
    with _hub_errors(repo_id, branch):
        info = _upload(folder, repo_id, branch, private, create_pr, token, message)
    published = Published(repo_id, str(info.repo_url), info.pr_revision or branch, info.oid,
                          info.pr_url)
    where = f"pull request {published.pr_url}" if published.pr_url else published.revision
    log(f"Published {zoo_meta.get('name', folder.name)} to {published.url} ({where}) "
        f"in commit {published.commit_sha}")
    log(f'Pin it: zoo.load("{published.hub_id}")')
    return published


def validate(artifact_dir, *, force: bool = False) -> dict:
    """Check that an artifact may be published; returns its metadata.

    Every file present and matching its recorded sha256, no unrecorded file, metrics and
    target recorded, the target met (unless `force`), and the model loads.
    """
    folder = Path(artifact_dir)
    try:
        metadata = artifacts.verify_artifact(folder)
    except ArtifactError as err:
        raise PublishError(f"refusing to publish: {err}") from None
    missing = [n for n in PUBLISH_REQUIRED if not (folder / n).is_file()]
    recorded = metadata.get("files", {})
    unrecorded = [n for n in artifacts.artifact_files(folder)
                  if n != METADATA and n not in recorded]
    if missing or unrecorded:
        raise PublishError(
            f"refusing to publish {folder}: "
            + (f"missing {', '.join(missing)}. " if missing else "")
            + (f"{', '.join(unrecorded)} not covered by the checksums in {METADATA} (added "
               "after the artifact was written?). " if unrecorded else "")
            + "Write the artifact again with `zoo train` (or artifacts.write_artifact)."
        )
    _check_results(folder, metadata.get("zoo"), force)
    try:
        loading.load_verified(folder, compile=False)
    except Exception as err:  # any failure to rebuild the model: report it, publish nothing
        raise PublishError(f"refusing to publish {folder}: it does not load ({err}).") from err
    return metadata


def prepare(artifact_dir, repo_id: str, *, force: bool = False) -> dict:
    """Validate, then write the model card for `repo_id` into the artifact (and fresh
    checksums). Idempotent: an artifact already prepared for `repo_id` is left unchanged."""
    folder = Path(artifact_dir)
    metadata = validate(folder, force=force)
    assets = folder / ASSETS
    grids = sorted(p.name for p in assets.glob("*.png") if p.name != CURVE)
    card = render_card(metadata["zoo"], (folder / RECIPE).read_text(), hub_id=repo_id,
                       has_curve=(assets / CURVE).is_file(), sample_grids=grids)
    if not (folder / CARD).is_file() or (folder / CARD).read_text() != card:
        atomic_write_text(folder / CARD, card)
        metadata = artifacts.write_metadata(folder, metadata)
    return metadata


def file_checksums(artifact_dir) -> dict:
    """{file: sha256} of every artifact file, metadata.json included: a catalogue's `files`."""
    folder = Path(artifact_dir)
    return {n: artifacts.sha256_file(folder / n) for n in artifacts.artifact_files(folder)}


def is_published(artifact_dir, repo_id: str, revision: str, token: str | None = None) -> bool:
    """Whether `revision` of `repo_id` holds exactly the files of `artifact_dir`, byte for byte
    (compared with the Hub's sha256 for LFS files and git blob sha1 for the others)."""
    from huggingface_hub import HfApi, errors

    folder = Path(artifact_dir)
    with _hub_errors(repo_id, revision):
        try:
            tree = HfApi(token=token).list_repo_tree(repo_id, revision=revision, recursive=True)
            remote = {e.path: e for e in tree if hasattr(e, "blob_id")}
        except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError):
            return False
    names = artifacts.artifact_files(folder)
    if set(remote) - KEPT_REMOTE != set(names):
        return False
    for name in names:
        entry, path = remote[name], folder / name
        if entry.lfs is not None:
            if entry.lfs.sha256 != artifacts.sha256_file(path):
                return False
        elif entry.blob_id != _git_blob_sha1(path):
            return False
    return True


def _check_request(repo_id, revision, create_pr):
    from huggingface_hub import constants

    hub.parse_hub_id(repo_id)  # org/name
    if revision and hub._COMMIT_SHA.fullmatch(revision):
        raise ValueError(f"revision {revision!r} is a commit sha; publish to a branch name.")
    if create_pr and revision not in (None, hub.DEFAULT_REVISION):
        raise ValueError(
            f"a pull request is opened against main, so create_pr cannot go with revision "
            f"{revision!r}: use --revision BRANCH without --create-pr, or --create-pr alone."
        )
    if constants.HF_HUB_OFFLINE:
        raise hub.HubError(f"cannot publish to {repo_id}: offline mode is on (HF_HUB_OFFLINE=1). "
                           "Unset it (or set it to 0) and connect to the network.")


def _check_results(folder, zoo_meta, force):
    if not isinstance(zoo_meta, dict) or not zoo_meta.get("metrics") or "metric" not in zoo_meta:
        raise PublishError(
            f"refusing to publish {folder}: {METADATA} records no test metrics (a 'zoo' section "
            "with 'metric' and 'metrics'). Train it with `zoo train` so its results are recorded."
        )
    if zoo_meta["metric"] not in zoo_meta["metrics"] or "target" not in zoo_meta:
        raise PublishError(f"refusing to publish {folder}: {METADATA} records no value or "
                           f"target for its metric {zoo_meta['metric']!r}.")
    if zoo_meta.get("meets_target") is True or force:
        return
    raise PublishError(
        f"refusing to publish {zoo_meta.get('name', folder)}: its {zoo_meta['metric']} is "
        f"{_value(zoo_meta):.4f} but its target is {zoo_meta['target']} (goal: "
        f"{zoo_meta.get('goal', '?')}), so meets_target is {zoo_meta.get('meets_target')}. "
        "Retrain it to reach the target, or pass force=True (zoo publish --force) to publish "
        "anyway."
    )


def _value(zoo_meta):
    return float(zoo_meta["metrics"][zoo_meta["metric"]])


def _upload(folder, repo_id, branch, private, create_pr, token, message):
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

    from zoo import __version__

    api = HfApi(token=token, library_name="keras-zoo", library_version=__version__)
    api.create_repo(repo_id, private=private, exist_ok=True)
    if branch != hub.DEFAULT_REVISION and not branch.startswith("refs/pr/"):
        api.create_branch(repo_id, branch=branch, exist_ok=True)
    names = artifacts.artifact_files(folder)
    stale = set(api.list_repo_files(repo_id, revision=branch)) - set(names) - KEPT_REMOTE
    operations = [CommitOperationAdd(path_in_repo=n, path_or_fileobj=str(folder / n))
                  for n in names]
    operations += [CommitOperationDelete(path_in_repo=p) for p in sorted(stale)]
    return api.create_commit(repo_id, operations, commit_message=message, create_pr=create_pr,
                             revision=None if create_pr else branch)


def _git_blob_sha1(path) -> str:
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _hub_errors:
    """Turn the client's errors on a write or listing into zoo messages that say what to do."""

    def __init__(self, repo_id, revision):
        self.repo_id, self.revision = repo_id, revision

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        from huggingface_hub import constants, errors

        where = f"{self.repo_id} ({self.revision})"
        if err is None:
            return False
        if isinstance(err, errors.RevisionNotFoundError):
            text = f"{where} has no such revision. Check the branch or pull request name."
        elif isinstance(err, errors.RepositoryNotFoundError):
            text = (f"no repository {self.repo_id} that this token can write to: check the name, "
                    "and that the token belongs to its owner or organisation.")
        elif isinstance(err, errors.HfHubHTTPError):
            status = getattr(getattr(err, "response", None), "status_code", "?")
            text = {401: "the Hub refused the credentials: set HF_TOKEN, pass token= or run "
                         "`hf auth login` with a token that has write access.",
                    403: f"the token has no write access to {self.repo_id}: use a token with "
                         "write access, or a repository in a namespace you own."}.get(
                             status, f"the Hub answered HTTP {status}: {err}")
        elif isinstance(err, errors.LocalTokenNotFoundError):
            text = ("no Hugging Face token found; publishing needs one with write access: pass "
                    "token=, set HF_TOKEN, or run `hf auth login`.")
        elif isinstance(err, (ArtifactError, hub.HubError, ValueError)):
            return False
        elif isinstance(err, (*hub._transport_errors(), OSError)):
            text = (f"could not reach the Hub at {constants.ENDPOINT} ({type(err).__name__}: "
                    f"{err}). Check your connection and run again.")
        else:
            return False
        raise hub.HubError(f"cannot publish to {where}: {text}") from None
