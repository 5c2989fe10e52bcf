"""The sandbox in your own test suite.

- ``SandboxContainer``: the endpoint (and, with ``pipeline=True``, the deployed
  pipeline and the HTTP sink) in Docker through testcontainers, in the spirit of
  testcontainers' ``LocalStackContainer``::

      with SandboxContainer(pipeline=True) as sandbox:
          boto3.client("dynamodb", endpoint_url=sandbox.get_url(), ...)

- the pytest plugin (``pytest_plugins = ["sandbox.testing.pytest_plugin"]`` in a
  conftest): fixtures ``sandbox_container`` (Docker) and ``embedded_sandbox``
  (in-process, no Docker at all), both with the same ``SandboxEndpoint`` face.
"""

from sandbox.testing.container import SandboxContainer
from sandbox.testing.endpoint import SandboxEndpoint, embedded_sandbox

__all__ = ["SandboxContainer", "SandboxEndpoint", "embedded_sandbox"]
