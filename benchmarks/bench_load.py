"""Load on loopback: many readers on a cached article page and its audio, while a pre-generation job runs.

Run: .venv/bin/python benchmarks/bench_load.py [--seconds 60 --readers 200 --engine local --rounds 1]
Needs wrk (Debian: apt-get install -y --no-install-recommends wrk); installs nothing itself.

In a temporary TTS_HOME it adds the demo article (`tts-service seed`), starts `tts-service serve` (one
uvicorn process, as shipped; TTS_ENGINE=local unless --engine says otherwise) on a free 127.0.0.1 port, and
waits until the demo's audio is made and its whole-article MP3 assembled (GET /api/articles/demo/audio:
status "ready", url set). Then, in each round:

1. Baseline: `wrk -t2 -c200 -d60s --timeout 10s --latency` with no job running.
2. With a job: an editor adds a long new article (POST /api/articles; every sentence differs, so nothing
   is cached), which starts its generation job; POST /api/articles/{slug}/audio names the job. Once the
   job has made its first chunk it runs alone for --lead seconds (its unloaded rate), then the same wrk
   run starts. The job is polled (GET /api/jobs/{id}) all along; its progress at the start and the end of
   the window shows how many chunks it made while the readers were reading. The article is then deleted,
   which stops the job, so the next round's baseline runs alone again.

Each wrk thread cycles through four requests, as a reader's browser would make them: the article page,
the whole-article MP3 (a full GET), the page again, and the MP3 from its middle (Range: bytes=N-, a seek,
206). Whichever of the thread's connections is free takes the next request of the cycle, so the mix is
exact: half pages, a quarter full MP3s, a quarter seeks. A Lua done() prints wrk's totals, its error
counts (connect, read, write, timeout, status = non-2xx/3xx) and latency percentiles in microseconds.

Zero errors means: no socket errors, no timeouts (10 s), no non-2xx/3xx answers, and no traceback or
ERROR line in the server's log during the window. Per-route counts and server-side mean times come from the
server's own /metrics (Prometheus) when it has one. Server CPU and RSS come from /proc. The script raises
its own soft open-files limit (RLIMIT_NOFILE) to the hard limit, for itself, wrk and the server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "academy-international-cooperation-2020.txt"
CLI = str(Path(sys.executable).with_name("tts-service"))
TOKEN = "bench-load-token"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Log lines that count as server errors: a traceback, or a record at ERROR or above (JSON or uvicorn's own).
SERVER_ERROR = re.compile(r'Traceback|"level": "(ERROR|CRITICAL)"|^(ERROR|CRITICAL):', re.M)

LUA = """\
local specs = {specs}
local requests = {{}}
local n = 0

function init(args)
  for i, spec in ipairs(specs) do
    requests[i] = wrk.format("GET", spec.path, spec.headers)
  end
end

