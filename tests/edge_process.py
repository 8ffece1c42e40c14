"""One process of a pretend deployment, for the cluster-wide edge limit tests: its own event loop, its own
ClusterResilient(EdgeEngine) and Redis connections, reaching the test's edge double on 127.0.0.1.

Run as ``python tests/edge_process.py '<json>'`` (tests/ on PYTHONPATH) with keys: mode ("hammer": send
``requests`` requests at once; "fail": send requests one by one until the circuit opens; "hold": take a slot
and keep it), redis, port, ca (the double's CA, a PEM file), concurrency, threshold, cooldown, lease. It
prints "ready", waits for a line on stdin, runs, and prints one JSON line with what happened.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from typing import Any

import edge_tts.communicate
from edge_double import connector_to

from tts_service.engines.base import Prosody
from tts_service.engines.edge import EdgeEngine
from tts_service.engines.resilience import CircuitOpen, ClusterResilient
from tts_service.errors import SynthesisError

VOICE = "zh-CN-XiaoxiaoNeural"


def engine(config: dict[str, Any]) -> ClusterResilient:
    context = ssl.create_default_context(cafile=config["ca"])
    # edge-tts hands its own module-level context to ws_connect; this process trusts only the double.
    edge_tts.communicate._SSL_CTX = context  # type: ignore[attr-defined]
    inner = EdgeEngine(timeout=5, connector_factory=lambda: connector_to(config["port"], context))
    return ClusterResilient(
        inner,
        config["redis"],
        concurrency=config.get("concurrency", 2),
        retries=0,
        threshold=config.get("threshold", 5),
        cooldown=config.get("cooldown", 30.0),
        lease=config.get("lease", 10.0),
    )


async def hammer(resilient: ClusterResilient, requests: int) -> dict[str, Any]:
    texts = [f"第{n}句" for n in range(requests)]
    results = await asyncio.gather(
        *(resilient.synthesize(text, VOICE, Prosody()) for text in texts), return_exceptions=True
    )
    errors = [str(r) for r in results if isinstance(r, BaseException)]
    return {"ok": len(results) - len(errors), "errors": errors}


async def fail(resilient: ClusterResilient) -> dict[str, Any]:
    failures = 0
    while True:
        try:
            await resilient.synthesize("你好", VOICE, Prosody())
        except CircuitOpen as exc:
            return {"failures": failures, "open": exc.message}
        except SynthesisError:
            failures += 1


async def main(config: dict[str, Any]) -> None:
    resilient = engine(config)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    try:
        if config["mode"] == "hold":
            lease = await resilient.slots.acquire()
            print(json.dumps({"held": lease.token}), flush=True)
            await asyncio.sleep(3600)  # until killed
        outcome = await (
            hammer(resilient, config["requests"]) if config["mode"] == "hammer" else fail(resilient)
        )
        print(json.dumps(outcome), flush=True)
    finally:
        await resilient.aclose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
