"""One module per `sandbox` command; ``sandbox.cli`` only wires them together."""
