# The CDS service under gunicorn, as a non-root user.
FROM python:3.11-slim

# HOME: gunicorn keeps its control socket in ~/.gunicorn, so the user needs a home it can write.
# CDS_WORKERS: gunicorn workers; unset, `serve` takes 2 x cores + 1, capped at one per 320 MiB of the
# container's memory limit (docs/deployment.md).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOME=/home/cds \
    CDS_DATABASE_URL=sqlite:////data/cds-service.db

WORKDIR /app
COPY pyproject.toml setup.py README.md constraints.txt ./
COPY cds_service ./cds_service
# The fixture patients (dev mode, load-fixtures, evaluate): setup.py ships them inside the package.
COPY fhir_fixtures ./fhir_fixtures
RUN pip install --no-cache-dir -c constraints.txt '.[postgres]' \
 && useradd --system --uid 10001 --create-home --home-dir /home/cds cds \
 && mkdir -p /data && chown cds /data

USER cds
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"

CMD ["cds-service", "serve", "--host", "0.0.0.0", "--port", "8080"]
