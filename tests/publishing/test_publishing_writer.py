"""The writer and its ledger: atomic, incremental, and only ever touching the files it wrote."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from tts_service.errors import BadLedger, ForeignFiles, PublishBusy, TTSError
from tts_service.publishing.ledger import LEDGER, Ledger, site_path
from tts_service.publishing.output import Output
from tts_service.publishing.writer import Writer


def outputs(**files: bytes) -> dict[str, Output]:
    """Outputs from keyword names: index_html=... is index.html; a__b_txt is a/b.txt."""
    made = [Output.of_bytes(name.replace("__", "/").replace("_", "."), data) for name, data in files.items()]
    return {o.path: o for o in made}


def leftovers(root: Path) -> list[Path]:
    """Temporary files of atomic writes still in the tree."""
    return [p for p in root.rglob("*") if p.name.endswith(".part")]


def test_first_run_writes_everything_then_nothing(tmp_path: Path) -> None:
    site = outputs(index_html=b"<p>1</p>", articles__a_html=b"<p>a</p>")
    first = Writer(tmp_path).apply(site)
    assert first.written == ("articles/a.html", "index.html") and first.unchanged == ()
    assert (tmp_path / "articles" / "a.html").read_bytes() == b"<p>a</p>"
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    again = Writer(tmp_path).apply(site)
    assert again.written == () and again.removed == () and len(again.unchanged) == 2
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stamps  # ledger too
    assert leftovers(tmp_path) == []


def test_only_changed_files_are_written_and_gone_ones_removed(tmp_path: Path) -> None:
    Writer(tmp_path).apply(outputs(index_html=b"1", a_html=b"a", b_html=b"b"))
    report = Writer(tmp_path).apply(outputs(index_html=b"2", a_html=b"a"))
    assert (report.written, report.unchanged, report.removed) == (("index.html",), ("a.html",), ("b.html",))
    assert not (tmp_path / "b.html").exists() and (tmp_path / "index.html").read_bytes() == b"2"
    assert set(Ledger.load(tmp_path).entries) == {"a.html", "index.html"}


def test_a_file_changed_or_deleted_behind_its_back_is_written_again(tmp_path: Path) -> None:
    site = outputs(a_html=b"a", b_html=b"b")
    Writer(tmp_path).apply(site)
    (tmp_path / "a.html").write_bytes(b"edited by hand")
    (tmp_path / "b.html").unlink()
    report = Writer(tmp_path).apply(site)
    assert report.written == ("a.html", "b.html")
    assert (tmp_path / "a.html").read_bytes() == b"a" and (tmp_path / "b.html").read_bytes() == b"b"


def test_foreign_files_are_never_replaced_or_removed(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(b"the CMS's own front page")
    (tmp_path / "robots.txt").write_bytes(b"User-agent: *")
    with pytest.raises(ForeignFiles, match="index.html"):
        Writer(tmp_path).apply(outputs(index_html=b"ours", a_html=b"a"))
    assert (tmp_path / "index.html").read_bytes() == b"the CMS's own front page"
    assert not (tmp_path / "a.html").exists() and not (tmp_path / LEDGER).exists()  # nothing written
    Writer(tmp_path).apply(outputs(a_html=b"a"))
    Writer(tmp_path).apply({})  # the site went: our file goes, theirs stay
    assert sorted(p.name for p in tmp_path.iterdir()) == [LEDGER, "index.html", "robots.txt"]


def test_a_ledger_naming_paths_outside_the_directory_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"keep me")
    root = tmp_path / "site"
    root.mkdir()
    entry = {"fingerprint": "x", "size": 1, "mtime_ns": 1}
    (root / LEDGER).write_text(json.dumps({"format": 1, "files": {"../precious.txt": entry}}))
    with pytest.raises(BadLedger, match="precious"):
        Writer(root).apply({})
    assert outside.read_bytes() == b"keep me"


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", LEDGER, ""])
def test_site_paths_stay_inside(path: str) -> None:
    with pytest.raises(ValueError):
        site_path(path)


def test_an_unreadable_ledger_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / LEDGER).write_text("{not json")
    with pytest.raises(BadLedger, match="cannot read"):
        Writer(tmp_path).apply(outputs(a_html=b"a"))
    assert not (tmp_path / "a.html").exists()


def test_files_are_replaced_never_rewritten_in_place(tmp_path: Path) -> None:
    """A reader holding the old file (a web server mid-response) keeps reading the old bytes, whole: the new
    file is a new inode renamed over the path, not the old one truncated and refilled."""
    old = b"old page " * 10_000
    Writer(tmp_path).apply(outputs(a_html=old))
    with (tmp_path / "a.html").open("rb") as serving:
        first = serving.read(100)
        inode = os.fstat(serving.fileno()).st_ino
        Writer(tmp_path).apply(outputs(a_html=b"new page"))
        assert first + serving.read() == old
    assert (tmp_path / "a.html").stat().st_ino != inode
    assert (tmp_path / "a.html").read_bytes() == b"new page"
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_no_temp_file_and_the_old_file(tmp_path: Path) -> None:
    Writer(tmp_path).apply(outputs(a_html=b"a"))
    missing = Output("audio/k.mp3", "key:k", source=tmp_path / "not-in-the-cache.mp3")
    with pytest.raises(Exception, match="audio cache"):
        Writer(tmp_path).apply({**outputs(a_html=b"a2"), "audio/k.mp3": missing})
    assert leftovers(tmp_path) == [] and not (tmp_path / "audio" / "k.mp3").exists()
    assert (tmp_path / "a.html").read_bytes() == b"a2"  # written before the failure, and recorded:
    assert Writer(tmp_path).apply(outputs(a_html=b"a2")).written == ()
    assert Writer(tmp_path).apply(outputs(a_html=b"a2")).removed == ()


def test_a_stopped_run_leaves_its_files_its_own(tmp_path: Path) -> None:
    """Paths are claimed in the ledger before they are written: after a crash half way, the next run
    removes or rewrites them instead of refusing them as someone else's."""
    big = tmp_path / "big.mp3"
    big.write_bytes(b"\xff" * 1000)
    broken = Output("audio/gone.mp3", "key:gone", source=tmp_path / "gone.mp3")
    site = {**outputs(a_html=b"a"), "audio/big.mp3": Output("audio/big.mp3", "key:big", source=big)}
    with pytest.raises(Exception, match="audio cache"):
        Writer(tmp_path).apply({**site, "audio/gone.mp3": broken})
    report = Writer(tmp_path).apply(outputs(a_html=b"a"))
    assert report.removed == ("audio/big.mp3", "audio/gone.mp3") and report.unchanged == ("a.html",)
    assert not (tmp_path / "audio" / "big.mp3").exists()


