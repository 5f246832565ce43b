# The platform as one image: `tendering serve` as a non-root user.
#
#   docker build -t tendering .
#   docker run --rm -e DATABASE_URL=postgresql://... -e REDIS_URL=redis://... tendering migrate
#   docker run -d -p 8000:8000 -e DATABASE_URL=... -e REDIS_URL=... \
#       -e TENDERING_SIGNING_KEY=... tendering                      # N of these behind a balancer
#   docker run -d -e DATABASE_URL=... -e REDIS_URL=... tendering worker   # M of these
#
# It installs the pinned, hash-checked requirements.lock (refreshed by `bash .ci/lock`) and
# not the `embedded` extra: DATABASE_URL and REDIS_URL must be set (without them it stops,
# saying so). For a one-box trial use `pip install -e '.[embedded]'` instead (README.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 tendering \
    && useradd --system --uid 10001 --gid tendering --home-dir /data --shell /usr/sbin/nologin tendering \
    && mkdir -p /data \
    && chown tendering:tendering /data

WORKDIR /src
# The locked dependencies first: their layer is rebuilt only when the lock file changes.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-deps . && pip check && rm -rf /src

USER tendering
WORKDIR /data
ENV TENDERING_HOST=0.0.0.0 \
    TENDERING_PORT=8000 \
    TENDERING_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import os, sys, urllib.request; port = os.environ.get('TENDERING_PORT', '8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4).status != 200)"

ENTRYPOINT ["tendering"]
CMD ["serve"]
