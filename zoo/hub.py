"""Download, cache and verify zoo artifacts from the Hugging Face Hub.

Files go into the standard Hugging Face cache (``HF_HUB_CACHE``) through
``huggingface_hub.hf_hub_download``. Every file is checked against a sha256 the zoo already
trusts (the catalogue's, or for a bare ``hf://`` id the sha256 that the artifact's own
metadata.json records) before anything reads it. A file that fails is removed from the
cache, snapshot link and blob, so that the next call downloads it again instead of
reusing it. Settings (endpoint, cache folder, ``HF_HUB_OFFLINE``) are read from
``huggingface_hub.constants`` at call time.

Example:
    >>> from zoo import hub
    >>> hub.parse_hub_id("hf://keras-zoo/convnet.digits@v1")
    ('keras-zoo/convnet.digits', 'v1')
    >>> hub.parse_hub_id("hf://keras-zoo/convnet.digits")
    ('keras-zoo/convnet.digits', 'main')
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath

from zoo.artifacts import CONFIG, METADATA, WEIGHTS, ArtifactError, sha256_file

HF_PREFIX = "hf://"
DEFAULT_REVISION = "main"
_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class HubError(OSError):
    """The Hub could not provide a model's files: unknown repository, revision or file,
    offline mode with nothing cached, or a network failure. The message says what to do."""


class ChecksumError(ArtifactError):
    """A file whose sha256 differs from the one recorded for it; it was not used.

    `filename`, `expected` and `actual` name the file and both checksums (`actual` is None
    when the download was rejected before it could be hashed).
    """

    def __init__(self, message, *, filename, expected, actual):
        super().__init__(message)
        self.filename, self.expected, self.actual = filename, expected, actual


def parse_hub_id(ref: str) -> tuple[str, str]:
    """(repo_id, revision) of ``hf://org/name[@revision]``; the revision defaults to main."""
    body = ref[len(HF_PREFIX):] if ref.startswith(HF_PREFIX) else ref
    repo_id, _, revision = body.partition("@")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts):
        raise ValueError(
            f"expected a Hub id 'hf://org/name' or 'hf://org/name@revision'; got {ref!r}")
    return repo_id, revision or DEFAULT_REVISION


def download_artifact(repo_id: str, revision: str = DEFAULT_REVISION, *,
                      name: str | None = None) -> Path:
    """Download a zoo artifact and verify every file against its metadata.json.

    The revision (branch, tag or commit) is resolved once, so every file comes from the same
    commit. Returns the verified snapshot folder in the Hugging Face cache.
    """
    what = name or f"{HF_PREFIX}{repo_id}@{revision}"
    meta_path = _download(repo_id, METADATA, revision, what)
    commit = meta_path.parent.name
    _check_against_etag(meta_path, METADATA, what)
    files = _recorded_files(meta_path, what)
    return download_files(repo_id, {METADATA: None, **files}, commit, name=what)


def download_files(repo_id: str, files, revision: str = DEFAULT_REVISION, *,
                   name: str | None = None) -> Path:
    """Download `files` ({path in repo: sha256}) at one revision and verify each one.

    A sha256 of None skips that file's check (for the file that records the others).
    Returns the snapshot folder that holds them all.
    """
    what = name or f"{HF_PREFIX}{repo_id}@{revision}"
    folder = None
    for filename, expected in files.items():
        _check_relative(filename, what)
        path = _download(repo_id, filename, revision, what)
        here = _snapshot_folder(path, filename)
        if folder is None:
            folder, revision = here, here.name  # a branch is resolved once: same commit for all
        if expected is not None:
            check_sha256(path, expected, filename, what, evict_on_failure=True)
    return folder


def check_sha256(path, expected: str, filename: str, what: str, *, evict_on_failure: bool = False):
    """Raise `ChecksumError` unless `path` has sha256 `expected`; optionally evict it."""
    actual = sha256_file(path)
    if actual == expected:
        return
    if evict_on_failure:
        evict(path)
        fix = ("It was not used and was removed from the Hugging Face cache, so the next call "
               "downloads it again. If this repeats, the copy on the Hub is corrupted or was "
               "altered: do not use it, and tell the model's publisher.")
    else:
        fix = "It was not used. The file was altered or corrupted: restore or reinstall it."
    raise ChecksumError(
        f"{what}: checksum mismatch for {filename}: expected sha256 {expected}, "
        f"got {actual}. {fix}",
        filename=filename, expected=expected, actual=actual,
    )


def evict(path) -> None:
    """Remove a cached file: its snapshot link and the blob it points to."""
    path = Path(path)
    blob = path.resolve() if path.is_symlink() else None
    path.unlink(missing_ok=True)
    if blob is not None and blob.parent.name == "blobs":
        blob.unlink(missing_ok=True)


def _snapshot_folder(path: Path, filename: str) -> Path:
    folder = path
    for _ in PurePosixPath(filename).parts:
        folder = folder.parent
    return folder


def _check_relative(filename: str, what: str) -> None:
    parts = PurePosixPath(filename).parts
    if (not parts or filename.startswith("/") or "\\" in filename
            or any(p in ("", ".", "..") for p in parts)):
        raise ArtifactError(
            f"{what}: refusing the file name {filename!r}: not a plain relative path.")


