"""Finding the files of the online datasets: local directory, Keras' cache, download.

Lookup order for each file, by its path relative to a datasets directory (the same
relative paths as Keras' cache, e.g. ``mnist.npz``, ``fashion-mnist/t10k-labels-idx1-ubyte.gz``):

1. ``$ZOO_DATA_DIR/<file>``, a directory you fill yourself (read only, no network);
2. Keras' cache, ``$KERAS_HOME/datasets/<file>`` (default ``~/.keras/datasets``);
3. a download through ``keras.utils.get_file`` (hash-checked, stored in Keras' cache),
   only after a quick connectivity check (3 s) of the download host. With no network,
   or with ``ZOO_OFFLINE=1``, `DatasetUnavailableError` is raised at once, naming the
   missing files, their URLs and where to put them.

Files found locally are read as they are (their hashes are not checked).

Example (offline, with the files copied to /data/keras-datasets):
    $ ZOO_DATA_DIR=/data/keras-datasets python -c "import zoo.data; zoo.data.load('mnist')"

    >>> from zoo.data import fetch, online
    >>> fetch.locate("mnist", [online.MNIST])  # doctest: +SKIP
    [PosixPath('/data/keras-datasets/mnist.npz')]
"""

from __future__ import annotations

import os
import socket
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

CONNECT_TIMEOUT_S = 3.0


class DatasetUnavailableError(OSError):
    """A dataset's files are not on this machine and cannot be downloaded now."""


@dataclass(frozen=True)
class RemoteFile:
    """A file of an online dataset.

    `name` is its path relative to a datasets directory (``$ZOO_DATA_DIR`` or Keras'
    ``datasets`` cache); `aliases` are other relative paths holding the same content
    (e.g. the extracted folder of an archive, as Keras lays it out).
    """

    name: str
    url: str
    file_hash: str | None = None
    aliases: tuple = ()


def keras_cache_dirs() -> list[Path]:
    """Keras' dataset cache, as `keras.utils.get_file` chooses it: `$KERAS_HOME`, else
    `~/.keras`; `/tmp/.keras` too where that is not writable."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        user = os.path.expanduser("~")
        home = os.path.join(user if os.access(user, os.W_OK) else "/tmp", ".keras")
    dirs = [Path(home) / "datasets"]
    if not os.access(home, os.W_OK):
        dirs.append(Path("/tmp/.keras/datasets"))
    return list(dict.fromkeys(dirs))


def search_dirs() -> list[Path]:
    """Where files are looked for, in order: `$ZOO_DATA_DIR`, then Keras' caches."""
    local = os.environ.get("ZOO_DATA_DIR")
    return ([Path(local).expanduser()] if local else []) + keras_cache_dirs()


def find(file: RemoteFile) -> Path | None:
    """The first existing copy of `file` in `search_dirs()`, or None."""
    for directory in search_dirs():
        for relative in (file.name, *file.aliases):
            if (directory / relative).exists():
                return directory / relative
    return None


def can_reach(url: str, timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the host of `url` opens within `timeout` seconds."""
    if os.environ.get("ZOO_OFFLINE", "").strip() not in ("", "0"):
        return False
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _unavailable(dataset: str, missing: list[RemoteFile], reason: str) -> DatasetUnavailableError:
    local = os.environ.get("ZOO_DATA_DIR")
    where = f"ZOO_DATA_DIR={local}" if local else "ZOO_DATA_DIR (unset)"
    caches = ", ".join(str(d) for d in keras_cache_dirs())
    lines = "\n".join(f"  {f.name}  <-  {f.url}" for f in missing)
    return DatasetUnavailableError(
        f"dataset {dataset!r} needs files that are neither in {where} nor in Keras' "
        f"cache ({caches}), and {reason}:\n{lines}\n"
        "To use it offline, download each URL on a machine with network and put it at "
        "$ZOO_DATA_DIR/<file name above> (same layout as ~/.keras/datasets), then set "
        "ZOO_DATA_DIR to that directory."
    )


def _download(file: RemoteFile) -> Path:
    from keras.utils import get_file

    subdir = os.path.dirname(file.name)
    return Path(get_file(
        fname=os.path.basename(file.name), origin=file.url, file_hash=file.file_hash,
        cache_subdir=os.path.join("datasets", subdir) if subdir else "datasets",
    ))


def locate(dataset: str, files) -> list[Path]:
    """Local paths of `files` (found, else downloaded); raises DatasetUnavailableError
    quickly when some are missing and their host cannot be reached."""
    found = [find(f) for f in files]
    missing = [f for f, path in zip(files, found) if path is None]
    if not missing:
        return found
    unreachable = sorted({urllib.parse.urlsplit(f.url).hostname for f in missing
                          if not can_reach(f.url)})
    if unreachable:
        raise _unavailable(dataset, missing,
                           f"{', '.join(unreachable)} cannot be reached to download them")
    try:
        fetched = {f.name: _download(f) for f in missing}
    except Exception as err:  # keras raises a bare Exception on fetch failures
        raise _unavailable(dataset, missing, f"downloading failed ({err})") from err
    return [path or fetched[f.name] for f, path in zip(files, found)]
