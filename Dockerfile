# MLOps Workbench — the Streamlit app.
#   docker build -t mlops-workbench .
#   docker run --rm -p 8501:8501 -v workbench-state:/app/.workbench mlops-workbench
# The base image can be changed at build time: --build-arg BASE=... (CI uses a local copy of python:3.11-slim).
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WORKBENCH_STATE_DIR=/app/.workbench
WORKDIR /app

# Dependencies first, so code changes do not reinstall them. The API's share comes first, in the same
# lines as Dockerfile.api: both images share that layer (built once, stored once).
COPY requirements.txt requirements-api.txt ./
RUN sed '/^-e \.$/d' requirements.txt > /tmp/constraints.txt \
    && pip install --no-cache-dir -c /tmp/constraints.txt -r requirements-api.txt \
    && rm /tmp/constraints.txt
# Then the rest: Streamlit, Evidently, ART and the tools the labs run.
RUN sed '/^-e \.$/d' requirements.txt > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# git: the chapter II sandbox and the chapter VIII pipeline run real git commands. apt's downloads and lists
# are deleted in the same RUN, or they would stay in the layer.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.* \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 learner
COPY --chown=learner:learner . .
RUN pip install --no-cache-dir --no-deps -e . \
    && mkdir -p /app/.workbench \
    && chown learner:learner /app/.workbench

USER 1000:1000
EXPOSE 8501
VOLUME ["/app/.workbench"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD ["streamlit", "run", "app/Home.py", "--server.address=0.0.0.0", "--server.port=8501"]
