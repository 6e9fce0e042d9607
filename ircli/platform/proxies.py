"""The proxy for a platform, from the environment mapping the CLI passes in, as curl reads it.

``HTTP_PROXY`` serves ``http://`` platforms and ``HTTPS_PROXY`` ``https://`` ones (aiohttp
tunnels those with ``CONNECT``), ``ALL_PROXY`` either. ``NO_PROXY`` is a comma-separated list
of what is reached directly, matched as curl matches it: a host name also covers its
subdomains (``example.org`` and ``.example.org`` both cover ``api.example.org``), an address or
a CIDR range (``10.0.0.0/8``) covers the addresses in it, ``host:port`` only that port, and
``*`` everything. Lower-case names win over upper-case ones, as in curl.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["proxy_for"]


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy URL requests to ``url`` go through, or ``None`` to connect directly."""
    scheme = urlsplit(url).scheme
    proxies: dict[str, str] = {}
    for name, value in env.items():
        # Upper case first, so that the lower-case name wins where both are set.
        if value and name.lower().endswith("_proxy") and name.isupper():
            proxies[name[:-6].lower()] = value
    for name, value in env.items():
        if value and name.endswith("_proxy") and name.islower():
            proxies[name[:-6]] = value
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or _bypassed(url, proxies.get("no", "")):
        return None
    return proxy


def _bypassed(url: str, no_proxy: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, wanted_port = entry, None
        if entry.startswith("[") and "]" in entry:  # [::1]:8443
            name, _, rest = entry[1:].partition("]")
            wanted_port = rest[1:] or None
        elif entry.count(":") == 1:
            name, _, wanted_port = entry.partition(":")
        if wanted_port is not None and wanted_port != str(port):
            continue
        if _matches(host, name.lstrip(".")):
            return True
    return False


def _matches(host: str, name: str) -> bool:
    try:
        network = ipaddress.ip_network(name, strict=False)
        return ipaddress.ip_address(host) in network
    except ValueError:
        return host == name or host.endswith("." + name)