def _recorded_files(meta_path: Path, what: str) -> dict:
    try:
        metadata = json.loads(meta_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ArtifactError(f"{what}: {METADATA} is not valid JSON ({err}).") from None
    files = metadata.get("files") if isinstance(metadata, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) and _SHA256.fullmatch(v)
                                              for v in files.values()):
        raise ArtifactError(
            f"{what} is not a zoo artifact: its {METADATA} records no sha256 'files', so its "
            "files cannot be verified. Publish it with `zoo publish`, or if you trust it, load "
            "it with keras.saving.load_model(...) after `import zoo`."
        )
    missing = [n for n in (CONFIG, WEIGHTS) if n not in files]
    if missing:
        raise ArtifactError(f"{what}: {METADATA} records no checksum for {', '.join(missing)}.")
    return {n: files[n] for n in files if n != METADATA}


def _check_against_etag(path: Path, filename: str, what: str) -> None:
    """The Hub's ETag, which names the cached blob, is the file's git blob sha1 (its sha256
    for LFS files): a cheap check of the one file that no sha256 of ours covers."""
    if not path.is_symlink():
        return
    etag = path.resolve().name
    data = path.read_bytes()
    if _COMMIT_SHA.fullmatch(etag):
        actual = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    elif _SHA256.fullmatch(etag):
        actual = hashlib.sha256(data).hexdigest()
    else:
        return
    if actual != etag:
        evict(path)
        raise ChecksumError(
            f"{what}: {filename} does not match the Hub's record of it (ETag {etag}, got "
            f"{actual}). It was not used and was removed from the cache; try again, and if this "
            "repeats the copy on the Hub is corrupted or was altered.",
            filename=filename, expected=etag, actual=actual,
        )


def _transport_errors() -> tuple:
    try:
        import httpx2
    except ImportError:  # another HTTP library in another client version
        return (ConnectionError, TimeoutError)
    return (httpx2.TransportError, ConnectionError, TimeoutError)


def _download(repo_id: str, filename: str, revision: str, what: str) -> Path:
    """hf_hub_download into the standard cache, with every failure turned into a zoo message."""
    from huggingface_hub import constants, errors, hf_hub_download

    where = f"{repo_id}@{revision}"
    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision))
    except errors.RepositoryNotFoundError:
        raise HubError(
            f"{what}: the Hub at {constants.ENDPOINT} has no model repository {repo_id!r} (or it "
            "is private and no token with access to it was sent). Check the name; for a private "
            "repository log in with `hf auth login` or set HF_TOKEN."
        ) from None
    except errors.RevisionNotFoundError:
        raise HubError(
            f"{what}: {repo_id} has no revision {revision!r} (branch, tag or commit). Check it "
            f"against {constants.ENDPOINT}/{repo_id}/commits/main, or leave it out to use main."
        ) from None
    except errors.RemoteEntryNotFoundError:
        raise HubError(
            f"{what}: {where} has no file {filename!r}, so it is not a complete zoo artifact at "
            "that revision. Pin a revision that has it, or publish the artifact again with "
            "`zoo publish`."
        ) from None
    except errors.LocalEntryNotFoundError:
        raise _not_cached(what, filename, where) from None
    except errors.HfHubHTTPError as err:
        status = getattr(getattr(err, "response", None), "status_code", "?")
        hint = (" Log in with `hf auth login` or set HF_TOKEN to a token that can read it."
                if status in (401, 403) else " Try again later.")
        raise HubError(f"{what}: the Hub answered HTTP {status} for {filename} of {where}: "
                       f"{err}.{hint}") from None
    except _transport_errors() as err:
        raise HubError(
            f"{what}: the download of {filename} from {where} failed ({type(err).__name__}: "
            f"{err}); the client retried and kept nothing partial. Check your connection and "
            "run again."
        ) from None
    except OSError as err:
        if "Consistency check failed" not in str(err):
            raise
        raise ChecksumError(
            f"{what}: the download of {filename} from {where} has the wrong size ({err}). It "
            "was not used; run again, and if this repeats the copy on the Hub is damaged.",
            filename=filename, expected=None, actual=None,
        ) from None


def _not_cached(what: str, filename: str, where: str) -> HubError:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return HubError(
            f"{what} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}): "
            f"{filename} of {where} is missing, and offline mode (HF_HUB_OFFLINE=1) forbids "
            "downloading it. Either connect and unset HF_HUB_OFFLINE (or set it to 0) to "
            f"download it once; or copy the files into this cache (e.g. `hf download "
            f"{where.split('@')[0]} --revision {where.split('@')[1]}` on a connected machine, "
            "then copy its cache folder here); or load a local artifact folder with zoo.load(path)."
        )
    return HubError(
        f"{what}: could not reach the Hub at {constants.ENDPOINT} to download {filename} of "
        f"{where}, and it is not in the local cache ({constants.HF_HUB_CACHE}). Check your "
        "network connection (and HF_ENDPOINT) and try again; or copy the files into the cache "
        "and set HF_HUB_OFFLINE=1."
    )
