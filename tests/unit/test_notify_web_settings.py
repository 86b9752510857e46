"""Notify's settings for its unsubscribe pages: the certificate (its own, else the node's),
the links' scheme, and the connection limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.settings import NodeSettings
from services.notify.settings import NotifySettings
from services.notify.web import LinkBase


def test_links_say_https_when_the_pages_have_a_certificate(tmp_path):
    node = NodeSettings(data_dir=tmp_path)
    both = {"COPNET_TLS_CERT": "/node.crt", "COPNET_TLS_KEY": "/node.key"}
    settings = NotifySettings.from_env(node, both)
    assert settings.tls is not None and settings.tls.key_file == Path("/node.key")
    assert LinkBase(settings)().startswith("https://127.0.0.1:")
    own = {**both, "COPNET_NOTIFY_TLS_CERT": "/web.crt", "COPNET_NOTIFY_TLS_KEY": "/web.key"}
    assert NotifySettings.from_env(node, own).tls_cert == Path("/web.crt")
    assert LinkBase(NotifySettings.from_env(node, {}))().startswith("http://")
    with pytest.raises(ValueError, match="go together"):
        NotifySettings.from_env(node, {"COPNET_TLS_CERT": "/node.crt"})
    limits = NotifySettings.from_env(node, {"COPNET_NOTIFY_HTTP_MAX_CONNECTIONS": "64"})
    assert limits.web_limits.max_connections == 64
