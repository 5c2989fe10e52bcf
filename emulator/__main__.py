"""python -m emulator: run the embedded local AWS endpoint in the foreground until Ctrl-C/SIGTERM."""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from emulator.config import ConfigError, EmulatorConfig
from emulator.core import Emulator
from emulator.gc_tuning import GcTuner
from emulator.persistence import Persistence, load
from emulator.snapshot_file import SnapshotError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", help="address to bind (default 127.0.0.1; 0.0.0.0 only on purpose)")
    parser.add_argument("--port", type=int, help="port (default 4566; 0 picks a free one)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or us-east-1)")
    parser.add_argument("--ttl-interval", type=float, help="seconds between TTL sweeps (default 2; 0 disables)")
    parser.add_argument("--log-dir", help="also write function logs to files in this directory")
    parser.add_argument("--snapshot", metavar="FILE",
                        help="restore the state saved in FILE (if any) and keep saving it there (emulator/persistence.py)")
    return parser.parse_args(argv)


def _persistence(snapshot: str | None) -> Persistence | None:
    """What to restore from ``snapshot`` and where to save, said in one ``state:`` line."""
    if not snapshot:
        return None
    path = Path(snapshot)
    started = time.monotonic()
    loaded = load(path)
    if loaded is None:
        print(f"state: none saved yet, starting fresh; saved to {path} while running (`sandbox reset` removes it)", flush=True)
    else:
        print(f"state: {loaded.describe()} in {time.monotonic() - started:.2f} s", flush=True)
    return Persistence(path, loaded)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = EmulatorConfig.from_env(
            host=args.host, port=args.port, region=args.region, ttl_interval=args.ttl_interval, log_dir=args.log_dir
        )
    except ConfigError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    try:
        persistence = _persistence(args.snapshot)
    except SnapshotError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        emulator = Emulator(config, persistence).start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"emulator: port {config.port} on {config.host} is already in use: stop what runs there "
                  f"(`make down`) or pick another port with --port/EMULATOR_PORT", file=sys.stderr)
        else:
            print(f"emulator: cannot listen on {config.host}:{config.port}: {exc.strerror or exc} "
                  "(use a local address such as 127.0.0.1 with --host/EMULATOR_HOST)", file=sys.stderr)
        return 1
    tuner = GcTuner()
    tuner.start()  # short GC pauses in a process whose heap only grows (see emulator/gc_tuning.py)
    try:
        print(f"Emulator ready at {emulator.endpoint_url}", flush=True)
        # A short timeout, not a bare wait(): a signal delivered to another thread only
        # runs its Python handler once the main thread executes bytecode again.
        while not stop.wait(0.2):
            pass
    finally:
        tuner.stop()
        emulator.stop()
        print("Emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