function request()
  n = n % #requests + 1
  return requests[n]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_LOAD {{\\"requests\\": %d, \\"bytes\\": %.0f, \\"duration_us\\": %.0f, \\"connect\\": %d,"
    .. " \\"read\\": %d, \\"write\\": %d, \\"timeout\\": %d, \\"status\\": %d, \\"p50\\": %.0f,"
    .. " \\"p90\\": %.0f, \\"p99\\": %.0f, \\"p999\\": %.0f, \\"max\\": %.0f, \\"mean\\": %.1f}}\\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU clock ticks of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values[:8]) - idle, sum(values[:8])


def raise_open_files() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (inherited by wrk and the server); the new limits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def http(
    method: str, url: str, body: dict | None = None, headers: dict[str, str] | None = None, timeout=60
) -> tuple[int, dict[str, str], bytes]:
    """One request on loopback: status, lower-cased headers, body (error statuses are returned too)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # loopback URLs built here
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


EDITOR = {"Authorization": f"Bearer {TOKEN}"}
BASELINE, LOADED = "no job (baseline)", "pre-generation job running"


# The job's article -------------------------------------------------------------------------------------


def clauses() -> list[str]:
    """Short clauses of the corpus speech (2019年… to …强大动能!), or of a few stock sentences without it."""
    if CORPUS.exists():
        lines = [line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines()]
        start = next(i for i, line in enumerate(lines) if line.startswith("2019年是"))
        end = next(i for i, line in enumerate(lines) if line.endswith("强大动能!"))
        text = "\n".join(lines[start : end + 1])
    else:
        text = (
            "社区读书会将于本周六上午在图书馆二楼举行，欢迎附近居民报名参加，现场提供大字版资料和导读设备。"
        )
    pieces = (p.strip() for p in re.split(r"[，。；！？、：,;!?\n]", text))
    return list(dict.fromkeys(p for p in pieces if 6 <= len(p) <= 40 and re.search(r"[\u4e00-\u9fff]", p)))


def long_article(sentences: int, offset: int) -> str:
    """``sentences`` numbered sentences, five to a paragraph: each one is new, so nothing is cached."""
    pool = clauses()
    lines, paragraph = [], []
    for i in range(sentences):
        paragraph.append(f"第{offset + i + 1}条，{pool[i % len(pool)]}。")
        if len(paragraph) == 5:
            lines.append("".join(paragraph))
            paragraph = []
    if paragraph:
        lines.append("".join(paragraph))
    return "\n".join(lines)


# The server --------------------------------------------------------------------------------------------


class Server:
    """`tts-service serve` in a temporary TTS_HOME, with its log in a file."""

    def __init__(self, home: Path, engine: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
        self.env |= {"TTS_HOME": str(home), "TTS_EDITOR_TOKEN": TOKEN, "TTS_ENGINE": engine}
        self.log = home / "server.log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        subprocess.run([CLI, "seed"], env=self.env, check=True, capture_output=True)
        cmd = [CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                http("GET", f"{self.base}/api/articles", timeout=5)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not come up")

    def log_size(self) -> int:
        return self.log.stat().st_size

    def errors_in_log(self, start: int, end: int | None = None) -> list[str]:
        """Lines that show a server error, in the part of the log from byte ``start`` to ``end``."""
        with self.log.open("rb") as f:
            f.seek(start)
            text = f.read(None if end is None else end - start).decode(errors="replace")
        return [line for line in text.splitlines() if SERVER_ERROR.search(line)]

    def proc_status(self) -> dict[str, int]:
        """VmRSS and VmHWM (kB) and CPU seconds (user + system, in clock ticks) of the server process."""
        assert self.proc is not None
        pid = self.proc.pid
        status = Path(f"/proc/{pid}/status").read_text()
        fields = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.*)$", status, re.M)}
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        fields["ticks"] = int(stat[11]) + int(stat[12])  # utime, stime (fields 14 and 15)
        # The main thread runs uvicorn's event loop; synthesis, file reads and the store use other threads.
        main = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rpartition(")")[2].split()
        fields["loop_ticks"] = int(main[11]) + int(main[12])
        return fields

    def metrics(self) -> dict[tuple[str, str, str], float] | None:
        """The server's request counts and time sums by (name, route, status); None without /metrics."""
        try:
            status, _, body = http("GET", f"{self.base}/metrics", timeout=30)
        except OSError:
            return None
        if status != 200:
            return None
        series: dict[tuple[str, str, str], float] = {}
        for name, labels, value in re.findall(r"^(tts_http_\w+)\{(.*)\}\s+(\S+)$", body.decode(), re.M):
            if name not in (
                "tts_http_requests_total",
                "tts_http_request_seconds_sum",
                "tts_http_request_seconds_count",
            ):
                continue
            pairs = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
            series[(name, pairs.get("route", ""), pairs.get("status", ""))] = float(value)
        return series

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def wait_demo_ready(server: Server, timeout: float = 600) -> dict:
    """Poll the demo's manifest (which starts its generation) until it is ready and assembled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, body = http("GET", f"{server.base}/api/articles/demo/audio")
        audio = json.loads(body)
        if status == 200 and audio["status"] == "ready" and audio["url"]:
            return audio
        if audio.get("status") == "failed":
            raise RuntimeError(f"the demo's audio failed: {audio.get('error')}")
        time.sleep(0.5)
    raise RuntimeError("the demo's audio was not ready in time")


def targets(server: Server, audio: dict) -> list[dict]:
    """The reader's four requests, each checked once: page, whole MP3, page, MP3 from its middle."""
    mp3 = "/" + audio["url"].split("/", 3)[3]
    status, headers, body = http("GET", server.base + mp3)
    assert status == 200 and headers.get("content-type") == "audio/mpeg", (status, headers)
    middle = len(body) // 2
    specs = [
        {"name": "article page", "path": "/articles/demo", "headers": {}, "status": 200},
        {"name": "whole-article MP3", "path": mp3, "headers": {}, "status": 200},
        {"name": "article page", "path": "/articles/demo", "headers": {}, "status": 200},
        {"name": "MP3 seek (Range)", "path": mp3, "headers": {"Range": f"bytes={middle}-"}, "status": 206},
    ]
    for spec in specs:
        status, _, body = http("GET", server.base + spec["path"], headers=spec["headers"])
        assert status == spec["status"], (spec, status)
        spec["bytes"] = len(body)
        print(
            f"{spec['name']}: {spec['path']} {spec['headers'] or ''} -> {status}, {len(body):,} bytes",
            file=sys.stderr,
        )
    return specs


def lua_script(specs: list[dict], path: Path) -> Path:
    def table(spec: dict) -> str:
        headers = ", ".join(f'["{k}"] = "{v}"' for k, v in spec["headers"].items())
        return f'{{path = "{spec["path"]}", headers = {{{headers}}}}}'

    path.write_text(LUA.format(specs="{" + ", ".join(map(table, specs)) + "}"), encoding="utf-8")
    return path


# The job -----------------------------------------------------------------------------------------------


def start_job(server: Server, round_no: int, sentences: int) -> tuple[str, int]:
    """Add the long article (which starts its job) and name the job; (slug, job id)."""
    slug = f"load-job-{round_no}"
    text = long_article(sentences, round_no * sentences)
    draft = {"title": f"压力测试长文 {round_no}", "slug": slug, "text": text}
    status, _, body = http("POST", f"{server.base}/api/articles", draft, EDITOR)
    assert status == 201, (status, body[:500])
    status, headers, body = http("POST", f"{server.base}/api/articles/{slug}/audio", None, EDITOR)
    assert status == 202, (status, body[:500])
    job = json.loads(body)["job"]
    print(f"job {job['id']} for {slug}: {job['status']}, {headers.get('location')}", file=sys.stderr)
    return slug, job["id"]


def get_job(server: Server, job_id: int) -> dict:
    status, _, body = http("GET", f"{server.base}/api/jobs/{job_id}", headers=EDITOR)
    assert status == 200, (status, body[:500])
    return json.loads(body)


def lead(server: Server, job_id: int, seconds: float) -> dict:
    """Wait for the job's first chunk, then let it run alone for ``seconds``: its unloaded rate."""
    deadline = time.monotonic() + 300
    while True:
        job = get_job(server, job_id)
        if job["status"] == "failed":
            raise RuntimeError(f"the job failed before the window: {job['error']}")
        if job["status"] == "running" and job["done"] > 0:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the job made no chunk in 300 s: {job}")
        time.sleep(0.2)
    t0, done0 = time.monotonic(), job["done"]
    time.sleep(seconds)
    job = get_job(server, job_id)
    return {"chunks": job["done"] - done0, "seconds": time.monotonic() - t0, "total": job["total"]}


# One window --------------------------------------------------------------------------------------------


class Sampler(threading.Thread):
    """Samples the server's RSS every 0.25 s and, when there is a job, its progress every second."""

    def __init__(self, server: Server, job_id: int | None) -> None:
        super().__init__(daemon=True)
        self.server, self.job_id = server, job_id
        self.stop_event = threading.Event()
        self.rss_peak_kb = 0
        self.job_samples: list[tuple[float, int, str]] = []

    def run(self) -> None:
        next_poll = 0.0
        while not self.stop_event.is_set():
            self.rss_peak_kb = max(self.rss_peak_kb, self.server.proc_status()["VmRSS"])
            now = time.monotonic()
            if self.job_id is not None and now >= next_poll:
                try:
                    job = get_job(self.server, self.job_id)
                    self.job_samples.append((now, job["done"], job["status"]))
                except (OSError, AssertionError) as exc:
                    print(f"job poll failed: {exc!r}", file=sys.stderr)
                next_poll = now + 1.0
            self.stop_event.wait(0.25)

    def stop(self) -> None:
        self.stop_event.set()
        self.join()


def run_wrk(server: Server, script: Path, args: argparse.Namespace, job_id: int | None) -> dict:
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.readers}",
        f"-d{args.seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        f"{server.base}/articles/demo",
    ]
    before_metrics = server.metrics()
    log_start = server.log_size()
    sampler = Sampler(server, job_id)
    job_start = get_job(server, job_id) if job_id is not None else None
    proc_start = server.proc_status()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = machine_ticks()
    load_before = Path("/proc/loadavg").read_text().split()[0]
    sampler.start()
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - t0
    machine_end = machine_ticks()
    load_after = Path("/proc/loadavg").read_text().split()[0]
    proc_end = server.proc_status()
    job_end = get_job(server, job_id) if job_id is not None else None
    sampler.stop()
    children_end = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(1.0)  # let the server log the last answers before its log is read
    after_metrics = server.metrics()
    result = json.loads(out.split("BENCH_LOAD ", 1)[1].splitlines()[0])
    result |= {
        "wrk_output": out,
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "mbps": result["bytes"] / (result["duration_us"] / 1e6) / 1e6,
        "errors": sum(result[k] for k in ("connect", "read", "write", "timeout", "status")),
        "log_errors": server.errors_in_log(log_start),
        "server_cpu": (proc_end["ticks"] - proc_start["ticks"]) / CLOCK_TICKS / elapsed,
        "loop_cpu": (proc_end["loop_ticks"] - proc_start["loop_ticks"]) / CLOCK_TICKS / elapsed,
        "wrk_cpu": (children_end.ru_utime + children_end.ru_stime - children.ru_utime - children.ru_stime)
        / elapsed,
        "rss_peak_mb": sampler.rss_peak_kb / 1024,
        "machine_cpu": (machine_end[0] - machine[0]) / CLOCK_TICKS / elapsed,
        "loadavg": f"{load_before} -> {load_after}",
        "elapsed": elapsed,
        "routes": route_deltas(before_metrics, after_metrics, result["duration_us"] / 1e6),
    }
    if job_id is not None:
        assert job_start is not None and job_end is not None
        result["job"] = {
            "id": job_id,
            "total": job_end["total"],
            "start_done": job_start["done"],
            "end_done": job_end["done"],
            "start_status": job_start["status"],
            "end_status": job_end["status"],
            "error": job_end["error"],
            "samples": sampler.job_samples,
            "chunks_per_s": (job_end["done"] - job_start["done"]) / elapsed,
        }
    cmd_shown = " ".join(cmd).replace(str(script), "load.lua").replace(server.base, "http://127.0.0.1:PORT")
    result["command"] = cmd_shown
    return result


