"""``python -m sandbox.serve``: the endpoint and the HTTP sink in one process, for one container.

What ``sandbox.testing.SandboxContainer`` runs: a user's test suite gets one
container, one mapped port for AWS and one for the sink. With ``--pipeline`` the
pipeline is deployed before the ready line, with consumer B posting to the sink
on loopback (the function workers run in this same container), so the first
test can write clicks at once. Ctrl-C / SIGTERM stops both.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

READY_LINE = "Sandbox ready"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind both servers (0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=4566, help="the AWS endpoint's port (default 4566)")
    parser.add_argument("--sink-port", type=int, default=8088, help="the HTTP sink's port (default 8088)")
    parser.add_argument("--region", default=None, help="AWS region (default: AWS_REGION or us-east-1)")
    parser.add_argument("--pipeline", action="store_true", help="deploy the pipeline (bootstrap apply) first")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bootstrap import api
    from bootstrap.settings import Settings
    from emulator import Emulator
    from emulator.config import EmulatorConfig
    from emulator.gc_tuning import GcTuner
    from sandbox.httpsink import HttpSink

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    config = EmulatorConfig.from_env(host=args.host, port=args.port, region=args.region)
    try:
        sink = HttpSink(host=args.host, port=args.sink_port).start()
        emulator = Emulator(config).start()
    except OSError as error:
        print(f"sandbox.serve: cannot listen on {args.host} ({error.strerror or error}): pick other ports "
              "with --port/--sink-port", file=sys.stderr)
        return 1
    try:
        if args.pipeline:
            settings = Settings.from_env({
                "AWS_ENDPOINT_URL": emulator.endpoint_url, "AWS_REGION": config.region,
                "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                "SANDBOX_HTTP_SINK_URL": sink.url,
            })
            plan = api.apply(settings)
            print(f"pipeline deployed ({len(plan.changes)} changes)", flush=True)
        print(f"{READY_LINE}: endpoint port {args.port}, sink port {args.sink_port}"
              f"{', pipeline deployed' if args.pipeline else ''}", flush=True)
        tuner = GcTuner()
        tuner.start()  # short GC pauses while the heap grows (emulator/gc_tuning.py)
        while not stop.wait(0.2):
            pass
        tuner.stop()
    finally:
        emulator.stop()
        sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