def test_copied_audio_is_not_read_again_while_its_key_is_the_same(tmp_path: Path) -> None:
    source = tmp_path / "cache.mp3"
    source.write_bytes(b"\xff\xf3" * 500)
    root = tmp_path / "site"
    root.mkdir()
    audio = {"audio/k.mp3": Output("audio/k.mp3", "key:k", source=source)}
    assert Writer(root).apply(audio).written == ("audio/k.mp3",)
    source.unlink()  # gone from the cache: the published copy is still current, by its key
    assert Writer(root).apply(audio).unchanged == ("audio/k.mp3",)


def test_one_run_at_a_time_per_directory(tmp_path: Path) -> None:
    import fcntl

    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a running publish holds
        with pytest.raises(PublishBusy):
            Writer(tmp_path).apply(outputs(a_html=b"a"))
    finally:
        os.close(fd)
    done = threading.Event()
    threading.Thread(target=lambda: (Writer(tmp_path).apply(outputs(a_html=b"a")), done.set())).start()
    assert done.wait(10)


@pytest.fixture
def small_disk(tmp_path: Path):
    """An output directory on a 64 kB tmpfs (where this machine lets the tests mount one)."""
    from helpers import mount_tmpfs, unmount

    root = tmp_path / "small"
    if not mount_tmpfs(root, "64k"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield root
    finally:
        unmount(root)


def test_a_full_disk_is_a_clear_error_that_leaves_the_site_whole(small_disk: Path) -> None:
    """As found: a full disk (or any refusal to write) came out of the writer as a bare OSError, a traceback
    from the command, and the end of ``--watch``, which goes on only after the service's own errors."""
    Writer(small_disk).apply(outputs(index_html=b"old index", a_html=b"a"))
    big = b"\xff" * 200_000  # over the disk's 64 kB
    with pytest.raises(TTSError) as refused:
        Writer(small_disk).apply(outputs(index_html=b"new index", a_html=b"a", b_mp3=big))
    assert refused.value.code == "output_unwritable" and "No space left" in refused.value.message
    assert leftovers(small_disk) == []
    assert not (small_disk / "b.mp3").exists() and (small_disk / "a.html").read_bytes() == b"a"
    assert (small_disk / "index.html").read_bytes() in (b"old index", b"new index")  # one or the other, whole
    report = Writer(small_disk).apply(outputs(index_html=b"new index", a_html=b"a"))  # space enough again
    assert report.removed == ("b.mp3",) and (small_disk / "index.html").read_bytes() == b"new index"
