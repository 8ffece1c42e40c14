"""Where each file of a published site lives, and the links between them.

Pages, manifests and captions link to each other by relative URLs, so the same files work wherever they are
served (a domain's root, a CMS's sub-directory, a CDN) and from a copy. Only what must be absolute is: the
feed (RSS readers need absolute links) and canonical links, from ``base_url``; and audio kept elsewhere
(object storage, a CDN), from ``audio_base_url``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import urlsplit

from tts_service.errors import InvalidInput

INDEX = "index.html"
FEED = "feed.xml"


def absolute_base(url: str, option: str) -> str:
    """An http(s) URL to put paths after, with the one trailing slash that makes ``base + path`` right;
    InvalidInput (naming ``option``) for anything else."""
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.netloc or split.query or split.fragment:
        raise InvalidInput(f"{option} must be an absolute http(s) URL without query or fragment: {url!r}")
    return url.rstrip("/") + "/"


@dataclass(frozen=True)
class Links:
    """The site's layout: ``articles/{slug}.html`` with its ``.audio.json`` and ``.vtt`` beside it,
    ``audio/{key}.mp3`` (content-addressed, never changes), ``static/`` (the reader's CSS and scripts).

    ``base_url``: where the site is served, for the feed and canonical links (None: neither is absolute,
    and no feed is written). ``audio_base_url``: where the audio is when it is not copied into the site;
    a file is then ``{audio_base_url}{key}.mp3``, as the app serves ``/audio/{key}.mp3``.
    """

    base_url: str | None = None
    audio_base_url: str | None = None

    @staticmethod
    def page(slug: str) -> str:
        return f"articles/{slug}.html"

    @staticmethod
    def manifest(slug: str) -> str:
        return f"articles/{slug}.audio.json"

    @staticmethod
    def captions(slug: str) -> str:
        return f"articles/{slug}.vtt"

    @staticmethod
    def audio(key: str) -> str:
        return f"audio/{key}.mp3"

    @staticmethod
    def static(name: str) -> str:
        return f"static/{name}"

    @property
    def copies_audio(self) -> bool:
        """Whether the audio is part of the site (else it is linked, at ``audio_base_url``)."""
        return self.audio_base_url is None

    @staticmethod
    def href(here: str, target: str) -> str:
        """The relative URL from the file at ``here`` to the file at ``target`` (both site paths)."""
        return posixpath.relpath(target, posixpath.dirname(here) or ".")

    def audio_href(self, here: str, key: str) -> str:
        """The URL of an audio file from the file at ``here``: relative, or absolute when it is elsewhere."""
        if self.audio_base_url is not None:
            return f"{self.audio_base_url}{key}.mp3"
        return self.href(here, self.audio(key))

    def absolute(self, path: str) -> str | None:
        """The absolute URL of a site path, when the site's base URL is known; the index is the base."""
        if self.base_url is None:
            return None
        return self.base_url if path == INDEX else self.base_url + path

    def absolute_audio(self, key: str) -> str | None:
        """The absolute URL of an audio file: where it is kept, or in the site when it is copied."""
        if self.audio_base_url is not None:
            return f"{self.audio_base_url}{key}.mp3"
        return self.absolute(self.audio(key))
