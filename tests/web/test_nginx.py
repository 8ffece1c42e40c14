"""The README's production layout: Debian's nginx, with the README's own config, in front of the real app.

The ```nginx block is read from README.md at test time and changed only where a test machine must differ:
the ports (free loopback ports), the certificate (a throwaway CA's), the audio path (the server's TTS_HOME)
and the upstream's port. Then the same resources are fetched from the app and through nginx, which serves
``/audio/<key>.mp3`` from disk itself, and the headers that make them safe (and readable by the origins in
TTS_CORS_ORIGINS) must be the same. Each layout runs twice: with a list of origins, and with ``*`` written
as the README tells operators to write it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme
from helpers import NGINX, NGINX_MAIN_CONF, REPO_ROOT, LiveServer

pytestmark = pytest.mark.e2e

ORIGINS = ("https://a.example", "https://b.example")  # the README's example of TTS_CORS_ORIGINS
ELSEWHERE = "https://elsewhere.example"  # in no list
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")
PREFLIGHT_HEADERS = ("access-control-allow-methods", "access-control-allow-headers", "access-control-max-age")
MISSING = "/audio/" + "0" * 64 + ".mp3"


def readme_site() -> str:
    """The one ```nginx block of README.md, as an operator would copy it."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```nginx\n(.*?)^```$", readme, re.M | re.S)
    assert len(blocks) == 1, f"README.md has {len(blocks)} nginx blocks"
    return blocks[0]


def _sub_once(pattern: str, replacement: str, text: str) -> str:
    """``re.sub`` that insists on exactly one match, so a changed README cannot slip past the test."""
    result, count = re.subn(pattern, replacement, text, flags=re.M)
    assert count == 1, f"README's nginx block: {count} matches for {pattern!r}"
    return result


def allow_any_origin(site: str) -> str:
    """The site as the README says to write it for TTS_CORS_ORIGINS=*: its origin lines become ``~. "*";``."""
    site, count = re.subn(r'^(\s*)"https?://[^"]+"\s+\$http_origin;\n', "", site, flags=re.M)
    assert count == len(ORIGINS), f"README's map lists {count} origins, not {ORIGINS}"
    return _sub_once(r'^(\s*)default "";$', r'\g<0>\n\1~. "*";', site)


def for_this_machine(site: str, tmp: Path, home: Path, upstream: str, ports: tuple[int, int]) -> str:
    """The site with only what must differ on a test machine changed."""
    site = _sub_once(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{ports[0]};", site)
    site = _sub_once(r"^(\s*)listen 443 ssl", rf"\1listen 127.0.0.1:{ports[1]} ssl", site)
    site = _sub_once(r"^(\s*ssl_certificate\s+)\S+;", rf"\g<1>{tmp}/cert.pem;", site)
    site = _sub_once(r"^(\s*ssl_certificate_key\s+)\S+;", rf"\g<1>{tmp}/key.pem;", site)
    site = _sub_once(r"(\salias )/srv/tts/", rf"\g<1>{home}/", site)
    return _sub_once(r"^(\s*server )127\.0\.0\.1:8000;", rf"\g<1>{upstream};", site)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Nginx:
    """Debian's nginx in the foreground, with a site in a minimal main config under ``tmp``."""

    def __init__(self, tmp: Path, https_port: int) -> None:
        self.tmp, self.https_port = tmp, https_port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, site: str, timeout: float = 30) -> Nginx:
        conf, log = self.tmp / "nginx.conf", self.tmp / "error.log"
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(NGINX_MAIN_CONF.format(tmp=self.tmp, user=user, site=site), encoding="utf-8")
        self.proc = subprocess.Popen([NGINX, "-p", str(self.tmp), "-c", str(conf), "-e", str(log)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@dataclass(frozen=True)
class Layout:
    """The app on its own, and the same app behind the README's nginx."""

    app: str  # http://127.0.0.1:<app port>
    nginx: str  # https://127.0.0.1:<https port>
    plain: str  # http://127.0.0.1:<http port>, the redirecting server
    ssl_context: ssl.SSLContext
    cors: str  # TTS_CORS_ORIGINS

    def client(self, http2: bool = False) -> httpx.Client:
        return httpx.Client(verify=self.ssl_context, http2=http2, timeout=30)


@pytest.fixture(scope="module")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TTS_HOME with the demo article and all its audio made, by espeak (the quick engine)."""
    home = tmp_path_factory.mktemp("home")
    seeder = LiveServer(home, TTS_ENGINE="espeak")
    seeder.cli("seed")
    seeder.cli("pregen", "demo")
    return home


@pytest.fixture(scope="module")
def certificate() -> tuple[trustme.CA, trustme.LeafCert]:
    ca = trustme.CA()
    return ca, ca.issue_cert("127.0.0.1", "reader.example.cn")


@pytest.fixture(scope="module", params=[",".join(ORIGINS), "*"], ids=["origin list", "any origin"])
def layout(
    request: pytest.FixtureRequest,
    seeded_home: Path,
    certificate: tuple[trustme.CA, trustme.LeafCert],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Layout]:
    """The app (on a copy of the seeded home) with TTS_CORS_ORIGINS, and nginx in front of it."""
    cors, (ca, leaf) = request.param, certificate
    site = readme_site() if cors != "*" else allow_any_origin(readme_site())
    home, tmp = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("nginx")
    shutil.copytree(seeded_home, home, dirs_exist_ok=True)
    leaf.cert_chain_pems[0].write_to_path(str(tmp / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(tmp / "key.pem"))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    ports = (free_port(), free_port())
    app = LiveServer(home, TTS_ENGINE="espeak", TTS_CORS_ORIGINS=cors).start()
    nginx = Nginx(tmp, ports[1])
    try:
        nginx.start(for_this_machine(site, tmp, home, app.url.removeprefix("http://"), ports))
        nginx_url, plain = f"https://127.0.0.1:{ports[1]}", f"http://127.0.0.1:{ports[0]}"
        yield Layout(app=app.url, nginx=nginx_url, plain=plain, ssl_context=context, cors=cors)
    finally:
        nginx.stop()
        app.stop()


@pytest.fixture(scope="module")
def resources(layout: Layout) -> dict[str, tuple[str, dict[str, str]]]:
    """What to fetch from both, by name: (path, request headers)."""
    manifest = httpx.get(f"{layout.app}/api/articles/demo/audio", timeout=10).json()
    assert manifest["status"] == "ready", manifest
    chunk = httpx.URL(manifest["chunks"][0]["url"]).path
    return {
        "chunk MP3": (chunk, {}),
        "chunk MP3, a range": (chunk, {"Range": "bytes=0-99"}),
        "whole-article MP3": (httpx.URL(manifest["url"]).path, {}),
        "missing MP3": (MISSING, {}),
        "page": ("/articles/demo", {}),
        "API JSON": ("/api/articles/demo", {}),
    }


def fetch_both(layout: Layout, method: str, path: str, headers: dict[str, str]) -> tuple[httpx.Response, ...]:
    """The same request to the app and through nginx."""
    with httpx.Client(timeout=30) as direct, layout.client() as proxied:
        app = direct.request(method, layout.app + path, headers=headers)
        via = proxied.request(method, layout.nginx + path, headers=headers)
    return app, via


def differences(app: httpx.Response, via: httpx.Response, names: tuple[str, ...]) -> dict[str, tuple]:
    """Headers (by name: the app's values, nginx's) where nginx's response says something else."""
    names = (*names, *SECURITY_HEADERS, "access-control-allow-origin")
    if "access-control-allow-origin" in app.headers:  # only then do browsers look at what it exposes
        names = (*names, "access-control-expose-headers")
    found = {name: (app.headers.get_list(name), via.headers.get_list(name)) for name in names}
    different = {name: values for name, values in found.items() if values[0] != values[1]}

    def vary(response: httpx.Response) -> set[str]:
        return {v.strip().lower() for line in response.headers.get_list("vary") for v in line.split(",")}

    # A cache must not give one origin's answer to another.
    if "origin" in vary(app) and "origin" not in vary(via):
        different["vary"] = (app.headers.get_list("vary"), via.headers.get_list("vary"))
    return different


def describe(different: dict[str, tuple]) -> str:
    """One line per differing header, for the failure message."""
    return "\n".join(f"{name}: app {app} / nginx {via}" for name, (app, via) in different.items())


@pytest.mark.parametrize("origin", [None, ORIGINS[1], ELSEWHERE], ids=["no Origin", "listed", "elsewhere"])
@pytest.mark.parametrize(
    "resource", ["chunk MP3", "chunk MP3, a range", "whole-article MP3", "missing MP3", "page", "API JSON"]
)
def test_nginx_sends_the_apps_security_and_cors_headers(
    layout: Layout, resources: dict, resource: str, origin: str | None
) -> None:
    path, headers = resources[resource]
    app, via = fetch_both(layout, "GET", path, {**headers, **({"Origin": origin} if origin else {})})
    assert via.status_code == app.status_code
    if path.startswith("/audio/"):
        assert "x-request-id" not in via.headers  # nginx answered from disk; the app was never asked
    assert not (different := differences(app, via, ())), describe(different)


@pytest.mark.parametrize("origin", [ORIGINS[0], ELSEWHERE], ids=["listed", "elsewhere"])
def test_a_preflight_for_audio_gets_the_apps_answer(layout: Layout, resources: dict, origin: str) -> None:
    """A script that seeks (a Range header) asks first; nginx must not answer 405 where the app allows it."""
    asking = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"}
    app, via = fetch_both(layout, "OPTIONS", resources["chunk MP3"][0], {"Origin": origin, **asking})
    allowed = layout.cors == "*" or origin in layout.cors.split(",")
    assert (via.status_code, app.status_code) == (app.status_code, 200 if allowed else 400)
    assert not (different := differences(app, via, PREFLIGHT_HEADERS)), describe(different)


@pytest.mark.parametrize("http2", [False, True], ids=["HTTP/1.1", "HTTP/2"])
def test_absolute_urls_through_nginx_keep_its_port(layout: Layout, http2: bool) -> None:
    with layout.client(http2=http2) as client:
        answer = client.get(f"{layout.nginx}/api/articles/demo/audio")
        assert answer.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
        manifest = answer.json()
        urls = [manifest["url"], *(chunk["url"] for chunk in manifest["chunks"])]
        assert [url for url in urls if not url.startswith(f"{layout.nginx}/audio/")][:1] == []
        assert client.get(urls[0]).status_code == 200
        article = client.get(f"{layout.nginx}/api/articles/demo").json()
        assert article["url"] == f"{layout.nginx}/articles/demo"


def test_plain_http_is_redirected_to_https(layout: Layout) -> None:
    answer = httpx.get(f"{layout.plain}/articles/demo?x=1")
    assert answer.status_code == 301
    assert answer.headers["location"] == "https://127.0.0.1/articles/demo?x=1"  # port 443 in production
