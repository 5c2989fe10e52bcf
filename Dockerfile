# One image for the sandbox's Python services on the Docker path: bootstrap,
# the HTTP sink, the producer and (emulator override) the embedded emulator.
# Python 3.12 to match the Lambda runtime the functions are deployed to.
# Pinned by exact tag; pin by digest too (`python:3.12.12-slim-bookworm@sha256:...`)
# where a registry is reachable to look it up.
FROM python:3.12.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Non-root user; its home is the working directory (bootstrap keeps state there).
RUN groupadd --system --gid 10001 sandbox \
    && useradd --system --uid 10001 --gid sandbox --create-home --home-dir /home/sandbox sandbox

WORKDIR /src

# Dependency layer: only pyproject.toml, so editing the source does not reinstall
# the dependencies. The runtime dependencies are read from [project].dependencies
# (the dev extra is not installed: no test tools in the image).
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Source layer: the project itself, installed without touching the dependencies.
COPY README.md ./
COPY bootstrap/ bootstrap/
COPY emulator/ emulator/
COPY functions/ functions/
COPY producer/ producer/
COPY sandbox/ sandbox/
RUN pip install --no-deps . \
    && rm -rf /src/build /src/*.egg-info \
    && python -c "import bootstrap, emulator, functions, producer, sandbox"

USER sandbox:sandbox
WORKDIR /home/sandbox
ENV SANDBOX_STATE_DIR=/home/sandbox/.sandbox

# Each compose service sets its own command; this one only says what the image is.
CMD ["python", "-c", "print('clickstream-sandbox image: run python -m bootstrap|producer|emulator|sandbox.httpsink')"]
