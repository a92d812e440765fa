"""A small Hugging Face Hub look-alike on loopback, for end-to-end tests of the real client.

The unmodified ``huggingface_hub`` client talks to it through ``HF_ENDPOINT`` (see
``tests/hub_fixtures.py``). Standard library only.

What it serves (the part of the Hub HTTP API that uploads and downloads use):

- ``POST /api/repos/create``, ``DELETE /api/repos/delete``
- ``GET /api/{models|datasets|spaces}/{repo}[/revision/{rev}]``  (repo_info / model_info)
- ``POST .../preupload/{rev}`` (every file is "regular": no LFS, no Xet) and ``POST .../commit/{rev}``
  (NDJSON: header, file, deletedFile, deletedFolder; ``?create_pr=1`` opens ``refs/pr/N``)
- ``GET .../refs``, ``GET .../tree/{rev}[/{path}]``, ``GET .../commits/{rev}``, ``POST .../paths-info/{rev}``
- ``POST|DELETE .../branch/{name}``, ``POST .../tag/{rev}``, ``DELETE .../tag/{name}``
- ``HEAD|GET /[{datasets|spaces}/]{repo}/resolve/{rev}/{path}`` with ``ETag``, ``X-Repo-Commit``,
  ``Content-Length`` and single-range ``Range`` requests (206 / 416). As on the Hub, the ETag is the git blob sha1,
  or, for files the repo's .gitattributes tracks with LFS (``*.h5``, ``*.bin``, ... from the initial commit), the
  sha256 (also sent as ``X-Linked-Etag`` with ``X-Linked-Size``); the Hub would redirect those to its CDN, we serve
  them directly. Writes need a Bearer token (any); private repos answer 401 RepoNotFound without one.
- ``GET /api/whoami-v2``, ``POST /api/validate-yaml``, ``GET /api/agent-harnesses`` (empty registry)

Errors carry the Hub's ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``) so the client
raises its specific exceptions. Repositories live on disk with real commits: content-addressed blobs, one JSON file
per immutable commit (a full ``path -> blob`` tree), and mutable refs (branches, tags, pull requests).

Test hooks on :class:`HubServer`: :meth:`~HubServer.tamper`, :meth:`~HubServer.cut_next_download`,
:meth:`~HubServer.add_commit`, the request log (:attr:`~HubServer.log`, :attr:`~HubServer.requests`) and
:meth:`~HubServer.stop`.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_BRANCH = "main"
DEFAULT_NAMESPACE = "test-user"  # the "user" every token belongs to (the Hub uses the token's owner)
REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
CHUNK_SIZE = 64 * 1024

# The Hub starts every repository with one commit holding a .gitattributes file; so do we.
INITIAL_GITATTRIBUTES = b"""\
*.bin filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.keras filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
"""


# --------------------------------------------------------------------------------------------------------------------
# Errors and small helpers
# --------------------------------------------------------------------------------------------------------------------


class HubError(Exception):
    """An error answer: HTTP status, the Hub's ``X-Error-Code`` (if any), a message, extra headers and body fields."""

    def __init__(self, status: int, message: str, error_code: str | None = None, headers: dict | None = None,
                 extra: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.headers = headers or {}
        self.extra = extra or {}


def repo_not_found(repo_id: str, status: int = 404) -> HubError:
    return HubError(status, f"Repository not found: {repo_id}", "RepoNotFound")


def revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def entry_not_found(path: str, commit: str | None = None) -> HubError:
    headers = {"X-Repo-Commit": commit} if commit else {}
    return HubError(404, f"Entry not found: {path}", "EntryNotFound", headers)


def bad_request(message: str) -> HubError:
    return HubError(400, message)


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob: what the Hub uses as ETag and oid for regular (non-LFS) files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file git stores in place of an LFS-tracked file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def lfs_patterns(gitattributes: bytes) -> list[str]:
    """The path patterns a .gitattributes file sends to git-lfs (``<pattern> filter=lfs ...``)."""
    lines = (line.split() for line in gitattributes.decode(errors="replace").splitlines())
    return [parts[0] for parts in lines if parts and not parts[0].startswith("#") and "filter=lfs" in parts[1:]]


def lfs_tracked(path: str, patterns: list[str]) -> bool:
    """Whether ``path`` matches a pattern (one without '/' matches the file name, as in git)."""
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(path if "/" in p else name, p.lstrip("/")) for p in patterns)


