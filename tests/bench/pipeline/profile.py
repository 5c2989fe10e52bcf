"""``--profile DIR``: py-spy attached to our endpoint (and its function workers) for one workload.

The raw collapsed stacks go to DIR/<workload>.txt (``flamegraph.pl`` or speedscope read
them); ``top`` prints the entries with the most samples, by own time and by inclusive time,
which is what the issue's "profile's top entries" asks for.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.bench.pipeline.systems import BenchError, Running, wait_until


class Profiler:
    def __init__(self, running: Running, out: Path, rate: int = 50) -> None:
        beside = Path(sys.executable).with_name("py-spy")  # the venv's, when its bin is not on PATH
        spy = str(beside) if beside.exists() else shutil.which("py-spy")
        if spy is None:
            raise BenchError("--profile needs py-spy (pip install py-spy; it is in the dev extras)")
        self.out = out
        out.parent.mkdir(parents=True, exist_ok=True)
        endpoint = running.processes[0].pid
        self.process = subprocess.Popen([spy, "record", "--pid", str(endpoint), "--subprocesses", "--format", "raw",
                                         "--rate", str(rate), "--gil", "--output", str(out), "--nonblocking"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        wait_until(self.out.exists, 10, f"the profile {self.out}")


def top(path: Path, entries: int = 15) -> list[str]:
    """The busiest frames: own samples and inclusive samples, as percentages of all samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame for frame in stack.split(";") if not frame.startswith(("process ", "Thread "))]
        if not frames:
            continue
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return ["(no samples)"]
    lines = [f"{total:,} samples; own time:"]
    lines += [f"  {100 * n / total:5.1f} %  {frame[:140]}" for frame, n in own.most_common(entries)]
    lines.append("inclusive time (frames under our code, moto and botocore):")
    ours = [(f, n) for f, n in inclusive.most_common() if any(k in f for k in ("emulator/", "functions/", "moto/", "botocore/"))]
    lines += [f"  {100 * n / total:5.1f} %  {frame[:140]}" for frame, n in ours[:entries]]
    return lines
