"""Middleware installed on every app: security headers, CORS, request ids, metrics."""

from __future__ import annotations

from fastapi import FastAPI

from tts_service.config import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Add the service's middleware to ``app``."""
