"""HTTP serving on loopback: the pages, a chunk MP3 and the whole-article MP3, against nginx and Starlette.

Run: .venv/bin/python benchmarks/bench_http.py [--rounds 2 --duration 10 --connections 50]
Needs wrk and nginx (Debian: apt-get install -y --no-install-recommends wrk nginx); installs nothing itself.

In a temporary TTS_HOME it seeds the demo article and pre-generates its audio (`tts-service seed`, `pregen
demo`), then starts, each on a free 127.0.0.1 port:
- `tts-service serve`: the shipped server (one uvicorn process; uvloop and httptools when installed);
- the same with TTS_ACCESS_LOG=0 (no access line per request), to show what the line costs;
- when uvloop and httptools are installed, the same app under uvicorn with `--loop asyncio --http h11`, to
  show what they buy;
- for the page targets only, the same app with its page cache turned off (patched in that process), to show
  what the cache buys;
- for the page targets only, a bare Starlette app on the same uvicorn (uvloop + httptools when installed,
  no middleware, no access log) answering the same paths with the same bytes (the pages as the service
  rendered them, 304 for their ETag): what the framework itself costs, the baseline issue 16 measures the
  page against;
- nginx (one worker, access log on like uvicorn's) serving the same audio_cache/ directory with the
  location block documented in README.md (read from it, with the map its headers use), and copies of the
  rendered article page and index saved to disk.
wrk then loads each target on each server in turn, interleaved, for N rounds: the article page, the page
revalidated with If-None-Match, the index page, the first chunk's MP3 and the whole-article MP3. Every
request names the host reader.example, so every server answers with the same bytes (checked before the
runs). Ratios are taken against nginx, against `tts-service serve` and (pages) against bare Starlette
within the same round; the medians over rounds are reported.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CLI = str(Path(sys.executable).with_name("tts-service"))
README = Path(__file__).resolve().parents[1] / "README.md"
# Every request names the same host, so the pages (absolute URLs) are the same bytes on every server.
HOST = "reader.example"
NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    tcp_nopush on;
    types {{ text/html html; audio/mpeg mp3; }}
{cors_map}
    server {{
        listen 127.0.0.1:{port};
        location = /articles/demo {{
            charset utf-8;
            alias {tmp}/page.html;
        }}
        location = / {{
            charset utf-8;
            root {tmp};
            try_files /index.html =404;  # not alias: a URI ending in / would go to the index module
        }}
{audio_location}
        location @tts_service {{ return 405; }}  # where the README's location sends other methods; no app
    }}
}}
"""


def readme_audio(cache: Path) -> tuple[str, str]:
    """README.md's /audio/ location, reading from ``cache``, and the map of CORS origins it uses."""
    block = re.search(r"^```nginx\n(.*?)^```$", README.read_text(encoding="utf-8"), re.M | re.S).group(1)
    cors_map = re.search(r"^map .*?^}$", block, re.M | re.S).group(0)
    location = re.search(r'^    location ~ "\^/audio/.*?^    }$', block, re.M | re.S).group(0)
    return cors_map, location.replace("/srv/tts/audio_cache/", f"{cache}/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Host": HOST})
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback URLs built here
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


def wait_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


# The shipped app with its page cache turned off (every request renders), for the page targets only.
_NO_PAGE_CACHE = (
    "import sys, uvicorn; from tts_service.web import create_app, page_cache;"
    " page_cache.PageCache.get = page_cache.PageCache.fresh = lambda self, key: None;"
    " uvicorn.run(create_app(), host=sys.argv[2], port=int(sys.argv[4]))"
)
# The framework alone: a bare Starlette app, the same pages' bytes from memory (and 304 for their ETags).
_BARE_STARLETTE = """
import sys
from pathlib import Path
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
home = Path(sys.argv[1])
def page(name, etag):
    body = (home / name).read_bytes()
    async def answer(request):
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="text/html; charset=utf-8", headers={"ETag": etag})
    return answer
routes = [
    Route("/articles/demo", page("page.html", sys.argv[2])),
    Route("/", page("index.html", sys.argv[3])),
]
fast = {"loop": "uvloop", "http": "httptools"} if sys.argv[4] == "fast" else {}
uvicorn.run(Starlette(routes=routes), host=sys.argv[6], port=int(sys.argv[8]), access_log=False,
            log_level="warning", **fast)
"""
BARE = "bare Starlette"
PAGES_ONLY = {"page cache off", BARE}


