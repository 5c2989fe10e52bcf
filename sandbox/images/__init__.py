"""Images for the Docker path, built on a machine that cannot pull (`make images`).

Three steps, each cached: a Debian base made locally with debootstrap and imported
(``base``), the Python dependencies downloaded on the host as wheels into the build
context (``wheelhouse``), and the project image built from the repository's one
Dockerfile on that base with ``pip install --no-index`` (``project``). Nothing in
the build itself touches the network.
"""

from sandbox.images.names import BASE_IMAGE, PROJECT_IMAGE
from sandbox.images.build import BuildReport, build_images

__all__ = ["BASE_IMAGE", "PROJECT_IMAGE", "BuildReport", "build_images"]
