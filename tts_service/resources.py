"""Where the package's own files are (templates, static files) and where its state goes by default."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import platformdirs

APP_NAME = "tts_service"
PACKAGE_DIR = Path(__file__).resolve().parent
_INSTALLED_PARTS = frozenset({"site-packages", "dist-packages"})


def checkout_root(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The repository the package runs from (an editable install), or None when it is installed.

    A checkout is the package's parent holding pyproject.toml and templates/, outside any site-packages.
    """
    root = package_dir.parent
    if _INSTALLED_PARTS & set(package_dir.parts):
        return None
    if (root / "pyproject.toml").is_file() and (root / "templates").is_dir():
        return root
    return None


def default_home(package_dir: Path = PACKAGE_DIR) -> Path:
    """TTS_HOME when it is not set: the checkout itself, else the per-user data directory.

    In a checkout the repository stays home, so `make serve` keeps its tts.db and audio_cache/ at the top
    level as it always has. Installed, never the install location: site-packages may be read-only, is
    shared by every user of the interpreter, and is wiped by an upgrade. A system service sets TTS_HOME
    (the README suggests /var/lib/tts_service).
    """
    root = checkout_root(package_dir)
    return root if root is not None else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def templates_dir() -> Path:
    """The Jinja2 templates: in the package when installed (the wheel carries them), else the checkout's."""
    return _package_folder("templates")


def static_dir() -> Path:
    """The CSS and JavaScript the pages load."""
    return _package_folder("static")


def demo_article() -> str:
    """The demo article's Markdown (``tts-service seed``)."""
    return (files(APP_NAME) / "demo" / "demo-article.md").read_text(encoding="utf-8")


def _package_folder(name: str) -> Path:
    """A folder of the package's files, as a real directory (Jinja2 and StaticFiles read from disk).

    The wheel puts templates/ inside the package; an editable checkout keeps it at the top level.
    """
    packaged = files(APP_NAME) / name
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    root = checkout_root()
    if root is not None and (root / name).is_dir():
        return root / name
    raise FileNotFoundError(f"{name}/ is neither in the installed package nor in a checkout: {packaged}")