# Settings of a configuration, over the shared environment.
SERVER_ENV = {"serve, TTS_ACCESS_LOG=0": {"TTS_ACCESS_LOG": "0"}}


def app_servers() -> dict[str, list[str]]:
    """The app's configurations, by name: the command, to which --host and --port are added."""
    servers = {"tts-service serve": [CLI, "serve"], "serve, TTS_ACCESS_LOG=0": [CLI, "serve"]}
    if has_fast_stack():
        uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "tts_service.web:create_app"]
        servers["uvicorn asyncio+h11"] = [*uvicorn, "--loop", "asyncio", "--http", "h11"]
    servers["page cache off"] = [sys.executable, "-c", _NO_PAGE_CACHE]
    return servers


def has_fast_stack() -> bool:
    """Whether uvicorn here picks uvloop and httptools (what `uvicorn[standard]` installs)."""
    return all(importlib.util.find_spec(name) for name in ("uvloop", "httptools"))


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def run_wrk(url: str, args: argparse.Namespace, headers: dict[str, str]) -> dict:
    """One wrk run: requests per second, p99 latency in ms, and any errors wrk reports."""
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s"]
    for name, value in {"Host": HOST, **headers}.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, "--latency", url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M).groups()
    errors = re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", out)
    return {"rps": rps, "p99": float(value) * _UNITS[unit], "errors": errors}


class Servers:
    """The servers under test, started in a temporary TTS_HOME; ``close()`` stops every one."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
        self.env["TTS_HOME"] = str(home)
        self.procs: list[subprocess.Popen] = []
        self.urls: dict[str, str] = {}

    def _start(self, name: str, cmd: list[str], probe: str) -> None:
        log = self.home / f"{name.split()[0].strip(',')}-{len(self.procs)}.log"
        env = {**self.env, **SERVER_ENV.get(name, {})}
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        wait_up(probe, proc, log)

    def start_app(self, name: str, command: list[str], probe: str = "/api/articles") -> None:
        port = free_port()
        self.urls[name] = f"http://127.0.0.1:{port}"
        self._start(name, [*command, "--host", "127.0.0.1", "--port", str(port)], self.urls[name] + probe)

    def start_bare(self, pages: dict[str, tuple[bytes, str]]) -> None:
        """The bare Starlette app, serving ``pages`` (file name → bytes and ETag)."""
        tmp = self.home / "bare"
        tmp.mkdir()
        for name, (body, _) in pages.items():
            (tmp / name).write_bytes(body)
        etags = [pages["page.html"][1], pages["index.html"][1]]
        stack = "fast" if has_fast_stack() else "default"
        self.start_app(BARE, [sys.executable, "-c", _BARE_STARLETTE, str(tmp), *etags, stack], probe="/")

    def start_nginx(self, pages: dict[str, tuple[bytes, str]]) -> None:
        port = free_port()
        tmp = self.home / "nginx"
        tmp.mkdir()
        for name, (body, _) in pages.items():
            (tmp / name).write_bytes(body)
        # The temporary home is 0700; as root, nginx's workers must stay root to read the files in it.
        user = "user root root;" if os.geteuid() == 0 else ""
        cors_map, location = readme_audio(self.home / "audio_cache")
        conf = NGINX_CONF.format(tmp=tmp, port=port, user=user, cors_map=cors_map, audio_location=location)
        (tmp / "nginx.conf").write_text(conf, encoding="utf-8")
        cmd = ["nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "nginx-error.log")]
        self.urls["nginx"] = f"http://127.0.0.1:{port}"
        self._start("nginx", cmd, f"{self.urls['nginx']}/articles/demo")

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def prepare(servers: Servers) -> dict[str, str]:
    """Seed, pre-generate and start everything; return the target paths (same bytes on every server)."""
    for command in (["seed"], ["pregen", "demo"]):
        subprocess.run([CLI, *command], env=servers.env, check=True, capture_output=True)
    for name, command in app_servers().items():
        servers.start_app(name, command)
    ours = servers.urls["tts-service serve"]
    audio = json.loads(fetch(f"{ours}/api/articles/demo/audio")[0])
    public = f"http://{HOST}"
    assert audio["status"] == "ready", audio["status"]
    pages = {}
    for name, path in (("page.html", "/articles/demo"), ("index.html", "/")):
        body, headers = fetch(ours + path)
        pages[name] = (body, headers["etag"])
    servers.start_nginx(pages)
    servers.start_bare(pages)
    targets = {
        "article page": "/articles/demo",
        "article page, If-None-Match": "/articles/demo",
        "index page": "/",
        "chunk MP3": audio["chunks"][0]["url"].removeprefix(public),
        "whole-article MP3": audio["url"].removeprefix(public),
    }
    for name, path in targets.items():
        bodies = {fetch(base + path)[0] for server, base in servers.urls.items() if serves(server, name)}
        assert len(bodies) == 1, f"{name}: the servers disagree"
        print(f"{name}: {path} ({len(bodies.pop()):,} bytes)", file=sys.stderr)
    return targets


def serves(server: str, target: str) -> bool:
    """Whether ``server`` takes part in ``target`` (some serve only the pages)."""
    return server not in PAGES_ONLY or "page" in target


def headers_for(target: str, base: str, path: str) -> dict[str, str]:
    """Request headers for a target: the server's own ETag for the revalidation row."""
    if "If-None-Match" not in target:
        return {}
    etag = fetch(base + path)[1].get("etag")
    return {"If-None-Match": etag} if etag else {}


