# The CDS service under gunicorn, as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CDS_DATABASE_URL=sqlite:////data/cds-service.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
RUN pip install --no-cache-dir '.[postgres]' \
 && useradd --system --uid 10001 --home /app cds \
 && mkdir -p /data && chown cds /data

USER cds
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"

CMD ["cds-service", "serve", "--host", "0.0.0.0", "--port", "8080"]
