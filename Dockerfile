# MLOps Workbench — the Streamlit app.
#   docker build -t mlops-workbench .
#   docker run --rm -p 8501:8501 -v workbench-state:/app/.workbench mlops-workbench
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WORKBENCH_STATE_DIR=/app/.workbench

# git: the chapter II sandbox and the chapter VIII pipeline run real git commands.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.* \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 learner
WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY --chown=learner:learner requirements.txt pyproject.toml README.md ./
COPY --chown=learner:learner app/workbench/__init__.py app/workbench/__init__.py
RUN sed -i '/^-e \.$/d' requirements.txt \
    && pip install -r requirements.txt

COPY --chown=learner:learner . .
RUN pip install --no-deps -e . \
    && mkdir -p /app/.workbench \
    && chown learner:learner /app/.workbench

USER 1000:1000
EXPOSE 8501
VOLUME ["/app/.workbench"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD ["streamlit", "run", "app/Home.py", "--server.address=0.0.0.0", "--server.port=8501"]
