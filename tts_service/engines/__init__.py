"""Engines by name. Each engine lives in its own module and implements ``base.Engine``."""

from __future__ import annotations

from collections.abc import Callable

from tts_service.config import Settings
from tts_service.engines.base import Engine, Prosody, Synthesis, check_voice, parse_rate
from tts_service.errors import InvalidInput

EDGE_LEASE_MARGIN = 5.0  # seconds a cluster-wide edge slot's lease lasts beyond TTS_EDGE_TIMEOUT

__all__ = ["Engine", "EngineRegistry", "Prosody", "Synthesis", "check_voice", "parse_rate", "ENGINE_NAMES"]


def _espeak(settings: Settings) -> Engine:
    from tts_service.engines.espeak import EspeakEngine

    return EspeakEngine()


def _edge(settings: Settings) -> Engine:
    from tts_service.engines.edge import EdgeEngine
    from tts_service.engines.resilience import ClusterResilient, Resilient
    from tts_service.voices import VoiceCatalog

    # Microsoft's service throttles, resets and stalls now and then: retry with backoff, bound how many
    # requests are in flight, and stop calling it for a while when it keeps failing. With TTS_REDIS_URL,
    # the bound and the breaker hold for the whole deployment (every web and worker process).
    # Voices new in a list refreshed into TTS_HOME (`tts-service voices refresh`) are accepted too.
    engine = EdgeEngine(timeout=settings.edge_timeout, voices=VoiceCatalog(settings.home).ids("edge"))
    redis_url = settings.redis_url.get_secret_value().strip() if settings.redis_url is not None else ""
    if redis_url:
        return ClusterResilient(
            engine,
            redis_url,
            concurrency=settings.edge_concurrency,
            retries=settings.edge_retries,
            backoff=settings.edge_backoff,
            backoff_cap=settings.edge_backoff_cap,
            threshold=settings.breaker_threshold,
            cooldown=settings.breaker_cooldown,
            # A lease outlives a request that times out; a longer one (a long stream) renews its lease.
            lease=settings.edge_timeout + EDGE_LEASE_MARGIN,
        )
    return Resilient(
        engine,
        concurrency=settings.edge_concurrency,
        retries=settings.edge_retries,
        backoff=settings.edge_backoff,
        backoff_cap=settings.edge_backoff_cap,
        threshold=settings.breaker_threshold,
        cooldown=settings.breaker_cooldown,
    )


def _local(settings: Settings) -> Engine:
    from tts_service.engines.local import LocalEngine

    return LocalEngine(settings.model_dir, workers=settings.synthesis_slots, threads=settings.local_threads)


_FACTORIES: dict[str, Callable[[Settings], Engine]] = {"local": _local, "espeak": _espeak, "edge": _edge}
ENGINE_NAMES = tuple(_FACTORIES)


def check_engine(name: str) -> str:
    """Return ``name`` if it names an engine, else raise InvalidInput listing the valid names."""
    if name not in _FACTORIES:
        raise InvalidInput(f"unknown engine {name!r}; valid engines: {', '.join(ENGINE_NAMES)}")
    return name


class EngineRegistry:
    """Builds each engine on first use and keeps it for the life of the process."""

    def __init__(self, settings: Settings, overrides: dict[str, Engine] | None = None) -> None:
        self._settings = settings
        self._engines: dict[str, Engine] = dict(overrides or {})
        self.default = settings.engine if settings.engine in self._engines else check_engine(settings.engine)

    def get(self, name: str | None = None) -> Engine:
        """The engine called ``name`` (default: the configured one); InvalidInput if there is none."""
        name = name or self.default
        if name not in self._engines:
            self._engines[name] = _FACTORIES[check_engine(name)](self._settings)
        return self._engines[name]

    async def warm(self, name: str | None = None) -> None:
        """Build an engine and let it load what it loads lazily (models, dictionaries), if it has a way."""
        warm = getattr(self.get(name), "warm", None)
        if warm is not None:
            await warm()

    def close(self) -> None:
        """Release what engines hold (worker threads)."""
        for engine in self._engines.values():
            close = getattr(engine, "close", None)
            if close is not None:
                close()

    async def aclose(self) -> None:
        """close(), then close what engines hold on the event loop (the edge engine's Redis connections)."""
        self.close()
        for engine in self._engines.values():
            aclose = getattr(engine, "aclose", None)
            if aclose is not None:
                await aclose()
