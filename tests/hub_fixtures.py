"""Pytest fixtures that point the real ``huggingface_hub`` client at a loopback test Hub.

Use from a conftest (``pytest_plugins = ["tests.hub_fixtures"]``) or import explicitly in a test module::

    from tests.hub_fixtures import hub_env, hub_server  # noqa: F401

- ``hub_server``: a fresh :class:`tests.hub_server.HubServer` on ``127.0.0.1`` (free port, storage under tmp_path),
  stopped after the test; the test fails if the server hit an internal error.
- ``hub_env``: ``hub_server`` plus a client configured for it (a :class:`HubEnv`): ``HF_ENDPOINT``, ``HF_HOME``,
  ``HF_HUB_CACHE``, a fake ``HF_TOKEN``, telemetry and Xet off, offline mode off.

``huggingface_hub`` reads most of its settings once, at import, into ``huggingface_hub.constants`` (and one
module-level ``HfApi`` captures the endpoint). Setting environment variables alone does not reach a client that is
already imported, so ``hub_env`` patches those computed values too; ``test_hub_server.py`` checks that nothing is
missed by recomputing ``constants.py`` from the patched environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.hub_server import HubServer

FAKE_TOKEN = "hf_test_token_for_loopback_hub"

# Environment variables that would make the client reach elsewhere, use another token or change its mode.
_CLEARED_ENV = (
    "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_OIDC_RESOURCE",
    "HF_OIDC_ID_TOKEN", "HUGGINGFACE_CO_STAGING", "HF_HUB_DISABLE_IMPLICIT_TOKEN", "HUGGINGFACE_HUB_CACHE",
    "HUGGINGFACE_ASSETS_CACHE", "HF_HUB_ENABLE_HF_TRANSFER", "XDG_CACHE_HOME",
)


@dataclass
class HubEnv:
    """What ``hub_env`` set up: the server, its URL, the client's home and cache folders, and the token it sends."""

    server: HubServer
    endpoint: str
    home: Path
    cache_dir: Path
    token: str
    monkeypatch: pytest.MonkeyPatch

    def set_offline(self, offline: bool = True) -> None:
        """Switch the client's offline mode (``HF_HUB_OFFLINE``) for the rest of the test."""
        self.monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
        from huggingface_hub import constants

        self.monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


@pytest.fixture
def hub_server(tmp_path_factory):
    """A started test Hub on 127.0.0.1 with an empty storage folder; stopped (all connections cut) afterwards."""
    server = HubServer(tmp_path_factory.mktemp("hub_storage")).start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.internal_errors, "the test hub failed on a request:\n" + "\n".join(server.internal_errors)


@pytest.fixture
def hub_env(hub_server, tmp_path_factory, monkeypatch):
    """The real ``huggingface_hub`` client pointed at ``hub_server`` with a private home, cache and fake token."""
    home = tmp_path_factory.mktemp("hf_home")
    _set_environment(monkeypatch, hub_server.url, home)
    _patch_client(monkeypatch, hub_server.url, home)
    env = HubEnv(hub_server, hub_server.url, home, home / "hub", FAKE_TOKEN, monkeypatch)
    try:
        yield env
    finally:
        _close_client_session()  # pooled keep-alive connections point at a server about to stop


def _set_environment(monkeypatch, endpoint: str, home: Path) -> None:
    """The environment a fresh process would need (read by subprocesses and by code that reads os.environ)."""
    for name in _CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_TOKEN": FAKE_TOKEN,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    }.items():
        monkeypatch.setenv(name, value)


def _patch_client(monkeypatch, endpoint: str, home: Path) -> None:
    """Make an already-imported client see the same settings: the values ``constants.py`` computed at import."""
    from huggingface_hub import constants, hf_api
    from huggingface_hub.utils import _http

    host = urlsplit(endpoint).hostname
    computed = {
        "ENDPOINT": endpoint,
        "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_URL_HOSTS": frozenset(constants.HF_URL_HOSTS | {host}),
        "HF_HOME": str(home),
        "default_cache_path": str(home / "hub"),
        "default_assets_cache_path": str(home / "assets"),
        "default_xet_cache_path": str(home / "xet"),
        "HUGGINGFACE_HUB_CACHE": str(home / "hub"),
        "HUGGINGFACE_ASSETS_CACHE": str(home / "assets"),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "CHECK_FOR_UPDATE_DONE_PATH": str(home / ".check_for_update_done"),
        "CHECK_FOR_SKILL_UPDATE_DONE_PATH": str(home / ".check_for_skill_update_done"),
        "AGENT_HARNESSES_PATH": str(home / ".agent_harnesses.json"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_DISABLE_PROGRESS_BARS": True,
        "HF_HUB_DISABLE_UPDATE_CHECK": True,
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": False,
        "_staging_mode": False,
    }
    for name, value in computed.items():
        if hasattr(constants, name):  # names differ a little between client versions
            monkeypatch.setattr(constants, name, value)
    # `huggingface_hub.model_info(...)` & co. are bound methods of one HfApi built at import time.
    monkeypatch.setattr(hf_api.api, "endpoint", endpoint)
    # Origins that keep the auth header across redirects, computed at import from ENDPOINT.
    if hasattr(_http, "_HUB_ORIGINS"):
        monkeypatch.setattr(_http, "_HUB_ORIGINS", _http._HUB_ORIGINS | {_http._url_origin(endpoint)})
    _close_client_session()


def _close_client_session() -> None:
    from huggingface_hub.utils import _http

    _http.close_session()


__all__ = ["FAKE_TOKEN", "HubEnv", "hub_env", "hub_server"]
