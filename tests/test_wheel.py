"""The package as a user installs it: sdist and wheel built, the wheel installed into a fresh venv elsewhere.

The rest of the suite runs the editable checkout, where the repository's own files are always at hand. Here
nothing of the repository is reachable: the installed ``tts-service`` must find its templates, static files
and demo inside the package, and keep its state in the per-user data directory, not next to site-packages.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_FILES = {  # what the wheel must carry besides the code: (folder in the repo, folder in the wheel)
    "templates": "tts_service/templates",
    "tts_service/static": "tts_service/static",
    "tts_service/demo": "tts_service/demo",
    "tts_service/data": "tts_service/data",  # Microsoft's voice list, as shipped (tts_service/voices.py)
}

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Installed:
    """A built sdist and wheel, and a venv outside the repository with the wheel installed."""

    sdist: Path
    wheel: Path
    venv: Path
    package: Path  # the installed tts_service/ in the venv's site-packages
    package_files: frozenset[str]  # what pip put there, bytecode included
    work: Path  # the current directory of every command run from the venv
    env: dict[str, str]
    data_dir: Path  # where platformdirs puts the per-user data of tts_service under env


@dataclass(frozen=True)
class Served:
    """What the installed server answered, and what its package folder held afterwards."""

    seed: str
    pages: dict[str, httpx.Response]
    package_files: frozenset[str]  # what the package folder holds after seed and serve


def _files(folder: Path, bytecode: bool = False) -> set[str]:
    """Every file under ``folder``, relative to it; Python's bytecode caches only if asked for."""
    files = (p for p in folder.rglob("*") if p.is_file() and (bytecode or "__pycache__" not in p.parts))
    return {p.relative_to(folder).as_posix() for p in files}


