"""Drive pre-signed callbacks with wrk (the C load generator) through a Lua script that cycles through a file."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.common import HOST

# Each wrk thread reads every nthreads-th line of the file ("path<TAB>body"), pre-formats its requests once and
# sends them in turn, starting again at its first when it runs out (a repeat is a WeCom retry: stored once).
LUA = r"""
local reqs, nxt = {}, 0
sent, n = 0, 0  -- globals: done() reads them from each thread with thread:get
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads, i = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then
      local path, body = line:match("^([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", path, {["Content-Type"] = "text/xml"}, body)
    end
    i = i + 1
  end
  n = #reqs
end

function request()
  sent = sent + 1
  nxt = nxt % #reqs + 1
  return reqs[nxt]
end

function done(summary, latency, requests)
  local e, distinct = summary.errors, 0
  for _, t in ipairs(threads) do  -- each thread has its own share of the lines: count what each really sent
    distinct = distinct + math.min(t:get("sent"), t:get("n"))
  end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "distinct": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, distinct))
end
"""


@dataclass
class WrkRun:
    """What one wrk run measured (latencies in ms)."""

    requests: int
    seconds: float
    p50: float
    p99: float
    max: float
    errors: dict[str, int]
    distinct: int = -1  # distinct lines sent (issued, in flight included): each thread sends its own share

    @property
    def rate(self) -> float:
        """Answered requests per second (non-2xx answers count as errors, not requests)."""
        bad = self.errors.get("status", 0) + self.errors.get("read", 0) + self.errors.get("timeout", 0)
        return (self.requests - bad) / self.seconds if self.seconds else 0.0


def available() -> str | None:
    """Return the wrk binary's path, or None."""
    return shutil.which("wrk")


def write_requests(path: Path, parts: Iterable[tuple[str, bytes]]) -> int:
    """Write (path, body) pairs one per line for the Lua script; return how many."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for p, body in parts:
            text = body.decode()
            if "\t" in text or "\n" in text or "\t" in p:
                raise ValueError("a request line must not contain a tab or a newline")
            f.write(f"{p}\t{text}\n")
            n += 1
    return n


def run(
    port: int,
    requests_file: Path,
    seconds: float,
    connections: int = 50,
    threads: int = 2,
    stop_when: Callable[[], bool] | None = None,
    poll: float = 0.05,
) -> WrkRun:
    """Run wrk against port for seconds (or until stop_when() is true: wrk is then interrupted) and parse its output."""
    script = requests_file.with_suffix(".lua")
    script.write_text(LUA, encoding="utf-8")
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, int(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}",
        "--",
        str(requests_file),
        str(threads),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if stop_when is not None:
        while proc.poll() is None:
            try:
                proc.wait(poll)
            except subprocess.TimeoutExpired:
                if stop_when():
                    proc.send_signal(signal.SIGINT)  # wrk stops its threads and prints the summary so far
                    break
    out, _ = proc.communicate(timeout=seconds + 60)
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out[-2000:]}")
    d = json.loads(line.removeprefix("WRKJSON "))
    errors = {k: int(d[k]) for k in ("connect", "read", "write", "status", "timeout") if d[k]}
    return WrkRun(
        int(d["requests"]),
        d["duration_us"] / 1e6,
        d["p50_us"] / 1000,
        d["p99_us"] / 1000,
        d["max_us"] / 1000,
        errors,
        int(d.get("distinct", -1)),
    )