def utc_now() -> str:
    """The current time in the Hub's date format ("%Y-%m-%dT%H:%M:%S.%fZ", milliseconds)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def validate_repo_path(path: str) -> str:
    """A file path inside a repo: relative, POSIX, no '..' or empty parts."""
    if not path or "\\" in path or any(part in ("", ".", "..") for part in path.split("/")):
        raise bad_request(f"Invalid path in repo: {path!r}")
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_json(path: Path, obj) -> None:
    _write_atomic(path, json.dumps(obj, indent=1, sort_keys=True).encode())


def _read_json(path: Path):
    return json.loads(path.read_text())


# --------------------------------------------------------------------------------------------------------------------
# Storage: git-like repositories on disk
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class StoredFile:
    """One file of one commit: where its bytes are and how the Hub describes it."""

    path: str
    oid: str  # git blob sha1 of the committed content (the store's key)
    blob: Path  # its bytes on disk (tamper() may have changed them since)
    lfs: dict | None  # {"oid": sha256, "size", "pointerSize"} as committed, for LFS-tracked files

    @property
    def etag(self) -> str:
        """The Hub's ETag: sha256 for LFS files, git blob sha1 otherwise (fixed at commit time)."""
        return self.lfs["oid"] if self.lfs else self.oid

    @property
    def blob_id(self) -> str:
        """The git object id the Hub lists: the pointer file's for LFS files."""
        return git_blob_oid(lfs_pointer(self.lfs["oid"], self.lfs["size"])) if self.lfs else self.oid

    @property
    def size(self) -> int:
        return self.blob.stat().st_size

    def tree_entry(self) -> dict:
        entry = {"type": "file", "path": self.path, "oid": self.blob_id, "size": self.size}
        if self.lfs:
            entry["lfs"] = dict(self.lfs)
        return entry



