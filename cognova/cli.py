"""Commands on the ``flask`` CLI: seed the admin, run a worker, run the clock, run everything."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from cognova import boot
from cognova.usage_report import usage_report_command
from cognova.vault_import import import_vault_command


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
    if config["AUTO_MIGRATE"]:
        boot.migrate_database()  # so it also works as the first command on a fresh database
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


def _freeze_startup_objects() -> None:
    """Hide the start-up heap from the garbage collector in long-running processes.

    Imports leave ~150k long-lived objects; frozen, they are skipped by every later collection,
    including the one at interpreter exit, which otherwise makes stopping take seconds.
    """
    import gc

    gc.collect()
    gc.freeze()


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--queue", "queues", multiple=True, help="Queue names (default: all).")
def worker_command(burst, queues):
    """Run an RQ worker that executes jobs inside the app context."""
    from cognova import worker
    from cognova.extensions import QUEUE_NAMES

    app = current_app._get_current_object()
    boot.prepare(app)
    _freeze_startup_objects()
    worker.run(app, burst=burst, names=tuple(queues) or QUEUE_NAMES)


@click.command("clock")
def clock_command():
    """Run the scheduler loop (only one clock acts at a time)."""
    from cognova.clock import Clock, load_duties

    app = current_app._get_current_object()
    boot.prepare(app)
    load_duties()
    _freeze_startup_objects()
    Clock(app).run_forever()


@click.command("up")
@click.option("--workers", default=1, show_default=True, help="RQ worker processes.")
def up_command(workers):
    """Start web, worker and clock together (embedded PostgreSQL/Redis when no URLs are set)."""
    from cognova import runner

    sys.exit(runner.run_all(current_app._get_current_object(), workers=workers))


@click.command("rotate-secret-key")
@click.option("--new-secret", required=True, help="The BETTER_AUTH_SECRET to re-encrypt under.")
@click.option("--old-secret", help="The secret the rows are encrypted with (default: current).")
@with_appcontext
def rotate_secret_key_command(new_secret, old_secret):
    """Re-encrypt every stored secret under a new BETTER_AUTH_SECRET (one transaction)."""
    from cognova.extensions import db
    from cognova.services import secrets
    from cognova.services.errors import ServiceError

    old_secret = old_secret or current_app.config["BETTER_AUTH_SECRET"]
    if len(new_secret) < 16:
        raise click.BadParameter("must be at least 16 characters", param_hint="--new-secret")
    try:
        count = secrets.rotate(old_secret, new_secret)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.message}; nothing was changed") from None
    click.echo(f"Re-encrypted {count} secret(s) under the new key.")
    click.echo(
        "Now set BETTER_AUTH_SECRET to the new value (or write it to the instance file "
        "'auth-secret') and restart every Cognova process. Sessions signed with the old "
        "secret will have to sign in again."
    )


@click.command("install-claude-hooks")
@click.option(
    "--claude-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("~/.claude"),
    show_default=True,
    help="Claude Code's settings folder.",
)
@click.option("--url", help="This instance's URL as Claude Code reaches it (default: base URL).")
@click.option("--token", help="API token the hooks send (default: this instance's token).")
@click.option(
    "--mode",
    type=click.Choice(["command", "http"]),
    default="command",
    show_default=True,
    help="command: a Python hook script; http: Claude Code posts straight to /api/hooks/claude.",
)
@click.option("--python", "python", default="python3", show_default=True, help="Interpreter.")
@click.option("--uninstall", is_flag=True, help="Remove Cognova's hooks, script and config.")
@with_appcontext
def install_claude_hooks_command(claude_dir, url, token, mode, python, uninstall):
    """Connect Claude Code to Cognova: memory context, extraction and hook analytics."""
    from cognova.services import claude_hooks

    try:
        if uninstall:
            report = claude_hooks.uninstall(claude_dir)
        else:
            report = claude_hooks.install(
                claude_dir,
                url or current_app.config["BASE_URL"],
                token or current_app.config["API_TOKEN"],
                mode=mode,
                python=python,
            )
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if report.backup:
        click.echo(f"Backed up {report.settings_path} to {report.backup}.")
    verb = "Removed Cognova hooks from" if uninstall else f"Installed Cognova hooks ({mode}) in"
    state = "" if report.changed else " (already up to date)"
    click.echo(f"{verb} {report.settings_path}{state}.")
    if report.script:
        click.echo(f"Hook script: {report.script}; settings: {report.config}.")


def init_app(app: Flask) -> None:
    for command in (seed_admin_command, worker_command, clock_command, up_command):
        app.cli.add_command(command)
    app.cli.add_command(rotate_secret_key_command)
    app.cli.add_command(usage_report_command)
    app.cli.add_command(import_vault_command)
    app.cli.add_command(install_claude_hooks_command)
