"""The audio store in an S3-compatible bucket: ``<prefix>/ab/<key>.mp3``, one object per key.

An object is written by one PUT, which S3 makes visible whole or not at all, so a record made after the PUT
returned always means a whole object (as the file store's rename does). Each object carries what a CDN and a
player need (``Content-Type: audio/mpeg``, a year's immutable ``Cache-Control``) and its SHA-256 in the
metadata (``x-amz-meta-sha256``), which ``cache verify`` and a later migration can compare without a
record. boto3's client is synchronous and thread-safe: async callers run it through ``asyncio.to_thread``,
as they do the file store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tts_service.cache import IMMUTABLE, QUARANTINE, Entry, ObjectInfo, Stored, is_key, relative_name
from tts_service.errors import AudioStoreDown, NotFound

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client
    from types_boto3_s3.type_defs import CopySourceTypeDef

MEDIA_TYPE = "audio/mpeg"
_MISSING = {"404", "NoSuchKey", "NotFound"}
# botocore's "standard" retry mode: exponential backoff with jitter on throttling, 5xx and connection
# errors. 5 attempts over about 10 s ride out a store's restart or a brief network fault; longer, and a
# job would sit on a store that is really down instead of failing with the reason.
RETRIES = 5


def client_config(path_style: bool, retries: int) -> Config:
    return Config(
        # Not "auto": with an endpoint URL, botocore's auto means path style, which Aliyun OSS refuses.
        s3={"addressing_style": "path" if path_style else "virtual"},
        # Checksums only where S3 requires them: botocore's default (aws-chunked uploads with a trailing
        # CRC32) is refused by several S3-compatible stores (Aliyun OSS among them); we check SHA-256 anyway.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        signature_version="s3v4",  # presigned URLs too (boto3 would sign those with v2, which AWS refuses)
        retries={"max_attempts": retries, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,  # synthesis slots, assembly reads and readers' streams at once
    )


class S3AudioStore:
    """Audio objects in ``bucket`` under ``prefix``; credentials from boto3's default chain only."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        path_style: bool = False,
        retries: int | None = None,
    ) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.endpoint_url = endpoint_url
        config = client_config(path_style, RETRIES if retries is None else retries)
        # A session of our own: boto3's module-level default session is not safe to build from threads.
        session = boto3.session.Session()
        self.client: S3Client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )
        # /healthz asks without retries and with short timeouts: a monitor wants an answer in seconds.
        quick = client_config(path_style, 1).merge(Config(connect_timeout=2, read_timeout=3))
        self._probe: S3Client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=quick
        )

    def _name(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def object_key(self, key: str) -> str:
        return self._name(relative_name(key))

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    def _down(self, doing: str, exc: Exception) -> AudioStoreDown:
        """The error a caller sees: what failed and why, in S3's words (an error code, never a secret)."""
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code', '?')}: {error.get('Message', '')}".rstrip(": ")
        else:
            reason = str(exc)
        return AudioStoreDown(f"the audio store {self.describe()} failed to {doing}: {reason}")

    def exists(self, key: str) -> bool:
        try:
            self.info(key)
        except NotFound:
            return False
        return True

    def info(self, key: str) -> ObjectInfo:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _missing(exc):
                raise NotFound("no such audio") from None
            raise self._down(f"look up {key}", exc) from exc
        except BotoCoreError as exc:
            raise self._down(f"look up {key}", exc) from exc
        return ObjectInfo(head["ContentLength"], head["LastModified"].timestamp())

    def read(self, key: str) -> bytes:
        return self._get(key, {})

    def read_range(self, key: str, start: int, end: int) -> bytes:
        return self._get(key, {"Range": f"bytes={start}-{end - 1}"})

    def _get(self, key: str, options: dict[str, Any]) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key), **options)
            return answer["Body"].read()
        except ClientError as exc:
            if _missing(exc):
                raise NotFound("no such audio") from None
            raise self._down(f"read {key}", exc) from exc
        except BotoCoreError as exc:
            raise self._down(f"read {key}", exc) from exc

    def write(self, key: str, audio: bytes) -> Stored:
        stored = Stored.of(audio)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=audio,
                ContentType=MEDIA_TYPE,
                CacheControl=IMMUTABLE,
                Metadata={"sha256": stored.sha256},
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._down(f"store {key}", exc) from exc
        return stored

    def delete(self, key: str) -> bool:
        had = self.exists(key)
        if had:
            self._delete(self.object_key(key))
        return had

    def _delete(self, name: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except (ClientError, BotoCoreError) as exc:
            raise self._down(f"delete {name}", exc) from exc

    def entries(self) -> Iterator[Entry]:
        base = f"{self.prefix}/" if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base):
                for item in page.get("Contents", []):
                    name = item["Key"][len(base) :]
                    if name.startswith(f"{QUARANTINE}/"):
                        continue
                    stem = name.rsplit("/", 1)[-1].removesuffix(".mp3")
                    key = stem if is_key(stem) and name == relative_name(stem) else None
                    yield Entry(name, key, item["Size"], item["LastModified"].timestamp())
        except (ClientError, BotoCoreError) as exc:
            raise self._down("list the audio", exc) from exc

    def remove(self, entry: Entry) -> None:
        self._delete(self._name(entry.name))

    def quarantine(self, keys: Iterable[str]) -> list[str]:
        """Copy each object under ``<prefix>/quarantine/`` and then delete it: S3 has no rename."""
        moved = []
        for key in keys:
            if not self.exists(key):
                continue
            source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": self.object_key(key)}
            target = self._name(f"{QUARANTINE}/{key}.mp3")
            try:
                self.client.copy_object(Bucket=self.bucket, Key=target, CopySource=source)
            except (ClientError, BotoCoreError) as exc:
                raise self._down(f"quarantine {key}", exc) from exc
            self._delete(source["Key"])
            moved.append(key)
        return moved

    def presigned_url(self, key: str, seconds: int) -> str:
        """A URL that GETs the object without credentials for ``seconds`` (signed here, no request made)."""
        params = {"Bucket": self.bucket, "Key": self.object_key(key)}
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    def probe(self) -> None:
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise self._down("answer", exc) from exc

    def local_path(self, key: str) -> None:
        return None

    def close(self) -> None:
        self.client.close()
        self._probe.close()


def _missing(exc: ClientError) -> bool:
    """Whether S3 said there is no such object (HEAD answers a bare 404, GET a NoSuchKey)."""
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING
