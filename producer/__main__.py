"""``python -m producer``: see producer/cli.py."""

from producer.cli import main

main()
