"""Settings, read once from TTS_* environment variables and passed down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tts_service.resources import default_home

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")  # S3's rule, which every S3-like store keeps
MIN_TOKEN_CHARS = 16  # a shorter editor or metrics token turns its access off (with a warning at start-up)


class Settings(BaseSettings):
    """Everything configurable. Build one with ``Settings()`` and hand it to whoever needs it."""

    model_config = SettingsConfigDict(env_prefix="TTS_", extra="ignore")

    # Unset: the checkout in a checkout (`make serve` keeps its top-level audio_cache/), else the per-user
    # data directory; never the install location. See resources.default_home.
    home: Path = Field(
        default_factory=default_home, description="Directory holding all state (database, audio cache)."
    )
    # Unset: SQLite in TTS_HOME/tts.db. postgresql://user:password@host:port/db: PostgreSQL, shared by every
    # machine of a deployment (a secret: it may hold the password).
    database_url: SecretStr | None = Field(default=None, description="The store's database (PostgreSQL URL).")
    # Unset: every limit is per process. redis://host:6379/0: the public /api/tts limit is shared by every
    # web process of the deployment (a secret: it may hold a password).
    redis_url: SecretStr | None = Field(default=None, description="Redis, shared by the deployment.")
    worker_lost_after: float = Field(
        default=30.0,
        gt=0,
        description="Seconds without a heartbeat after which a queue worker counts as dead (TTS_REDIS_URL):"
        " the chunks it held go back on their queue.",
    )
    outage_wait: float = Field(
        default=30.0,
        ge=0,
        description="Seconds a job waits out a database or object store outage, then fails.",
    )
    engine: str = Field(default="local", description="Default synthesis engine.")
    voice: str | None = Field(default=None, description="Default voice; the engine's own default if unset.")
    editor_token: SecretStr | None = Field(default=None, description="Bearer token for editor endpoints.")
    max_article_chars: int = Field(default=100_000, gt=0)
    workers: int = Field(
        default=2, gt=0, description="The default for both of the next two (one setting for small sites)."
    )
    synthesis_workers: int | None = Field(
        default=None, gt=0, description="Engine calls at once per process (the local voice's threads)."
    )
    job_workers: int | None = Field(
        default=None, gt=0, description="Articles generating at once per process."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    local_threads: int = Field(default=1, gt=0, description="LiteRT threads per local-voice worker.")
    edge_timeout: int = Field(default=30, gt=0, description="Seconds before an edge-tts request gives up.")
    edge_concurrency: int = Field(
        default=4, gt=0, description="Requests in flight to Microsoft at once (in all, with TTS_REDIS_URL)."
    )
    edge_retries: int = Field(default=3, ge=0, description="Retries of a failed edge request.")
    edge_backoff: float = Field(default=0.5, ge=0, description="First retry delay, seconds; doubles.")
    edge_backoff_cap: float = Field(default=8.0, ge=0, description="Longest delay between retries, seconds.")
    breaker_threshold: int = Field(default=5, gt=0, description="Failures in a row that open the circuit.")
    breaker_cooldown: float = Field(default=30.0, ge=0, description="Seconds an open circuit stays open.")
    fallback_engine: str | None = Field(
        default="local", description="Engine for a whole article when its own engine fails; empty: none."
    )
    cors_origins: str = Field(default="", description="Origins that may read the API (a,b or *).")
    public_tts: bool = Field(default=False, description="Let anyone use POST /api/tts, rate-limited.")
    public_tts_per_minute: int = Field(default=10, gt=0, description="POST /api/tts calls a client may make.")
    tts_queue: int = Field(default=8, ge=0, description="POST /api/tts requests that may wait for a worker.")
    tts_queue_seconds: float = Field(default=10.0, gt=0, description="Longest wait for a worker (then 503).")
    tts_max_chars: int = Field(default=500, gt=0, description="Longest text POST /api/tts accepts.")
    max_body_bytes: int = Field(default=2_000_000, gt=0, description="Largest request body accepted.")
    # Slow clients. A request head is a few hundred bytes: 10 s is generous on any link. A body of
    # max_body_bytes (2 MB) within 30 s needs about 0.53 Mbit/s of upload, which a slow mobile link has;
    # raise it with max_body_bytes.
    header_timeout: float = Field(default=10.0, gt=0, description="Seconds to receive a whole request head.")
    body_timeout: float = Field(default=30.0, gt=0, description="Seconds to receive a whole request body.")
    max_lexicon_entries: int = Field(default=5_000, gt=0, description="Most entries the lexicon may hold.")
    plan_cache_mb: int = Field(
        default=64, ge=0, description="MB of article plans kept in memory (100,000 characters: about 2 MB)."
    )
    # 64 MB: about 1,100 sentence files of 58 kB, or 30 whole articles of 2 MB (files over 1/8 of it are
    # always streamed from disk).
    audio_memory_mb: int = Field(
        default=64, ge=0, description="MB of audio files kept in memory to serve again; 0: none."
    )
    access_log: bool = Field(
        default=True, description="One JSON line per request on stderr (off: the front server logs them)."
    )
    changes_poll: float = Field(
        default=0.5,
        gt=0,
        description="Seconds between looks for other processes' writes to the store (pages lag by so much).",
    )
    session_hours: float = Field(default=8.0, gt=0, description="How long an editor's sign-in lasts.")
    min_free_mb: int = Field(
        default=500, ge=0, description="Free space under TTS_HOME below which /healthz says degraded."
    )
    keep_revisions: int = Field(
        default=20, ge=0, description="Revisions kept per article (older ones go at each save); 0: all."
    )
    embed_origins: str = Field(
        default="", description="Sites that may embed the toolbar (https://news.example,https://gov.example)."
    )
    embed_mode: Literal["open", "published-only"] = Field(
        default="open", description="published-only: speak only pages editors created or pre-generated."
    )
    embed_keep_query: str = Field(
        default="",
        description="Query parameters that are part of a page's identity (id,articleid); others go.",
    )
    embed_revisions_per_minute: int = Field(
        default=10, gt=0, description="New page revisions a site may store through /api/embed per minute."
    )
    embed_daily_chars: int = Field(
        default=200_000, gt=0, description="Characters of new text a site may store through /api/embed a day."
    )
    metrics_token: SecretStr | None = Field(default=None, description="Bearer token for /metrics only.")
    metrics_public: bool = Field(default=False, description="Serve /metrics to anyone, without a token.")
    # Where the audio lives. Unset or "file": TTS_HOME/audio_cache. "s3://bucket/prefix": an S3-compatible
    # object store (AWS, Aliyun OSS, Tencent COS, MinIO, SeaweedFS). Its credentials come only from the
    # standard AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role), never
    # from TTS_ variables: one place for secrets, the one every operator's tooling already manages.
    audio_store: str | None = Field(
        default=None,
        description='Where audio lives: unset or "file" (TTS_HOME/audio_cache), or s3://bucket/prefix.',
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="The S3 endpoint of a non-AWS store (https://oss-cn-hangzhou.aliyuncs.com)."
    )
    s3_region: str | None = Field(default=None, description="The bucket's region (the AWS chain's if unset).")
    # Path style (endpoint/bucket/key) for MinIO, SeaweedFS and stores without per-bucket host names; AWS
    # and Aliyun OSS want virtual-hosted style (bucket.endpoint/key), the default.
    s3_path_style: bool = Field(default=False, description="Address the bucket in the path, not the host.")
    # A CDN or the bucket's public endpoint. Audio URLs in manifests, pages, the feed and the toolbar are
    # then {base}/{object key}, and readers never reach this service for audio (nor its database).
    audio_base_url: str | None = Field(
        default=None, description="Public base URL of the audio (a CDN); unset: /audio/{key}.mp3 here."
    )
    # With audio in an object store and no base URL: "stream" the object through this service (ranges
    # honoured), or "presigned": answer 302 to a short-lived signed URL, so the bytes go from the store.
    audio_redirect: Literal["stream", "presigned"] = Field(
        default="stream", description="How /audio/{key}.mp3 answers from an object store."
    )
    presigned_seconds: int = Field(
        default=300, gt=0, description="How long a presigned audio URL stays valid, seconds."
    )

    @field_validator("audio_store")
    @classmethod
    def _audio_store(cls, value: str | None) -> str | None:
        if value is None or value.strip() in ("", "file"):
            return None
        parse_s3_url(value)  # refused at start-up, with the reason, not at the first write
        return value.strip()

    @field_validator("audio_base_url")
    @classmethod
    def _audio_base(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        split = urlsplit(value.strip())
        if split.scheme not in ("http", "https") or not split.netloc or split.query or split.fragment:
            raise ValueError(f"TTS_AUDIO_BASE_URL must be an absolute http(s) URL: {value!r}")
        return value.strip().rstrip("/")

    @property
    def s3_location(self) -> tuple[str, str] | None:
        """(bucket, prefix) when the audio lives in an object store; None for local files."""
        return parse_s3_url(self.audio_store) if self.audio_store else None

    @field_validator("fallback_engine")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @property
    def editor_key(self) -> str | None:
        """The editor token while editor access is on; None when it is off (unset, blank or too short)."""
        return _usable(self.editor_token)

    @property
    def metrics_keys(self) -> tuple[str, ...]:
        """The tokens that open /metrics: its own and the editor's, those that are usable."""
        return tuple(key for key in (_usable(self.metrics_token), self.editor_key) if key is not None)

    def token_warnings(self) -> list[str]:
        """What an operator must hear at start-up about the tokens: set, but not usable."""
        warnings = []
        for name, token in (
            ("TTS_EDITOR_TOKEN", self.editor_token),
            ("TTS_METRICS_TOKEN", self.metrics_token),
        ):
            if token is not None and _usable(token) is None:
                warnings.append(
                    f"{name} is set but blank or shorter than {MIN_TOKEN_CHARS} characters, so the access it"
                    " grants is OFF; make one with: openssl rand -hex 24"
                )
        return warnings

    @property
    def synthesis_slots(self) -> int:
        """Chunks synthesised at once in this process: TTS_SYNTHESIS_WORKERS, else TTS_WORKERS."""
        return self.synthesis_workers or self.workers

    @property
    def concurrent_jobs(self) -> int:
        """Generation jobs run at once in this process: TTS_JOB_WORKERS, else TTS_WORKERS."""
        return self.job_workers or self.workers

    @property
    def embed_origin_list(self) -> frozenset[str]:
        """The allowed sites as browsers send them in ``Origin`` (lower case, no trailing slash)."""
        return frozenset(o.strip().rstrip("/").lower() for o in self.embed_origins.split(",") if o.strip())

    @property
    def embed_keep_query_list(self) -> frozenset[str]:
        return frozenset(key.strip() for key in self.embed_keep_query.split(",") if key.strip())

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def db_path(self) -> Path:
        return self.home / "tts.db"

    @property
    def database(self) -> Path | str:
        """Where the store lives: TTS_DATABASE_URL when set, else the SQLite file in TTS_HOME."""
        url = self.database_url.get_secret_value().strip() if self.database_url is not None else ""
        return url or self.db_path

    @property
    def cache_dir(self) -> Path:
        return self.home / "audio_cache"

    @property
    def model_dir(self) -> Path:
        """Derived model files (the rewritten acoustic model), made once and kept."""
        return self.home / "models"


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix`` (prefix without slashes at its ends, may be empty);
    ValueError naming TTS_AUDIO_STORE for anything else."""
    split = urlsplit(url.strip())
    bucket, prefix = split.netloc, split.path.strip("/")
    if split.scheme != "s3" or not _BUCKET_RE.fullmatch(bucket) or split.query or split.fragment:
        raise ValueError(
            f'TTS_AUDIO_STORE must be unset, "file", or s3://bucket/prefix (a bucket name of 3 to 63'
            f" lower-case letters, digits, dots and hyphens): {url!r}"
        )
    if "//" in prefix:
        raise ValueError(f"TTS_AUDIO_STORE has an empty part in its prefix: {url!r}")
    return bucket, prefix


def _usable(token: SecretStr | None) -> str | None:
    """A token's value if it may open anything: set, not blank, at least MIN_TOKEN_CHARS characters."""
    if token is None:
        return None
    value = token.get_secret_value()
    return value if len(value.strip()) >= MIN_TOKEN_CHARS else None
