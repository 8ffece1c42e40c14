"""A cached article page with 1 web process against 2 (`tts-service serve --workers 2`), side by side.

Run: .venv/bin/python benchmarks/bench_web_processes.py [--rounds 5 --duration 10 --connections 50]
Needs wrk (Debian: apt-get install -y --no-install-recommends wrk); installs nothing itself.

In a temporary TTS_HOME it seeds the demo article and pre-generates its audio (`tts-service seed`, `pregen
demo`; TTS_ENGINE=espeak unless --engine says otherwise: the engine makes no difference to a page served
from memory, and espeak makes the set-up quick), then starts two servers on that home, each on a free
127.0.0.1 port, as shipped (access log on):
- `tts-service serve`: one process;
- `tts-service serve --workers 2`: uvicorn's supervisor and two processes on one socket.
Both answer the same page bytes (checked first). Then, in each round, `wrk --latency` loads the article page
on each server in turn (with the CPU its processes, and the whole machine, used meanwhile, from /proc),
the order swapped every round (so neither always runs on a machine warmed or
disturbed by the other). The ratio (2 processes over 1) is taken within each round; the medians over rounds
are reported, with the share of the requests each of the two processes answered (from their
prometheus-client multiprocess files under TTS_HOME/metrics). wrk runs on the same cores as the servers.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from prometheus_client.multiprocess import MultiProcessCollector

CLI = str(Path(sys.executable).with_name("tts-service"))
HOST = "reader.example"  # every request names it, so both servers render the same absolute links
PAGE = "/articles/demo"
SERVERS = {"1 process": [], "2 processes": ["--workers", "2"]}
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Host": HOST})
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback URLs built here
        return response.read()


def start(home: Path, env: dict[str, str], name: str, extra: list[str]) -> tuple[subprocess.Popen, str]:
    """`tts-service serve` with ``extra`` arguments on a free port; the process and its base URL."""
    port = free_port()
    log = home / f"serve-{len(extra)}.log"
    with log.open("wb") as out:
        cmd = [CLI, "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            fetch(url + "/api/articles")
            return proc, url
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not come up") from None
            time.sleep(0.2)


def run_wrk(url: str, args: argparse.Namespace) -> dict:
    """One wrk run: requests per second, p99 latency in ms, and any errors wrk reports."""
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s"]
    cmd += ["-H", f"Host: {HOST}", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M).groups()
    errors = re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", out)
    return {"rps": rps, "p99": float(value) * _UNITS[unit], "errors": errors}


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU clock ticks of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values[:8]) - idle, sum(values[:8])


def tree_ticks(root: int) -> int:
    """CPU clock ticks (user + system) used so far by ``root`` and its children (a server's processes)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # a process that has just ended
            continue
        if int(stat.parent.name) == root or int(fields[1]) == root:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def pages_by_process(home: Path) -> dict[int, float]:
    """Article pages each process of the 2-process server answered, by process id."""
    counts = {}
    for path in (home / "metrics").glob("counter_*.db"):
        counts[int(path.stem.removeprefix("counter_"))] = sum(
            s.value
            for family in MultiProcessCollector.merge([str(path)])
            for s in family.samples
            if s.name == "tts_http_requests_total" and s.labels["route"] == "/articles/{slug}"
        )
    return counts


def measured(url: str, root: int, args: argparse.Namespace) -> dict:
    """One wrk run, with the CPU the server's processes and the whole machine used during it."""
    server, (busy, total) = tree_ticks(root), machine_ticks()
    result = run_wrk(url, args)
    busy_after, total_after = machine_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    result["server_cpu"] = (tree_ticks(root) - server) / hz / args.duration  # cores, on average
    result["machine_busy"] = (busy_after - busy) / (total_after - total)
    return result


def measure(urls: dict[str, str], roots: dict[str, int], args: argparse.Namespace) -> dict[str, list[dict]]:
    """wrk on each server, in swapped order every round: results by server, one per round."""
    results: dict[str, list[dict]] = {name: [] for name in urls}
    for round_no in range(args.rounds):
        order = list(urls) if round_no % 2 == 0 else list(reversed(urls))
        for name in order:
            result = measured(urls[name] + PAGE, roots[name], args)
            results[name].append(result)
            line = (
                f"{result['rps']:,.0f} req/s, p99 {result['p99']:.1f} ms, server {result['server_cpu']:.2f}"
            )
            line += f" cores, machine {result['machine_busy']:.0%} busy {' '.join(result['errors'])}"
            print(f"round {round_no + 1}: {name}: {line}", file=sys.stderr)
    return results


def report(
    results: dict[str, list[dict]], shares: dict[int, float], load: tuple[str, str], args: argparse.Namespace
) -> None:
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, {args.rounds} rounds"
        f" (order swapped each round), medians; {os.cpu_count()} cores shared with wrk; load average"
        f" {load[0]} before, {load[1]} after.\n"
    )
    print(
        "| server | req/s | p99 ms | req/s vs 1 process | p99 vs 1 process | server CPU (cores)"
        " | machine busy |"
    )
    print("|---|---|---|---|---|---|---|")
    base = results["1 process"]
    for name, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        ratio = statistics.median(r["rps"] / b["rps"] for r, b in zip(runs, base, strict=True))
        p99_ratio = statistics.median(r["p99"] / b["p99"] for r, b in zip(runs, base, strict=True))
        errors = {e for r in runs for e in r["errors"]}
        label = f"{name} ({', '.join(sorted(errors))})" if errors else name
        cpu = statistics.median(r["server_cpu"] for r in runs)
        busy = statistics.median(r["machine_busy"] for r in runs)
        print(
            f"| {label} | {rps:,.0f} | {p99:.1f} | {ratio:.2f}x | {p99_ratio:.2f}x | {cpu:.2f} | {busy:.0%} |"
        )
    total = sum(shares.values())
    split = ", ".join(f"{count / total:.0%}" for count in sorted(shares.values(), reverse=True))
    print(f"\nThe 2-process server's pages, by process: {split} of {total:,.0f}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--engine", default="espeak", help="TTS_ENGINE of the servers")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a stopped run still stops its servers
    with tempfile.TemporaryDirectory(prefix="bench-web-processes-") as tmp:
        home = Path(tmp)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TTS_") and k != "PROMETHEUS_MULTIPROC_DIR"
        }
        env |= {"TTS_HOME": str(home), "TTS_ENGINE": args.engine}
        for command in (["seed"], ["pregen", "demo"]):
            subprocess.run([CLI, *command], env=env, check=True, capture_output=True)
        procs, urls = [], {}
        try:
            for name, extra in SERVERS.items():
                proc, urls[name] = start(home, env, name, extra)
                procs.append(proc)
            pages = {fetch(url + PAGE) for url in urls.values() for _ in range(4)}
            assert len(pages) == 1, "the servers answer different pages"
            print(f"{PAGE}: {len(pages.pop()):,} bytes", file=sys.stderr)
            roots = {name: proc.pid for name, proc in zip(SERVERS, procs, strict=True)}
            before = Path("/proc/loadavg").read_text().split()[0]
            results = measure(urls, roots, args)
            load = (before, Path("/proc/loadavg").read_text().split()[0])
            shares = pages_by_process(home)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
    report(results, shares, load, args)


if __name__ == "__main__":
    main()
