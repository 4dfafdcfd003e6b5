# Gunicorn runs several copies (workers) of the prediction API behind NGINX.
# FastAPI is an ASGI app: Gunicorn (a WSGI process manager) drives it through Uvicorn workers.
# Use: gunicorn -c deploy/gunicorn.conf.py "workbench.api:create_app()"
import multiprocessing
import os

bind = "127.0.0.1:8000"
# NGINX, on this machine, is the only proxy whose X-Forwarded-For is believed (the rate limit's client address).
forwarded_allow_ips = os.environ.get("WORKBENCH_API_TRUSTED_PROXIES") or "127.0.0.1"
workers = max(2, multiprocessing.cpu_count())
worker_class = "uvicorn_worker.UvicornWorker"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 10000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
loglevel = "info"
