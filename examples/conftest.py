# The one line a test suite needs: the sandbox's pytest fixtures
# (embedded_sandbox: no Docker; sandbox_container: the same in Docker).
pytest_plugins = ["sandbox.testing.pytest_plugin"]
