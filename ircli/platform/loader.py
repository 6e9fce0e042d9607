"""Read a platform profile (YAML) into a ``Profile``.

The shape and its rules live on the model (``ircli.platform.model``); this module reads the
file and names it. Every problem is one ``InvalidInput`` sentence located at
``file:line:col`` with the path to the bad value. Values that may come from the environment
(``base_url``, ``variables``) are resolved against the ``env`` mapping passed in; with
``env=None`` they are left as ``${NAME:-default}`` descriptions (for ``profile show``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ircli.platform.model import FORMAT_VERSION, Profile, ProfileDocument, is_loopback_url
from ircli.shapes import read_document
from ircli.yamlfile import LoadedYaml, load_yaml_file, load_yaml_text

__all__ = ["FORMAT_VERSION", "is_loopback_url", "load_profile", "load_profile_text"]


def load_profile(path: Path, env: Mapping[str, str] | None = None) -> Profile:
    """Load and validate the profile at ``path``; resolve env values when ``env`` is given."""
    return parse_profile(load_yaml_file(path), env)


def load_profile_text(
    text: str, source: str = "<profile>", env: Mapping[str, str] | None = None
) -> Profile:
    """Like ``load_profile`` for YAML text (``source`` names it in messages)."""
    return parse_profile(load_yaml_text(text, source), env)


def parse_profile(loaded: LoadedYaml, env: Mapping[str, str] | None = None) -> Profile:
    """A ``Profile`` from an already loaded YAML document."""
    doc = ProfileDocument.of(loaded, env)
    if loaded.data is None:
        raise doc.fail((), "the profile is empty.")
    profile = read_document(Profile, doc)
    return profile.model_copy(update={"source": loaded.source})
