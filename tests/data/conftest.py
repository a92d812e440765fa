"""Every data test runs offline: an empty Keras cache, no ZOO_DATA_DIR, and a
connectivity check that always fails, so no code path can reach the network."""

import pytest

from zoo.data import fetch


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    checked = []

    def unreachable(url, timeout=fetch.CONNECT_TIMEOUT_S):
        checked.append(url)
        return False

    def no_download(file):
        raise AssertionError(f"a test tried to download {file.url}")

    monkeypatch.setattr(fetch, "can_reach", unreachable)
    monkeypatch.setattr(fetch, "_download", no_download)
    return checked
