"""The web layer: app factory, pages, JSON API and audio files."""

from tts_service.web.app import create_app

__all__ = ["create_app"]
