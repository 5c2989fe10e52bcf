# One image for the sandbox's Python services on the Docker path: bootstrap,
# the HTTP sink, the producer and (emulator variant) the embedded emulator.
#
# Two ways to build it, from this one file:
# - the default, with a registry: the pinned Python slim image from Docker Hub,
#   dependencies from PyPI:          docker build -t clickstream-sandbox:local .
# - offline / behind a registry mirror (`make images`): a Debian base made locally
#   with debootstrap, dependencies from the wheelhouse downloaded on the host into
#   docker/wheelhouse/, no network at all during the build:
#     docker build --build-arg BASE_IMAGE=clickstream-sandbox-base:bookworm \
#                  --build-arg PIP_OFFLINE=1 -t clickstream-sandbox:local .
# Pinned by exact tag; pin by digest too (`python:3.12.12-slim-bookworm@sha256:...`)
# where a registry is reachable to look it up.
ARG BASE_IMAGE=python:3.12.12-slim-bookworm

# --- Stage 1: the dependencies, in a virtualenv (Debian's python3 is externally
# managed, PEP 668, and has no `python` command; the venv gives both bases the
# same `python`/`pip`). Only pyproject.toml and the wheelhouse come in, so editing
# the source never reinstalls them, and the wheelhouse stays out of the final image.
FROM ${BASE_IMAGE} AS dependencies
ARG PIP_OFFLINE=0
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
COPY pyproject.toml docker/wheelhouse/ /tmp/wheelhouse/
# The runtime dependencies only ([project].dependencies: no test tools in the image),
# plus setuptools for the source install below. PIP_OFFLINE=1: from the wheelhouse
# with --no-index (no network); otherwise from PyPI (the wheelhouse is ignored).
RUN python3 -m venv /opt/sandbox \
    && cd /tmp/wheelhouse \
    && /opt/sandbox/bin/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" \
        > requirements.txt \
    && if [ "$PIP_OFFLINE" = 1 ]; then set -- --no-index --find-links /tmp/wheelhouse; else set --; fi \
    && /opt/sandbox/bin/pip install "$@" -r requirements.txt 'setuptools>=77'

# --- Stage 2: the image: the base, the venv, the source, a non-root user.
FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    PATH=/opt/sandbox/bin:$PATH \
    SANDBOX_STATE_DIR=/home/sandbox/.sandbox
# Non-root user; its home is the working directory (bootstrap keeps state there).
RUN groupadd --system --gid 10001 sandbox \
    && useradd --system --uid 10001 --gid sandbox --create-home --home-dir /home/sandbox sandbox
COPY --from=dependencies /opt/sandbox /opt/sandbox

# The source layer: the project itself, without touching the dependencies (setuptools
# is in the venv already, so no build isolation and no index are needed).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bootstrap/ bootstrap/
COPY emulator/ emulator/
COPY functions/ functions/
COPY producer/ producer/
COPY sandbox/ sandbox/
RUN pip install --quiet --no-deps --no-build-isolation --no-index --no-cache-dir . \
    && rm -rf /src/build /src/*.egg-info \
    && python -c "import bootstrap, emulator, functions, producer, sandbox"

# The state dir, the user's own: a named volume mounted here (the emulator stack's snapshot
# and the sink's journal) starts with this owner, so the services can write to it.
RUN install -d -o sandbox -g sandbox /home/sandbox/.sandbox

USER sandbox:sandbox
WORKDIR /home/sandbox

# Each compose service sets its own command; this one only says what the image is.
CMD ["python", "-c", "print('clickstream-sandbox image: run python -m bootstrap|producer|emulator|sandbox.httpsink|sandbox.serve')"]