def route_deltas(before: dict | None, after: dict | None, seconds: float) -> list[dict] | None:
    """Requests per (route, status) in the window, from the server's /metrics; None without /metrics."""
    if before is None or after is None:
        return None
    rows = []
    for (name, route, status), value in sorted(after.items()):
        if name != "tts_http_requests_total" or route in ("/metrics", "/api/jobs/{job_id}"):
            continue
        count = value - before.get((name, route, status), 0.0)
        if count <= 0:
            continue
        total_s = after.get(("tts_http_request_seconds_sum", route, ""), 0.0) - before.get(
            ("tts_http_request_seconds_sum", route, ""), 0.0
        )
        total_n = after.get(("tts_http_request_seconds_count", route, ""), 0.0) - before.get(
            ("tts_http_request_seconds_count", route, ""), 0.0
        )
        mean_ms = 1000 * total_s / total_n if total_n else float("nan")
        rows.append(
            {"route": route, "status": status, "count": count, "rps": count / seconds, "mean_ms": mean_ms}
        )
    return rows


def describe(label: str, r: dict) -> str:
    text = (
        f"{label}: {r['rps']:.0f} req/s, {r['mbps']:.0f} MB/s, p50 {r['p50'] / 1000:.1f} ms,"
        f" p99 {r['p99'] / 1000:.1f} ms, errors {error_text(r)}, server CPU {r['server_cpu']:.2f}"
        f" (event loop {r['loop_cpu']:.2f}),"
        f" wrk CPU {r['wrk_cpu']:.2f}, machine CPU {r['machine_cpu']:.2f}, load {r['loadavg']}"
    )
    if "job" in r:
        j = r["job"]
        text += (
            f"; job {j['id']}: {j['start_done']}->{j['end_done']} of {j['total']} chunks ({j['end_status']})"
        )
    return text


