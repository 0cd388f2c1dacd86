"""Commands on the ``flask`` CLI: seed the admin, run a worker, run the clock, run everything."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from cognova import boot


@click.command("seed-admin")
@click.option("--email", help="Admin email (default: ADMIN_EMAIL).")
@click.option("--name", help="Display name (default: ADMIN_NAME).")
@click.option("--password", help="Password (default: ADMIN_PASSWORD, else a generated one).")
@click.option("--reset-password", is_flag=True, help="Give an existing admin a new password.")
@with_appcontext
def seed_admin_command(email, name, password, reset_password):
    """Create the admin account (idempotent)."""
    from cognova.services import admin

    config = current_app.config
    password = password or config["ADMIN_PASSWORD"]
    if password is not None and not 8 <= len(password) <= 128:
        raise click.BadParameter("must be 8 to 128 characters", param_hint="--password")
    result = admin.seed_admin(
        email or config["ADMIN_EMAIL"],
        name or config["ADMIN_NAME"],
        password,
        reset_password=reset_password,
    )
    if result.created:
        click.echo(f"Created admin {result.user.email}.")
    elif result.password_reset:
        click.echo(f"Reset the password of {result.user.email}.")
    else:
        click.echo(f"Admin {result.user.email} already exists; nothing changed.")
    if result.generated_password:
        click.echo(admin.credentials_banner(result))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--queue", "queues", multiple=True, help="Queue names (default: all).")
def worker_command(burst, queues):
    """Run an RQ worker that executes jobs inside the app context."""
    from cognova import worker
    from cognova.extensions import QUEUE_NAMES

    app = current_app._get_current_object()
    boot.prepare(app)
    worker.run(app, burst=burst, names=tuple(queues) or QUEUE_NAMES)


@click.command("clock")
def clock_command():
    """Run the scheduler loop (only one clock acts at a time)."""
    from cognova.clock import Clock, load_duties

    app = current_app._get_current_object()
    boot.prepare(app)
    load_duties()
    Clock(app).run_forever()


@click.command("up")
@click.option("--workers", default=1, show_default=True, help="RQ worker processes.")
def up_command(workers):
    """Start web, worker and clock together (embedded PostgreSQL/Redis when no URLs are set)."""
    from cognova import runner

    sys.exit(runner.run_all(current_app._get_current_object(), workers=workers))


def init_app(app: Flask) -> None:
    for command in (seed_admin_command, worker_command, clock_command, up_command):
        app.cli.add_command(command)
