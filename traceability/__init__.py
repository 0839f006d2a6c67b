"""OCOP stamp service: registry, signed QR stamps, printing and public verification."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from traceability import cli, config, db, errors, logs, web
from traceability.config import PROJECT_ROOT
from traceability.printing import jobs
from traceability.routes import blueprints


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: configuration, database, errors, web layer, blueprints."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.load(app.instance_path, test_config))
    logs.init_app(app)  # first, so every later hook and record has the request id

    db.init_app(app)
    jobs.init_app(app)
    errors.init_app(app)
    web.init_app(app)
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    cli.init_app(app)
    return app