class RepoStore:
    """Repositories on disk, laid out as::

        {root}/{type}s/{namespace}/{name}/
            repo.json            id, type, private, createdAt
            refs.json            {"branches": {name: sha}, "tags": {name: sha}, "pulls": {"N": sha}}
            commits/{sha}.json   id, parents, tree {path: blob oid}, lfs {path: {oid, size, pointerSize}},
                                 title, message, date, authors
            objects/{oid}        blob bytes, addressed by their git blob sha1

    Commits are immutable and keep a full tree, so any older revision can be served. All ref updates happen under
    one lock; blobs are written before the commit that names them.

    Like the Hub, files that the commit's .gitattributes sends to LFS (``*.h5`` ... in the initial commit) are
    described by their sha256 (ETag, tree ``lfs`` info), recorded at commit time; all other files by their git blob
    sha1. Uploads themselves are always "regular" (base64 in the commit payload), whatever the file.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._sequence = itertools.count()

    # -- layout ------------------------------------------------------------------------------------------------------

    def _repo_dir(self, repo_type: str, repo_id: str) -> Path:
        return self.root / f"{repo_type}s" / repo_id

    def _object_path(self, repo_type: str, repo_id: str, oid: str) -> Path:
        return self._repo_dir(repo_type, repo_id) / "objects" / oid

    def exists(self, repo_type: str, repo_id: str) -> bool:
        return (self._repo_dir(repo_type, repo_id) / "repo.json").is_file()

    # -- repositories ------------------------------------------------------------------------------------------------

    def create_repo(self, repo_type: str, repo_id: str, private: bool = False) -> bool:
        """Create a repo with an initial commit on ``main``; False (and no change) if it already exists."""
        with self._lock:
            if self.exists(repo_type, repo_id):
                return False
            repo_dir = self._repo_dir(repo_type, repo_id)
            _write_json(repo_dir / "refs.json", {"branches": {}, "tags": {}, "pulls": {}})
            meta = {"id": repo_id, "type": repo_type, "private": private, "createdAt": utc_now()}
            _write_json(repo_dir / "repo.json", meta)
            tree = {".gitattributes": self._write_blob(repo_type, repo_id, INITIAL_GITATTRIBUTES)}
            sha = self._write_commit(repo_type, repo_id, [], tree, "initial commit", "")
            self._update_refs(repo_type, repo_id, lambda refs: refs["branches"].__setitem__(DEFAULT_BRANCH, sha))
            return True

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        with self._lock:
            self.repo_meta(repo_type, repo_id)
            shutil.rmtree(self._repo_dir(repo_type, repo_id))

    def repo_meta(self, repo_type: str, repo_id: str) -> dict:
        if not self.exists(repo_type, repo_id):
            raise repo_not_found(repo_id)
        return _read_json(self._repo_dir(repo_type, repo_id) / "repo.json")

    # -- refs --------------------------------------------------------------------------------------------------------

    def refs(self, repo_type: str, repo_id: str) -> dict:
        self.repo_meta(repo_type, repo_id)
        return _read_json(self._repo_dir(repo_type, repo_id) / "refs.json")

    def _update_refs(self, repo_type: str, repo_id: str, change) -> None:
        with self._lock:
            refs = self.refs(repo_type, repo_id)
            change(refs)
            _write_json(self._repo_dir(repo_type, repo_id) / "refs.json", refs)

    def resolve(self, repo_type: str, repo_id: str, revision: str) -> str:
        """The commit sha a revision names: a branch, tag, ``refs/heads|tags|pr/...`` or a full commit sha."""
        with self._lock:
            refs = self.refs(repo_type, repo_id)
            kinds, name = self._ref_kinds(revision)
            for kind in kinds:
                if name in refs[kind]:
                    return refs[kind][name]
            if COMMIT_SHA.fullmatch(revision) and self._commit_path(repo_type, repo_id, revision).is_file():
                return revision
        raise revision_not_found(revision)

    @staticmethod
    def _ref_kinds(revision: str) -> tuple[tuple[str, ...], str]:
        """Which refs.json sections may hold ``revision``, in priority order, and the name to look up there."""
        for prefix, kind in (("refs/heads/", "branches"), ("refs/tags/", "tags"), ("refs/pr/", "pulls")):
            if revision.startswith(prefix):
                return (kind,), revision[len(prefix) :]
        return ("branches", "tags"), revision

    def create_branch(self, repo_type: str, repo_id: str, branch: str, starting_point: str | None) -> None:
        with self._lock:
            if branch in self.refs(repo_type, repo_id)["branches"]:
                raise HubError(409, f"Reference already exists: refs/heads/{branch}")
            sha = self.resolve(repo_type, repo_id, starting_point or DEFAULT_BRANCH)
            self._update_refs(repo_type, repo_id, lambda refs: refs["branches"].__setitem__(branch, sha))

    def delete_branch(self, repo_type: str, repo_id: str, branch: str) -> None:
        with self._lock:
            if branch == DEFAULT_BRANCH:
                raise HubError(403, "Cannot delete the default branch")
            if branch not in self.refs(repo_type, repo_id)["branches"]:
                raise revision_not_found(branch)
            self._update_refs(repo_type, repo_id, lambda refs: refs["branches"].pop(branch))

    def create_tag(self, repo_type: str, repo_id: str, tag: str, revision: str) -> None:
        with self._lock:
            if tag in self.refs(repo_type, repo_id)["tags"]:
                raise HubError(409, f"Tag already exists: {tag}")
            sha = self.resolve(repo_type, repo_id, revision)
            self._update_refs(repo_type, repo_id, lambda refs: refs["tags"].__setitem__(tag, sha))

    def delete_tag(self, repo_type: str, repo_id: str, tag: str) -> None:
        with self._lock:
            if tag not in self.refs(repo_type, repo_id)["tags"]:
                raise revision_not_found(tag)
            self._update_refs(repo_type, repo_id, lambda refs: refs["tags"].pop(tag))

    # -- commits and blobs -------------------------------------------------------------------------------------------

    def _commit_path(self, repo_type: str, repo_id: str, sha: str) -> Path:
        return self._repo_dir(repo_type, repo_id) / "commits" / f"{sha}.json"

    def commit_info(self, repo_type: str, repo_id: str, sha: str) -> dict:
        return _read_json(self._commit_path(repo_type, repo_id, sha))

    def _write_blob(self, repo_type: str, repo_id: str, data: bytes) -> str:
        oid = git_blob_oid(data)
        path = self._object_path(repo_type, repo_id, oid)
        if not path.exists():
            _write_atomic(path, data)
        return oid

    def _write_commit(self, repo_type, repo_id, parents: list[str], tree: dict, title: str, message: str) -> str:
        lfs = self._lfs_info(repo_type, repo_id, tree, parents[0] if parents else None)
        body = {"parents": parents, "tree": tree, "lfs": lfs, "title": title,
                "message": message, "date": utc_now(), "authors": [DEFAULT_NAMESPACE]}
        serial = json.dumps(body, sort_keys=True) + f"\n{next(self._sequence)}"
        sha = hashlib.sha1(serial.encode()).hexdigest()
        _write_json(self._commit_path(repo_type, repo_id, sha), {"id": sha, **body})
        return sha

    def _lfs_info(self, repo_type: str, repo_id: str, tree: dict, parent: str | None) -> dict:
        """{path: {"oid": sha256, "size", "pointerSize"}} for the files of ``tree`` its .gitattributes puts in LFS.

        Files unchanged since ``parent`` keep the parent's description (so a tampered blob stays "wrong").
        """
        if ".gitattributes" not in tree:
            return {}
        patterns = lfs_patterns(self._object_path(repo_type, repo_id, tree[".gitattributes"]).read_bytes())
        before = self.commit_info(repo_type, repo_id, parent) if parent else {"tree": {}, "lfs": {}}
        info = {}
        for path, oid in tree.items():
            if not lfs_tracked(path, patterns):
                continue
            if path in before["lfs"] and before["tree"][path] == oid:
                info[path] = before["lfs"][path]
            else:
                data = self._object_path(repo_type, repo_id, oid).read_bytes()
                sha256 = hashlib.sha256(data).hexdigest()
                info[path] = {"oid": sha256, "size": len(data), "pointerSize": len(lfs_pointer(sha256, len(data)))}
        return info

    def file(self, repo_type: str, repo_id: str, sha: str, path: str) -> StoredFile:
        """``path`` at commit ``sha``; EntryNotFound if the commit has no such file."""
        commit = self.commit_info(repo_type, repo_id, sha)
        if path not in commit["tree"]:
            raise entry_not_found(path, commit=sha)
        return self._stored_file(repo_type, repo_id, commit, path)

    def files(self, repo_type: str, repo_id: str, sha: str) -> list[StoredFile]:
        """Every file of commit ``sha``, sorted by path."""
        commit = self.commit_info(repo_type, repo_id, sha)
        return [self._stored_file(repo_type, repo_id, commit, path) for path in sorted(commit["tree"])]

    def _stored_file(self, repo_type: str, repo_id: str, commit: dict, path: str) -> StoredFile:
        oid = commit["tree"][path]
        return StoredFile(path, oid, self._object_path(repo_type, repo_id, oid), commit.get("lfs", {}).get(path))

    def history(self, repo_type: str, repo_id: str, sha: str) -> list[dict]:
        """Commits reachable by first parents from ``sha``, newest first."""
        commits = []
        while sha:
            commit = self.commit_info(repo_type, repo_id, sha)
            commits.append(commit)
            sha = commit["parents"][0] if commit["parents"] else None
        return commits

    def commit(self, repo_type: str, repo_id: str, revision: str, operations: list[tuple], title: str,
               message: str = "", parent_commit: str | None = None, create_pr: bool = False) -> tuple[str, int | None]:
        """Apply ``operations`` on top of a branch (or open PR) and move that ref; returns (sha, PR number or None).

        Operations are ``("file", path, bytes)``, ``("deletedFile", path)`` or ``("deletedFolder", path)``. With
        ``create_pr`` the commit goes on a new ``refs/pr/N`` whose base is ``revision``.
        """
        with self._lock:
            ref_kind, ref_name, head = self._commit_target(repo_type, repo_id, revision)
            if parent_commit is not None and parent_commit != head:
                raise HubError(412, f"A commit has happened since {parent_commit}: the head of {revision} is {head}")
            tree = self._apply(repo_type, repo_id, dict(self.commit_info(repo_type, repo_id, head)["tree"]), operations)
            sha = self._write_commit(repo_type, repo_id, [head], tree, title, message)
            if create_pr:
                ref_kind, ref_name = "pulls", str(1 + max(map(int, self.refs(repo_type, repo_id)["pulls"]), default=0))
            self._update_refs(repo_type, repo_id, lambda refs: refs[ref_kind].__setitem__(ref_name, sha))
            return sha, (int(ref_name) if create_pr else None)

    def _commit_target(self, repo_type: str, repo_id: str, revision: str) -> tuple[str, str, str]:
        """("branches"|"pulls", name, head sha) of the ref a commit to ``revision`` moves."""
        refs = self.refs(repo_type, repo_id)
        kinds, name = self._ref_kinds(revision)
        for kind in kinds:
            if kind in ("branches", "pulls") and name in refs[kind]:
                return kind, name, refs[kind][name]
        if COMMIT_SHA.fullmatch(revision) or name in refs["tags"]:
            raise bad_request(f"Cannot commit to {revision!r}: not a branch or a pull request")
        raise revision_not_found(revision)

    def _apply(self, repo_type: str, repo_id: str, tree: dict, operations: list[tuple]) -> dict:
        for kind, path, *content in operations:
            if kind == "file":
                tree[validate_repo_path(path)] = self._write_blob(repo_type, repo_id, content[0])
            elif kind == "deletedFile":
                if tree.pop(path, None) is None:
                    raise entry_not_found(f"A file with this name doesn't exist: {path}")
            elif kind == "deletedFolder":
                prefix = path.rstrip("/") + "/"
                doomed = [p for p in tree if p.startswith(prefix)]
                if not doomed:
                    raise entry_not_found(f"A folder with this name doesn't exist: {path}")
                for p in doomed:
                    del tree[p]
        self._check_no_file_folder_clash(tree)
        return tree

    @staticmethod
    def _check_no_file_folder_clash(tree: dict) -> None:
        for path in tree:
            for parent in PurePosixPath(path).parents:
                if str(parent) in tree:
                    raise bad_request(f"{parent!s} is a file, it cannot also be a folder (for {path})")

    # -- test hooks --------------------------------------------------------------------------------------------------

    def tamper(self, repo_type: str, repo_id: str, revision: str, path: str, new_bytes: bytes) -> str:
        """Overwrite the stored blob of ``path`` at ``revision`` in place; commit, tree and ETag stay the same."""
        with self._lock:
            stored = self.file(repo_type, repo_id, self.resolve(repo_type, repo_id, revision), path)
            _write_atomic(stored.blob, new_bytes)
            return stored.etag


# --------------------------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------------------------

_TYPES = r"(?P<types>models|datasets|spaces)"
_REPO = r"(?P<repo_id>[^/]+/[^/]+)"
# A revision is one URL segment ("refs%2Fpr%2F1" as the client quotes it); tolerate unquoted special refs too.
_REV = r"(?P<revision>refs/(?:heads|tags|pr|convert)/[^/]+|[^/]+)"

ROUTES: list[tuple[str, re.Pattern, str]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in [
        ("GET", r"/api/whoami-v2", "whoami"),
        ("GET", r"/api/agent-harnesses", "agent_harnesses"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("POST", r"/api/repos/create", "create_repo"),
        ("DELETE", r"/api/repos/delete", "delete_repo"),
        ("GET", rf"/api/{_TYPES}/{_REPO}(?:/revision/{_REV})?", "repo_info"),
        ("GET", rf"/api/{_TYPES}/{_REPO}/refs", "list_refs"),
        ("GET", rf"/api/{_TYPES}/{_REPO}/tree/{_REV}(?:/(?P<path>.+))?", "list_tree"),
        ("GET", rf"/api/{_TYPES}/{_REPO}/commits/{_REV}", "list_commits"),
        ("POST", rf"/api/{_TYPES}/{_REPO}/paths-info/{_REV}", "paths_info"),
        ("POST", rf"/api/{_TYPES}/{_REPO}/preupload/{_REV}", "preupload"),
        ("POST", rf"/api/{_TYPES}/{_REPO}/commit/{_REV}", "commit"),
        ("POST", rf"/api/{_TYPES}/{_REPO}/branch/(?P<branch>[^/]+)", "create_branch"),
        ("DELETE", rf"/api/{_TYPES}/{_REPO}/branch/(?P<branch>[^/]+)", "delete_branch"),
        ("POST", rf"/api/{_TYPES}/{_REPO}/tag/{_REV}", "create_tag"),
        ("DELETE", rf"/api/{_TYPES}/{_REPO}/tag/(?P<tag>[^/]+)", "delete_tag"),
        ("GET", rf"/(?:(?P<types>datasets|spaces)/)?{_REPO}/resolve/{_REV}/(?P<path>.+)", "resolve"),
        ("HEAD", rf"/(?:(?P<types>datasets|spaces)/)?{_REPO}/resolve/{_REV}/(?P<path>.+)", "resolve"),
    ]
]


@dataclass
class LoggedRequest:
    """One request as the server saw it. ``token_sent`` says whether a Bearer token came; its value is never kept."""

    method: str
    path: str  # URL path, percent-decoded, without the query string
    query: str
    token_sent: bool
    range: str | None = None  # the Range header, if any (a resumed download sends one)
    status: int | None = None  # set once answered


@dataclass
class _Cut:
    path_suffix: str
    after_bytes: int
    times: int


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) for a single ``bytes=`` range, None to serve the whole file; raises 416 if unsatisfiable.

    Malformed or multi-range headers are ignored, as RFC 9110 allows.
    """
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", (header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        raise HubError(416, f"Range not satisfiable: {header}", headers={"Content-Range": f"bytes */{size}"})
    return start, end