def print_round(round_no: int, target: str, server: str, result: dict) -> None:
    """One wrk run's line on stderr, as the rounds go."""
    speed = f"{result['rps']:.0f} req/s, p99 {result['p99']:.1f} ms"
    print(f"round {round_no + 1}: {target} / {server}: {speed} {' '.join(result['errors'])}", file=sys.stderr)


def measure(servers: Servers, targets: dict[str, str], args: argparse.Namespace) -> dict:
    """wrk on every (target, server), interleaved, ``args.rounds`` times: results by (target, server)."""
    results: dict[tuple[str, str], list[dict]] = {}
    for round_no in range(args.rounds):
        for target, path in targets.items():
            for server, base in servers.urls.items():
                if not serves(server, target):
                    continue
                headers = headers_for(target, base, path)
                result = run_wrk(base + path, args, headers)
                result["note"] = "" if headers or "If-None-Match" not in target else "no ETag: 200"
                results.setdefault((target, server), []).append(result)
                print_round(round_no, target, server, result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as home:
        servers = Servers(Path(home))
        try:
            results = measure(servers, prepare(servers), args)
        finally:
            servers.close()
    report(results, args, list(servers.urls))


def _ratio(runs: list[dict], base: list[dict], field: str) -> float:
    """The median over rounds of this configuration's figure over the baseline's in the same round."""
    return statistics.median(r[field] / b[field] for r, b in zip(runs, base, strict=True))


def report(results: dict[tuple[str, str], list[dict]], args: argparse.Namespace, names: list[str]) -> None:
    stack = "uvloop + httptools" if has_fast_stack() else "asyncio + h11"
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds, medians;"
        f" `tts-service serve` and bare Starlette run on {stack}.\n"
    )
    print(
        "| target | server | req/s | p99 ms | req/s vs nginx | p99 vs nginx | req/s vs serve"
        " | req/s vs Starlette |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for target in dict.fromkeys(t for t, _ in results):
        nginx, serve = results[(target, "nginx")], results[(target, "tts-service serve")]
        bare = results.get((target, BARE))
        for server in (name for name in names if (target, name) in results):
            runs = results[(target, server)]
            rps = statistics.median(r["rps"] for r in runs)
            p99 = statistics.median(r["p99"] for r in runs)
            notes = {r["note"] for r in runs if r["note"]} | {e for r in runs for e in r["errors"]}
            label = f"{server} ({', '.join(sorted(notes))})" if notes else server
            vs_bare = f"{_ratio(runs, bare, 'rps'):.2f}x" if bare else ""
            print(
                f"| {target} | {label} | {rps:,.0f} | {p99:.1f} | {_ratio(runs, nginx, 'rps'):.3f}x"
                f" | {_ratio(runs, nginx, 'p99'):.1f}x | {_ratio(runs, serve, 'rps'):.2f}x | {vs_bare} |"
            )


if __name__ == "__main__":
    main()
