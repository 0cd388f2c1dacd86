"""``flask import-vault PATH``: bring a folder of notes into the vault.

Copy mode (default) copies every non-hidden file of PATH into the vault (atomically, keeping
the folder layout), then syncs the index. ``--in-place`` syncs PATH itself as the vault (it must
be the configured vault folder). Both are idempotent: a second run reports everything
unchanged. The exit status is 1 when any file failed, so scripts can tell.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from cognova.extensions import db
from cognova.services import sync, vault
from cognova.services.errors import ServiceError
from cognova.services.files import atomic_write


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped {self.skipped}, errors {self.errors}"
        )


def source_files(source: Path) -> list[tuple[str, Path]]:
    """Non-hidden regular files under *source* (symlinks are not followed)."""
    found = []
    for directory, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(directory) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append((path.relative_to(source).as_posix(), path))
    return found


def copy_into_vault(source: Path, into: str, dry_run: bool, progress) -> ImportSummary:
    summary = ImportSummary()
    limit = current_app.config["MAX_FILE_BYTES"]
    for rel, path in source_files(source):
        target_rel = f"{into.strip('/')}/{rel}" if into.strip("/") else rel
        try:
            if path.stat().st_size > limit:
                summary.skipped += 1
                continue
            data = path.read_bytes()
            target = vault.sandbox(target_rel)
            if target.abs.is_file():
                if target.abs.read_bytes() == data:
                    summary.unchanged += 1
                    continue
                summary.updated += 1
            elif target.abs.exists():
                raise ServiceError(f"{target_rel} is a directory in the vault")
            else:
                summary.created += 1
            if not dry_run:
                atomic_write(target.abs, data)
        except (OSError, ServiceError) as exc:
            summary.errors += 1
            summary.failed.append(f"{rel}: {getattr(exc, 'message', exc)}")
        finally:
            progress(1)
    return summary


@click.command("import-vault")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--in-place", is_flag=True, help="SOURCE is the vault folder: only sync it.")
@click.option("--into", default="", help="Vault folder to copy into (default: the root).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@with_appcontext
def import_vault_command(source: Path, in_place: bool, into: str, dry_run: bool):
    """Import a folder of markdown notes into the vault and index it."""
    root = vault.root()
    source = source.resolve()
    if in_place:
        if source != root:
            raise click.UsageError(f"--in-place needs the vault folder itself ({root})")
        files = list(vault.walk_files())
        with click.progressbar(length=len(files), label="Syncing", file=sys.stderr) as bar:
            report = sync.full_sync(progress=bar.update, dry_run=dry_run)
        summary = ImportSummary(
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            skipped=report.skipped,
            errors=report.errors,
            failed=list(report.error_paths),
        )
    else:
        if source == root or root in source.parents or source in root.parents:
            raise click.UsageError("SOURCE overlaps the vault; use --in-place to sync the vault")
        count = len(source_files(source))
        with click.progressbar(length=count, label="Importing", file=sys.stderr) as bar:
            summary = copy_into_vault(source, into, dry_run, bar.update)
        if not dry_run:
            report = sync.full_sync()
            summary.errors += report.errors
            summary.failed.extend(report.error_paths)
    db.session.remove()
    for failure in summary.failed:
        click.echo(f"error: {failure}", err=True)
    prefix = "Dry run: " if dry_run else ""
    click.echo(f"{prefix}{summary.line()}")
    if summary.errors:
        sys.exit(1)
