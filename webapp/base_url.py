"""The site's public address when ``clinex serve`` starts: set, or a loud local stand-in.

Links that leave the page (feeds, media, password-reset links, the CSP's media-src) are built on
``CLINEX_BASE_URL``. Unset, a server on this machine's loopback uses its own host and port and
notes them in the instance folder, so ``clinex users reset-password`` prints a link that works;
anywhere people reach over a network a guessed address would be wrong, so serving there
without the setting is refused.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.settings import SERVING_URL_FILE, Settings


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: reached from elsewhere


def serving_url(host: str, port: int, scheme: str = "http") -> str:
    host = f"[{host.strip('[]')}]" if ":" in host else host
    return f"{scheme}://{host}:{port}"


def settle_base_url(settings: Settings, host: str, port: int, scheme: str = "http") -> str | None:
    """Check the address before serving. Returns a warning to show when BASE_URL is unset (after
    noting the serving address for the other commands), None when it is set.

    Raises ConfigError when it is unset and the server is for a network: a non-loopback bind or https."""
    if settings.base_url_source == "setting":
        return None
    if scheme == "https" or not is_loopback(host):
        where = "behind https" if scheme == "https" else f"on {host}, which others reach over the network"
        raise ConfigError(f"CLINEX_BASE_URL is not set; serving {where} needs it (the address people use, "
                          "like https://podcast.example.org), or links in feeds and mails would point nowhere.")
    url = serving_url(host, port, scheme)
    Path(settings.instance_path).mkdir(parents=True, exist_ok=True)  # `clinex serve` may be the first command
    Path(settings.instance_path, SERVING_URL_FILE).write_text(url + "\n")
    return (f"WARNING: CLINEX_BASE_URL is not set. Feed, media and password-reset links use {url} for now, "
            "which works on this machine only; set CLINEX_BASE_URL to the site's public address.")


__all__ = ["settle_base_url", "is_loopback", "serving_url"]
