"""JSON blueprints, one module per resource."""

from __future__ import annotations

from flask import Flask

from cognova.api import auth, health

BLUEPRINTS = [auth.bp, health.bp]


def init_app(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
