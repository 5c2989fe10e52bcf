"""`make chaos`: fault-injection scenarios on the embedded backend, one table row each.

Run with ``python -m tests.chaos [--scenario NAME]... [--small]``. A benchmark-style
script, not a timed test; the small versions also run under pytest (test_chaos.py).
"""
