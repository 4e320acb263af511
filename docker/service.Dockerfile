# One image per service: docker build -f docker/service.Dockerfile --build-arg SERVICE=registry .
FROM python:3.11-slim
ARG SERVICE
ENV GUIFICLOUD_SERVICE=${SERVICE} \
    PYTHONUNBUFFERED=1 \
    GUIFICLOUD_LOG_FORMAT=json \
    GUIFICLOUD_DATA_DIR=/var/lib/guificloud
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY libs libs
COPY cli cli
COPY services services
RUN pip install --no-cache-dir -c constraints.txt . \
    && useradd --system --home /var/lib/guificloud guificloud \
    && mkdir -p /var/lib/guificloud && chown guificloud /var/lib/guificloud
USER guificloud
# Migrations run at start-up (advisory-locked, so several replicas may start at once).
CMD ["sh", "-c", "exec python -m guificloud_${GUIFICLOUD_SERVICE} serve --host 0.0.0.0"]