def _run(*args: str | Path, **kwargs) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """Build as a user would (sdist, then the wheel from the sdist), then ``pip install`` it with its deps."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    # --no-isolation: the build backend comes from the test extras, so no download and no version drift.
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, REPO_ROOT)
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "pip", "install", "-q", wheel)
    (package,) = (venv / "lib").glob("python3.*/site-packages/tts_service")
    package_files = frozenset(_files(package, bytecode=True))
    home = tmp / "home"
    work = tmp / "work"
    work.mkdir()
    # TTS_HOME unset: the default is what is under test. No PYTHONPATH: nothing of the checkout is importable.
    unset = ("PYTHONPATH", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_") and k not in unset}
    env |= {"HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    env |= {"TTS_ENGINE": "espeak", "TTS_FALLBACK_ENGINE": ""}  # quick, and no model files needed
    yield Installed(sdist, wheel, venv, package, package_files, work, env, home / "data" / "tts_service")
    shutil.rmtree(venv)  # 500 MB, and pytest keeps the temporary folders of the last three runs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(installed: Installed) -> Iterator[str]:
    """The installed ``tts-service serve`` on a free loopback port, started from outside the repository."""
    cli = installed.venv / "bin" / "tts-service"
    port = _free_port()
    log = installed.work / "server.log"
    with log.open("wb") as out:
        command = [cli, "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(
            command, cwd=installed.work, env=installed.env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, f"server exited: {log.read_text()}"
                assert time.monotonic() < deadline, f"server did not come up: {log.read_text()}"
                try:
                    if httpx.get(f"{url}/api/articles", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def served(installed: Installed, server: str) -> Served:
    """Seed the demo, then fetch the home page, the demo's page, a static file and the voice list from the
    installed app."""
    cli = installed.venv / "bin" / "tts-service"
    seed = _run(cli, "seed", cwd=installed.work, env=installed.env)
    paths = {"index": "/", "demo": "/articles/demo", "css": "/static/reader.css", "voices": "/api/voices"}
    pages = {name: httpx.get(server + path, timeout=30) for name, path in paths.items()}
    # The demo page starts its audio job (espeak: seconds); wait until it is done, wherever its audio goes.
    deadline = time.monotonic() + 120
    audio = httpx.get(f"{server}/api/articles/demo/audio", timeout=30).json()
    while audio["status"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
        audio = httpx.get(f"{server}/api/articles/demo/audio", timeout=30).json()
    assert audio["status"] == "ready", audio
    return Served(seed, pages, frozenset(_files(installed.package, bytecode=True)))


def test_the_wheel_carries_templates_static_files_demo_and_data(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    for source, target in PACKAGE_FILES.items():
        expected = {f"{target}/{name}" for name in _files(REPO_ROOT / source)}
        assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"


def test_the_sdist_carries_the_templates(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    expected = {f"templates/{name}" for name in _files(REPO_ROOT / "templates")}
    assert expected <= names, f"missing from the sdist: {sorted(expected - names)}"


def test_the_venv_runs_the_installed_copy_not_the_checkout(installed: Installed) -> None:
    code = "import tts_service; print(tts_service.__file__)"
    where = _run(installed.venv / "bin" / "python", "-c", code, cwd=installed.work, env=installed.env)
    assert Path(where.strip()).parent == installed.package


def test_the_installed_server_serves_its_pages(installed: Installed, served: Served) -> None:
    assert "added demo article: demo" in served.seed
    index, demo, css = served.pages["index"], served.pages["demo"], served.pages["css"]
    assert index.status_code == 200, index.text[:2000]
    assert '<html lang="zh-CN"' in index.text and '/articles/demo"' in index.text
    assert demo.status_code == 200, demo.text[:2000]
    assert '<html lang="zh-CN"' in demo.text and "<article" in demo.text
    assert css.status_code == 200
    assert css.text == (REPO_ROOT / "tts_service" / "static" / "reader.css").read_text(encoding="utf-8")
    voices = served.pages["voices"]  # the edge voices come from the voice list inside the package
    assert voices.status_code == 200, voices.text[:2000]
    assert sum(voice["engine"] == "edge" for voice in voices.json()["voices"]) == 14


def test_the_installed_state_is_in_the_user_data_dir(installed: Installed, served: Served) -> None:
    site_packages = installed.package.parent
    assert not list(site_packages.glob("tts.db*")), f"a database next to the package: {site_packages}"
    assert not (site_packages / "audio_cache").exists(), (
        f"an audio cache next to the package: {site_packages}"
    )
    assert served.package_files == installed.package_files, "seed or serve wrote into the package"
    assert (installed.data_dir / "tts.db").is_file()
    assert any(installed.data_dir.glob("audio_cache/**/*.mp3")), "no audio was cached in the user data dir"
    assert not list(installed.work.glob("tts.db*")) and not (installed.work / "audio_cache").exists()


def test_home_is_the_checkout_in_a_checkout(tmp_path: Path) -> None:
    from tts_service.resources import default_home

    checkout = tmp_path / "repo"
    (checkout / "tts_service").mkdir(parents=True)
    (checkout / "templates").mkdir()
    (checkout / "pyproject.toml").write_text("[project]\n")
    assert default_home(checkout / "tts_service") == checkout


@pytest.mark.parametrize(
    "layout",
    [
        "venv/lib/python3.11/site-packages",  # installed: even with a stray pyproject.toml and templates/
        "usr/lib/python3/dist-packages",  # Debian's system Python
        "opt/app",  # anywhere else without a pyproject.toml beside the package
    ],
)
def test_home_is_the_user_data_dir_when_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    from tts_service.resources import default_home

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    parent = tmp_path / layout
    (parent / "tts_service").mkdir(parents=True)
    if "packages" in layout:
        (parent / "templates").mkdir()
        (parent / "pyproject.toml").write_text("[project]\n")
    assert default_home(parent / "tts_service") == tmp_path / "data" / "tts_service"


def test_an_explicit_home_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tts_service.config import Settings

    monkeypatch.setenv("TTS_HOME", str(tmp_path))
    assert Settings().home == tmp_path
    monkeypatch.delenv("TTS_HOME")
    # This suite runs the checkout, where `make serve` keeps its audio_cache/ at the top level.
    assert Settings().home == REPO_ROOT


def test_the_checkout_reads_its_top_level_templates() -> None:
    from tts_service.resources import static_dir, templates_dir

    assert templates_dir() == REPO_ROOT / "templates"
    assert static_dir() == REPO_ROOT / "tts_service" / "static"