def error_text(r: dict) -> str:
    """Every kind of error in a run: wrk's socket errors, timeouts, non-2xx/3xx, server log lines."""
    kinds = {k: r[k] for k in ("connect", "read", "write", "timeout", "status")}
    kinds["server log"] = len(r["log_errors"])
    total = sum(kinds.values())
    return f"{total}" + (f" ({', '.join(f'{k} {v}' for k, v in kinds.items() if v)})" if total else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of each wrk run")
    parser.add_argument("--readers", type=int, default=200, help="concurrent connections (wrk -c)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--engine", default="local", choices=["local", "espeak"])
    parser.add_argument("--rounds", type=int, default=1, help="baseline + job runs, interleaved")
    parser.add_argument("--sentences", type=int, default=2000, help="sentences in the job's article")
    parser.add_argument("--lead", type=float, default=10.0, help="seconds the job runs alone first")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y --no-install-recommends wrk")
    nofile = raise_open_files()
    print(f"RLIMIT_NOFILE now {nofile}", file=sys.stderr)
    runs: dict[str, list[dict]] = {BASELINE: [], LOADED: []}
    leads: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        home = Path(tmp)
        server = Server(home, args.engine)
        try:
            server.start()
            t0 = time.monotonic()
            audio = wait_demo_ready(server)
            print(
                f"demo ready in {time.monotonic() - t0:.1f} s: {len(audio['chunks'])} chunks", file=sys.stderr
            )
            specs = targets(server, audio)
            script = lua_script(specs, home / "load.lua")
            for round_no in range(args.rounds):
                result = run_wrk(server, script, args, None)
                runs[BASELINE].append(result)
                print(f"round {round_no + 1}: {describe('baseline', result)}", file=sys.stderr)
                slug, job_id = start_job(server, round_no + 1, args.sentences)
                leads.append(lead(server, job_id, args.lead))
                result = run_wrk(server, script, args, job_id)
                runs[LOADED].append(result)
                print(f"round {round_no + 1}: {describe('with job', result)}", file=sys.stderr)
                status, _, _ = http("DELETE", f"{server.base}/api/articles/{slug}", headers=EDITOR)
                assert status == 204, status
            hwm_mb = server.proc_status()["VmHWM"] / 1024
            all_log_errors = server.errors_in_log(0)
        finally:
            exit_code = server.stop()
            if exit_code not in (None, 0, -15):  # uvicorn re-raises the SIGTERM it handled
                print(f"server exited with {exit_code}", file=sys.stderr)
        for line in all_log_errors[:20]:
            print(f"server log: {line}", file=sys.stderr)
    report(runs, leads, specs, args, nofile, hwm_mb, len(all_log_errors))


def report(
    runs: dict[str, list[dict]],
    leads: list[dict],
    specs: list[dict],
    args: argparse.Namespace,
    nofile: tuple[int, int],
    hwm_mb: float,
    log_errors: int,
) -> None:
    base, loaded = runs[BASELINE], runs[LOADED]
    cycle = ", ".join(s["name"] + (f" ({s['headers']['Range']})" if s["headers"] else "") for s in specs)
    print(f"`{base[0]['command']}`; load.lua cycles: {cycle}.")
    print(
        f"Engine {args.engine}; {args.rounds} round(s), medians; job article {args.sentences} sentences;"
        f" RLIMIT_NOFILE {nofile[0]}. CPU in cores (of 2); 'others' = the machine's busy CPU minus the"
        " server's and wrk's; the event loop is the server's main thread.\n"
    )
    print(
        "| run | req/s | MB/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU | of which event loop"
        " | wrk CPU | others CPU | server RSS peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")

    def med(rs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rs)

    for name, rs in runs.items():
        errors = sum(r["errors"] + len(r["log_errors"]) for r in rs)
        others = max(0.0, statistics.median(r["machine_cpu"] - r["server_cpu"] - r["wrk_cpu"] for r in rs))
        print(
            f"| {name} | {med(rs, 'rps'):,.0f} | {med(rs, 'mbps'):,.0f} | {med(rs, 'p50') / 1000:.1f}"
            f" | {med(rs, 'p90') / 1000:.1f} | {med(rs, 'p99') / 1000:.1f} | {med(rs, 'max') / 1000:.1f}"
            f" | {errors} | {med(rs, 'server_cpu'):.2f} | {med(rs, 'loop_cpu'):.2f}"
            f" | {med(rs, 'wrk_cpu'):.2f} | {others:.2f} | {med(rs, 'rss_peak_mb'):.0f} |"
        )
    rps_ratio = statistics.median(j["rps"] / b["rps"] for j, b in zip(loaded, base, strict=True))
    p99_ratio = statistics.median(j["p99"] / b["p99"] for j, b in zip(loaded, base, strict=True))
    print(f"\nWith the job / without (per round, median): throughput {rps_ratio:.2f}x, p99 {p99_ratio:.2f}x.")
    body = statistics.mean(s["bytes"] for s in specs)
    per_request = statistics.median(r["bytes"] / r["requests"] for r in base + loaded)
    print(
        f"Bytes read per request (median of runs): {per_request:,.0f}; the cycle's bodies average {body:,.0f}"
        " (the rest is headers)."
    )
    print(f"Server peak RSS over its whole life (VmHWM): {hwm_mb:.0f} MB.")
    print(f"Error lines (traceback, ERROR) in the whole server log: {log_errors}.\n")
    print("| round | run | req/s | p99 ms | errors | load average before -> after |")
    print("|---|---|---|---|---|---|")
    for n in range(args.rounds):
        for name, rs in runs.items():
            r = rs[n]
            print(
                f"| {n + 1} | {name} | {r['rps']:,.0f} | {r['p99'] / 1000:.1f} | {error_text(r)}"
                f" | {r['loadavg']} |"
            )
    print("\nThe job, polled with GET /api/jobs/{id}:\n")
    print(
        "| round | job | chunks | done at window start | at end | made in window | chunks/s, readers on"
        " | chunks/s alone (lead) | status at end |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n, (r, alone) in enumerate(zip(loaded, leads, strict=True), 1):
        j = r["job"]
        print(
            f"| {n} | {j['id']} | {j['total']} | {j['start_done']} | {j['end_done']} |"
            f" {j['end_done'] - j['start_done']} | {j['chunks_per_s']:.2f} |"
            f" {alone['chunks'] / alone['seconds']:.2f} | {j['end_status']} |"
        )
    samples = loaded[0]["job"]["samples"]
    if samples:
        t0 = samples[0][0]
        marks = [f"{t - t0:.0f} s: {done}" for i, (t, done, _) in enumerate(samples) if i % 10 == 0]
        print(f"\nRound 1, chunks done during the window: {', '.join(marks)}.")
    for name, rs in runs.items():
        routes = rs[0]["routes"]
        if routes is None:
            print(f"\n{name}: the server has no /metrics, so no per-route figures.")
            continue
        print(f"\nPer route, {name}, round 1 (the server's /metrics, over the window):\n")
        print("| route | status | requests | req/s | server mean ms |")
        print("|---|---|---|---|---|")
        for row in routes:
            print(
                f"| {row['route']} | {row['status']} | {row['count']:,.0f} | {row['rps']:,.0f}"
                f" | {row['mean_ms']:.1f} |"
            )
    for name, rs in runs.items():
        print(f"\nwrk's own report, {name}, round 1:\n")
        lines = rs[0]["wrk_output"].splitlines()
        print("\n".join("    " + line for line in lines if not line.startswith("BENCH_LOAD")))


if __name__ == "__main__":
    main()