class HubRequestHandler(BaseHTTPRequestHandler):
    """Routes one request to a ``handle_<name>`` method.

    A handler returns (status, JSON-able body[, headers]) to answer with JSON, or None once it has written its own
    answer (file downloads). Raising :class:`HubError` answers with the Hub's error status and headers.
    """

    protocol_version = "HTTP/1.1"  # keep-alive, like the real Hub; every answer carries a Content-Length
    server_version = "TestHub/1.0"
    timeout = 60  # an idle keep-alive connection is dropped after this

    # quiet: tests read the request log instead
    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PUT(self):
        self._dispatch("PUT")

    # -- plumbing ----------------------------------------------------------------------------------------------------

    @property
    def hub(self) -> "HubServer":
        return self.server.hub

    @property
    def store(self) -> RepoStore:
        return self.server.hub.store

    @property
    def endpoint(self) -> str:
        return f"http://{self.headers.get('Host') or self.hub.url.split('://', 1)[1]}"

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def _dispatch(self, method: str) -> None:
        """Log the request, run its handler and send the answer (handlers returning None wrote their own)."""
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        self._status = None
        record = self.hub._record(
            LoggedRequest(method, unquote(url.path), url.query, self._token_sent(), self.headers.get("Range"))
        )
        try:
            self.body = self._read_body()
            handler, params = self._route(method, url.path)
            result = handler(**params)
        except HubError as error:
            result = self._error_result(error)
        except (BrokenPipeError, ConnectionResetError):  # the client went away mid-answer
            self.close_connection = True
            result = None
        except Exception as error:  # a bug in this server: answer 500 and keep the traceback for the fixture
            self.hub._internal_errors.append(traceback.format_exc())
            result = None if self._status else self._error_result(HubError(500, f"Test hub bug: {error!r}"))
        if result is not None:
            self._send_json(*result)
        record.status = self._status

    def _route(self, method: str, raw_path: str):
        for route_method, pattern, name in ROUTES:
            match = pattern.fullmatch(raw_path)
            if route_method == method and match:
                params = {key: unquote(value) for key, value in match.groupdict().items() if value is not None}
                return getattr(self, f"handle_{name}"), params
        raise HubError(404, f"Not found: {method} {unquote(raw_path)}")

    def _token_sent(self) -> bool:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and bool(token.strip())

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _json_body(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except ValueError as error:
            raise bad_request(f"Body is not JSON: {error}") from None

    def _flag(self, name: str) -> bool:
        return (self.query.get(name) or ["false"])[-1].lower() in ("1", "true", "yes")

    @staticmethod
    def _error_result(error: HubError):
        headers = dict(error.headers)
        if error.error_code:
            headers["X-Error-Code"] = error.error_code
        headers["X-Error-Message"] = error.message.encode("ascii", "replace").decode()
        return error.status, {"error": error.message, **error.extra}, headers

    def _send_json(self, status: int, body=None, headers: dict | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _repo(self, types: str | None, repo_id: str, write: bool = False) -> tuple[str, dict]:
        """(repo type, repo.json) of a repo this request may use: 404 if missing, 401 if private (or a write)
        and no token came."""
        repo_type = REPO_TYPES[types or "models"]
        meta = self.store.repo_meta(repo_type, repo_id)
        if meta["private"] and not self._token_sent():
            raise repo_not_found(repo_id, status=401)
        if write:
            self._require_token()
        return repo_type, meta

    def _require_token(self) -> None:
        if not self._token_sent():
            raise HubError(401, "Invalid credentials in Authorization header")

    def _repo_url(self, repo_type: str, repo_id: str) -> str:
        return f"{self.endpoint}/{URL_PREFIXES[repo_type]}{repo_id}"

    # -- account and misc --------------------------------------------------------------------------------------------

    def handle_whoami(self):
        self._require_token()
        return 200, {
            "type": "user", "name": DEFAULT_NAMESPACE, "fullname": "Test User", "orgs": [],
            "auth": {"type": "access_token", "accessToken": {"displayName": "test-token", "role": "write"}},
        }

    def handle_agent_harnesses(self):
        return 200, {"standardEnvVars": [], "harnesses": {}}

    def handle_validate_yaml(self):
        self._json_body()
        return 200, {"errors": [], "warnings": []}

    # -- repositories ------------------------------------------------------------------------------------------------

    def handle_create_repo(self):
        self._require_token()
        payload = self._json_body()
        repo_type = payload.get("type") or "model"
        if repo_type not in URL_PREFIXES or not payload.get("name"):
            raise bad_request(f"Invalid repo type or name: {payload}")
        repo_id = f"{payload.get('organization') or DEFAULT_NAMESPACE}/{payload['name']}"
        private = payload.get("visibility") == "private" or payload.get("private") is True
        url = self._repo_url(repo_type, repo_id)
        if not self.store.create_repo(repo_type, repo_id, private=private):
            # The Hub's conflict answer still carries the url: create_repo(exist_ok=True) reads it.
            raise HubError(409, f"You already created this {repo_type} repo", extra={"url": url})
        return 200, {"url": url, "name": repo_id, "id": repo_id}

    def handle_delete_repo(self):
        self._require_token()
        payload = self._json_body()
        repo_id = f"{payload.get('organization') or DEFAULT_NAMESPACE}/{payload.get('name')}"
        self.store.delete_repo(payload.get("type") or "model", repo_id)
        return 200, {}

    def handle_repo_info(self, types, repo_id, revision=DEFAULT_BRANCH):
        repo_type, meta = self._repo(types, repo_id)
        sha = self.store.resolve(repo_type, repo_id, revision)
        commit = self.store.commit_info(repo_type, repo_id, sha)
        siblings = [self._sibling(stored) for stored in self.store.files(repo_type, repo_id, sha)]
        return 200, {
            "_id": hashlib.md5(repo_id.encode()).hexdigest()[:24], "id": repo_id, "author": repo_id.split("/")[0],
            "sha": sha, "lastModified": commit["date"], "createdAt": meta["createdAt"], "private": meta["private"],
            "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [], "siblings": siblings,
            "spaces": [],
        }

    def _sibling(self, stored: StoredFile) -> dict:
        """A model_info sibling: only the file name unless ``?blobs=true`` (files_metadata=True) asks for more."""
        sibling = {"rfilename": stored.path}
        if self._flag("blobs"):
            sibling.update(size=stored.size, blobId=stored.blob_id)
            if stored.lfs:
                sibling["lfs"] = {"sha256": stored.lfs["oid"], "size": stored.lfs["size"],
                                  "pointerSize": stored.lfs["pointerSize"]}
        return sibling

    # -- refs --------------------------------------------------------------------------------------------------------

    def handle_list_refs(self, types, repo_id):
        repo_type, _ = self._repo(types, repo_id)
        refs = self.store.refs(repo_type, repo_id)

        def entries(kind, prefix, key=str):
            return [
                {"name": key(name), "ref": f"{prefix}{name}", "targetCommit": sha}
                for name, sha in sorted(refs[kind].items())
            ]

        return 200, {
            "branches": entries("branches", "refs/heads/"), "tags": entries("tags", "refs/tags/"), "converts": [],
            "pullRequests": entries("pulls", "refs/pr/", key=lambda n: f"refs/pr/{n}"),
        }

    def handle_create_branch(self, types, repo_id, branch):
        repo_type, _ = self._repo(types, repo_id, write=True)
        self.store.create_branch(repo_type, repo_id, branch, self._json_body().get("startingPoint"))
        return 200, {}

    def handle_delete_branch(self, types, repo_id, branch):
        repo_type, _ = self._repo(types, repo_id, write=True)
        self.store.delete_branch(repo_type, repo_id, branch)
        return 200, {}

    def handle_create_tag(self, types, repo_id, revision):
        repo_type, _ = self._repo(types, repo_id, write=True)
        self.store.create_tag(repo_type, repo_id, self._json_body().get("tag") or "", revision)
        return 200, {}

    def handle_delete_tag(self, types, repo_id, tag):
        repo_type, _ = self._repo(types, repo_id, write=True)
        self.store.delete_tag(repo_type, repo_id, tag)
        return 200, {}

    # -- listings ----------------------------------------------------------------------------------------------------

    def _tree_entries(self, repo_type: str, repo_id: str, sha: str) -> dict[str, dict]:
        """Every file and folder of a commit as the Hub's tree entries, keyed by path."""
        entries = {}
        for stored in self.store.files(repo_type, repo_id, sha):
            entries[stored.path] = stored.tree_entry()
            for parent in PurePosixPath(stored.path).parents:
                if str(parent) != ".":
                    folder_oid = hashlib.sha1(f"tree {sha} {parent}".encode()).hexdigest()
                    folder = {"type": "directory", "path": str(parent), "oid": folder_oid, "size": 0}
                    entries.setdefault(str(parent), folder)
        return entries

    def handle_list_tree(self, types, repo_id, revision, path=""):
        repo_type, _ = self._repo(types, repo_id)
        sha = self.store.resolve(repo_type, repo_id, revision)
        entries = self._tree_entries(repo_type, repo_id, sha)
        folder = path.strip("/")
        if folder and entries.get(folder, {}).get("type") != "directory":
            raise entry_not_found(folder, commit=sha)
        prefix = f"{folder}/" if folder else ""
        recursive = self._flag("recursive")
        listed = [
            entry for entry_path, entry in sorted(entries.items())
            if entry_path.startswith(prefix) and (recursive or "/" not in entry_path[len(prefix):])
        ]
        return 200, listed

    def handle_paths_info(self, types, repo_id, revision):
        repo_type, _ = self._repo(types, repo_id)
        sha = self.store.resolve(repo_type, repo_id, revision)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            form = {"paths": self._json_body().get("paths", [])}
        else:  # the client sends a form: paths=a&paths=b&expand=false
            form = parse_qs(self.body.decode())
        entries = self._tree_entries(repo_type, repo_id, sha)
        return 200, [entries[p.strip("/")] for p in form.get("paths", []) if p.strip("/") in entries]

    def handle_list_commits(self, types, repo_id, revision):
        repo_type, _ = self._repo(types, repo_id)
        sha = self.store.resolve(repo_type, repo_id, revision)
        return 200, [
            {"id": c["id"], "title": c["title"], "message": c["message"], "date": c["date"],
             "authors": [{"user": user} for user in c["authors"]]}
            for c in self.store.history(repo_type, repo_id, sha)
        ]

    # -- uploads -----------------------------------------------------------------------------------------------------

    def handle_preupload(self, types, repo_id, revision):
        repo_type, _ = self._repo(types, repo_id, write=True)
        sha = self.store.resolve(repo_type, repo_id, revision)
        tree = self.store.commit_info(repo_type, repo_id, sha)["tree"]
        files = self._json_body().get("files")
        if not isinstance(files, list):
            raise bad_request("preupload expects {'files': [...]}")
        return 200, {
            "commitOid": sha,
            "files": [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": tree.get(f["path"])}
                for f in files
            ],
        }

    def handle_commit(self, types, repo_id, revision):
        repo_type, _ = self._repo(types, repo_id, write=True)
        header, operations = self._parse_commit_payload(self.body)
        create_pr = self._flag("create_pr")
        sha, pr_num = self.store.commit(
            repo_type, repo_id, revision, operations, title=header.get("summary") or "Update",
            message=header.get("description") or "", parent_commit=header.get("parentCommit"), create_pr=create_pr,
        )
        repo_url = self._repo_url(repo_type, repo_id)
        return 200, {
            "success": True, "commitOid": sha, "commitUrl": f"{repo_url}/commit/{sha}", "hookOutput": "",
            "pullRequestUrl": f"{repo_url}/discussions/{pr_num}" if pr_num is not None else None,
        }

    @staticmethod
    def _parse_commit_payload(body: bytes) -> tuple[dict, list[tuple]]:
        """The header value and the operations of an NDJSON commit payload."""
        try:
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        except ValueError as error:
            raise bad_request(f"Commit payload is not NDJSON: {error}") from None
        if not lines or lines[0].get("key") != "header":
            raise bad_request("Commit payload must start with a header line")
        operations = []
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value") or {}
            if key == "file":
                content = value.get("content", "")
                data = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                operations.append(("file", value["path"], data))
            elif key in ("deletedFile", "deletedFolder"):
                operations.append((key, value["path"]))
            elif key == "lfsFile":
                raise bad_request("LFS files are not supported by the test hub (preupload only answers 'regular')")
            else:
                raise bad_request(f"Unknown commit operation: {key!r}")
        return lines[0].get("value") or {}, operations

    # -- downloads ---------------------------------------------------------------------------------------------------

    def handle_resolve(self, repo_id, revision, path, types=None):
        repo_type, _ = self._repo(types, repo_id)
        sha = self.store.resolve(repo_type, repo_id, revision)
        stored = self.store.file(repo_type, repo_id, sha, path)
        size = stored.size
        span = parse_range(self.headers.get("Range"), size)
        start, end = span if span else (0, size - 1)
        self.send_response(206 if span else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{stored.etag}"')
        self.send_header("X-Repo-Commit", sha)
        if stored.lfs:  # the Hub describes LFS files by these (it would also redirect to its CDN; we serve directly)
            self.send_header("X-Linked-Etag", f'"{stored.etag}"')
            self.send_header("X-Linked-Size", str(stored.lfs["size"]))
        if span:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "GET":
            self._send_file(stored.blob, start, end - start + 1, self.hub._take_cut(path))
        return None

    def _send_file(self, blob: Path, start: int, length: int, cut_after: int | None) -> None:
        """Stream ``length`` bytes from ``start``; with ``cut_after``, drop the connection after that many bytes."""
        budget = length if cut_after is None else min(cut_after, length)
        with blob.open("rb") as f:
            f.seek(start)
            while budget > 0:
                chunk = f.read(min(CHUNK_SIZE, budget))
                if not chunk:
                    break
                self.wfile.write(chunk)
                budget -= len(chunk)
        if cut_after is not None:
            self.wfile.flush()
            self.close_connection = True
            try:  # a clean end of stream (FIN) short of Content-Length: the client sees "peer closed connection"
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass


class _HubHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that remembers its open connections, so that ``stop()`` can cut them all."""

    daemon_threads = True

    def __init__(self, address, hub: "HubServer"):
        self.hub = hub
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, HubRequestHandler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class HubServer:
    """A Hub on ``http://127.0.0.1:<port>`` backed by :class:`RepoStore`; ``start()`` it, point HF_ENDPOINT at ``url``.

    Test hooks:

    - :meth:`tamper` changes a stored file's bytes without changing commit or ETag (a corrupted or malicious file).
    - :meth:`cut_next_download` makes the next GET of a file send its full Content-Length, then drop the connection.
    - :meth:`add_commit` writes files straight into a repo, without going through the client.
    - :attr:`log` / :attr:`requests` / :meth:`clear_log`: every request seen (method, path, token sent or not).
    - :attr:`internal_errors`: tracebacks of requests this server failed on (a bug here, not in the client).
    """

    def __init__(self, storage_dir: str | Path, host: str = "127.0.0.1", port: int = 0):
        self.store = RepoStore(storage_dir)
        self._httpd = _HubHTTPServer((host, port), hub=self)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cuts: list[_Cut] = []
        self._internal_errors: list[str] = []
        self.log: list[LoggedRequest] = []

    # -- lifecycle ---------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "HubServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"test-hub-{self.url}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection: later requests fail to connect."""
        if self._thread is None:
            return
        self._httpd.shutdown()
        self._httpd.close_all_connections()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- request log -------------------------------------------------------------------------------------------------

    def _record(self, entry: LoggedRequest) -> LoggedRequest:
        with self._lock:
            self.log.append(entry)
        return entry

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far, oldest first."""
        with self._lock:
            return [(entry.method, entry.path) for entry in self.log]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    @property
    def internal_errors(self) -> list[str]:
        return list(self._internal_errors)

    # -- test hooks --------------------------------------------------------------------------------------------------

    def tamper(self, repo_id: str, path: str, new_bytes: bytes, revision: str = DEFAULT_BRANCH,
               repo_type: str = "model") -> str:
        """Replace the bytes served for ``path`` at ``revision``, keeping commit sha and ETag; returns the ETag.

        The blob is changed in place, so every revision sharing these exact original bytes serves the new ones.
        """
        return self.store.tamper(repo_type, repo_id, revision, path, new_bytes)

    def cut_next_download(self, path_suffix: str, after_bytes: int, times: int = 1) -> None:
        """The next ``times`` GETs of a file whose repo path ends with ``path_suffix`` announce the full
        Content-Length but close the connection after ``after_bytes`` bytes of body."""
        with self._lock:
            self._cuts.append(_Cut(path_suffix, after_bytes, times))

    def _take_cut(self, path: str) -> int | None:
        with self._lock:
            for cut in self._cuts:
                if path.endswith(cut.path_suffix):
                    cut.times -= 1
                    if cut.times <= 0:
                        self._cuts.remove(cut)
                    return cut.after_bytes
        return None

    def add_commit(self, repo_id: str, files: dict[str, bytes], message: str = "Add files",
                   revision: str = DEFAULT_BRANCH, repo_type: str = "model", private: bool = False,
                   deletions: tuple[str, ...] = ()) -> str:
        """Commit ``files`` (path -> bytes) straight into the store, creating the repo if needed; returns the sha."""
        self.store.create_repo(repo_type, repo_id, private=private)
        operations = [("file", path, data) for path, data in files.items()]
        operations += [("deletedFile", path) for path in deletions]
        sha, _ = self.store.commit(repo_type, repo_id, revision, operations, title=message)
        return sha
