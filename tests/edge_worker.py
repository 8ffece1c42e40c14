"""``tts-service worker`` whose edge engine reaches the test's edge double instead of Microsoft: the real CLI,
worker, edge-tts client and Redis, with only the network address and the trusted CA changed.

Run as ``python tests/edge_worker.py PORT CA_FILE [worker options]`` with tests/ on PYTHONPATH.
"""

from __future__ import annotations

import ssl
import sys
from typing import Any

import edge_tts.communicate
from edge_double import connector_to

from tts_service.cli import app
from tts_service.engines import edge


def main() -> None:
    port, ca = int(sys.argv[1]), sys.argv[2]
    context = ssl.create_default_context(cafile=ca)
    edge_tts.communicate._SSL_CTX = context  # edge-tts hands its own context to ws_connect
    plain_init = edge.EdgeEngine.__init__

    def reaching_the_double(
        self: edge.EdgeEngine, *, connector_factory: object = None, **options: Any
    ) -> None:
        plain_init(self, connector_factory=lambda: connector_to(port, context), **options)

    edge.EdgeEngine.__init__ = reaching_the_double  # type: ignore[method-assign]
    app(["worker", *sys.argv[3:]])


if __name__ == "__main__":
    main()
