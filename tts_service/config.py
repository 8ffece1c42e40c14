"""Settings, read once from TTS_* environment variables and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything configurable. Build one with ``Settings()`` and hand it to whoever needs it."""

    model_config = SettingsConfigDict(env_prefix="TTS_", extra="ignore")

    home: Path = Field(default=REPO_ROOT, description="Directory holding all state (database, audio cache).")
    engine: str = Field(default="local", description="Default synthesis engine.")
    voice: str | None = Field(default=None, description="Default voice; the engine's own default if unset.")
    editor_token: SecretStr | None = Field(default=None, description="Bearer token for editor endpoints.")
    max_article_chars: int = Field(default=100_000, gt=0)
    workers: int = Field(default=2, gt=0, description="Concurrent synthesis jobs per process.")
    host: str = "127.0.0.1"
    port: int = 8000
    local_threads: int = Field(default=1, gt=0, description="LiteRT threads per local-voice worker.")
    edge_timeout: int = Field(default=30, gt=0, description="Seconds before an edge-tts request gives up.")

    @property
    def db_path(self) -> Path:
        return self.home / "tts.db"

    @property
    def cache_dir(self) -> Path:
        return self.home / "audio_cache"

    @property
    def model_dir(self) -> Path:
        """Derived model files (the rewritten acoustic model), made once and kept."""
        return self.home / "models"
