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
# The app is imported once, in the master, and the workers are forked from it: start-up pays
# for one import instead of one per worker. create_app() must therefore not start threads or
# open connections it keeps; on_starting closes the database pool before the fork.
preload_app = True


def on_starting(server):
    """Migrate and seed once, in the master, before any worker serves."""
    import gc

    from app import app  # already imported by the preload: the same object the workers serve
    from cognova import boot
    from cognova.extensions import db

    boot.prepare(app)
    with app.app_context():
        db.engine.dispose()  # workers must not share the master's connections
    # Long-lived start-up objects: collections (and the one at exit) skip them from now on,
    # and forked workers keep sharing their memory pages.
    gc.collect()
    gc.freeze()
