"""gunicorn settings for the web process: threaded workers so SSE streams don't starve requests."""

from cognova.config import Config

_config = Config()

bind = f"{_config.HOST}:{_config.PORT}"
worker_class = "gthread"
workers = int(_config.env.get("WEB_CONCURRENCY") or 2)
threads = int(_config.env.get("COGNOVA_WEB_THREADS") or 32)
timeout = 0  # SSE streams stay open; gthread keeps serving other requests meanwhile
graceful_timeout = 10
keepalive = 5
accesslog = "-"
forwarded_allow_ips = "*" if _config.TRUST_PROXY else "127.0.0.1"


def on_starting(server):
    """Migrate and seed once, in the master, before any worker serves."""
    from cognova import boot, create_app

    boot.prepare(create_app())
