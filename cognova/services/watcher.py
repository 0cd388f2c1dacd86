"""Live vault watching (COGNOVA_VAULT_WATCH=true): file events → the sync rule, debounced.

watchdog reports raw events; they are collected by vault-relative path and flushed once the
vault has been quiet for ``quiet`` seconds, or at the latest ``max_delay`` seconds after the
first pending event, so a burst of saves (an editor, a git pull) becomes one pass. Each path is
then synced (it exists) or its rows are soft-deleted (it vanished). The periodic full sync
remains the safety net for anything a watcher can miss (events dropped while stopped).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from cognova.extensions import db
from cognova.services import sync, vault
from cognova.services.errors import ServiceError

log = logging.getLogger(__name__)


class _Collector(FileSystemEventHandler):
    def __init__(self, watcher: VaultWatcher):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # a child changed; the child's own event carries the path
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher.add(os.fsdecode(raw))


class VaultWatcher:
    def __init__(self, app: Flask, *, quiet: float = 0.5, max_delay: float = 2.0):
        self.app = app
        self.quiet = quiet
        self.max_delay = max_delay
        self.root = os.path.realpath(app.config["VAULT_PATH"])
        self.pending: set[str] = set()
        self.first_at = 0.0
        self.last_at = 0.0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.observer = Observer()
        self.thread = threading.Thread(target=self._loop, name="vault-watcher", daemon=True)

    def add(self, absolute: str) -> None:
        rel = os.path.relpath(absolute, self.root).replace(os.sep, "/")
        if rel == "." or rel.startswith("../") or vault.is_hidden(rel):
            return
        now = time.monotonic()
        with self.lock:
            if not self.pending:
                self.first_at = now
            self.pending.add(rel)
            self.last_at = now

    def start(self) -> VaultWatcher:
        self.observer.schedule(_Collector(self), self.root, recursive=True)
        self.observer.start()
        self.thread.start()
        log.info("watching the vault at %s", self.root)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.observer.stop()
        self.observer.join(5)
        self.thread.join(5)

    def _due(self) -> set[str]:
        now = time.monotonic()
        with self.lock:
            if not self.pending:
                return set()
            if now - self.last_at < self.quiet and now - self.first_at < self.max_delay:
                return set()
            paths, self.pending = self.pending, set()
            return paths

    def _loop(self) -> None:
        while not self.stopping.is_set():
            paths = self._due()
            if paths:
                self.flush(paths)
            self.stopping.wait(0.1)

    def flush(self, paths: set[str]) -> None:
        with self.app.app_context():
            try:
                for rel in sorted(paths):
                    self._reconcile(rel)
            finally:
                db.session.remove()

    def _reconcile(self, rel: str) -> None:
        try:
            vp = vault.sandbox(rel)
            if vp.abs.is_file():
                sync.sync_file(vp)
            elif vp.abs.is_dir():
                for found in vault.walk_files(vp):
                    sync.sync_file(vault.sandbox(found.rel))
            else:
                sync.vanish_under(vp.rel)
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            log.info("watcher skipped %s: %s", rel, exc.message)
        except Exception:
            db.session.rollback()
            log.exception("watcher could not sync %s", rel)


def start(app: Flask) -> VaultWatcher | None:
    """Start watching when the setting asks for it (called by the worker process)."""
    if not app.config.get("VAULT_WATCH"):
        return None
    try:
        return VaultWatcher(app).start()
    except OSError:
        log.exception("could not watch the vault")
        return None
