"""Cognova: a self-hosted second brain."""

from __future__ import annotations

import logging

from flask import Flask

from cognova.config import ROOT, Config
from cognova.json_provider import OrjsonProvider


def create_app(config: Config | None = None) -> Flask:
    """Config, then one ``init_app`` per subsystem, then blueprints."""
    from cognova import api, cli, embedded, extensions, security, web
    from cognova.api import errors

    config = config or Config()
    embedded.ensure_services(config)
    config.resolve_generated()

    app = Flask(
        "cognova",
        instance_path=str(config.INSTANCE_PATH),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(config.flask_mapping())
    app.config["ROOT"] = ROOT
    app.json = OrjsonProvider(app)
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    extensions.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    api.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
