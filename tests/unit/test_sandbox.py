"""The vault sandbox: every way out of the root is refused with 403, before existence."""

from __future__ import annotations

import os

import pytest

from cognova.services import vault
from cognova.services.errors import Forbidden, Invalid, Unavailable

ESCAPES = [
    "..",
    "../",
    "../etc/passwd",
    "/../etc/passwd",
    "notes/../../etc/passwd",
    "a/b/../../../x",
    "%2e%2e/etc/passwd",
    "%2E%2E%2Fetc%2Fpasswd",
    "%252e%252e/secret",
    "..%2fsecret",
    "notes/%2e%2e/%2e%2e/x",
    "..\\..\\windows",
    "with\x00nul.md",
    "%00.md",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_escapes_are_forbidden(ctx, path):
    with pytest.raises(Forbidden) as caught:
        vault.sandbox(path)
    assert caught.value.message == "Path outside vault directory"


def test_symlink_out_of_the_vault_is_forbidden(ctx, app, tmp_path):
    root = app.config["VAULT_PATH"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("secret")
    os.symlink(outside, root / "escape")
    os.symlink(outside / "secret.md", root / "link.md")
    for path in ("escape", "escape/secret.md", "escape/new.md", "link.md", "escape/../x"):
        if path == "escape/../x":
            # lexically this is "x", inside the vault
            assert vault.sandbox(path).rel == "x"
            continue
        with pytest.raises(Forbidden):
            vault.sandbox(path)


def test_symlink_inside_the_vault_is_allowed(ctx, app):
    root = app.config["VAULT_PATH"]
    (root / "real").mkdir()
    (root / "real" / "a.md").write_text("# A")
    os.symlink(root / "real", root / "alias")
    assert vault.sandbox("alias/a.md").rel == "alias/a.md"


@pytest.mark.parametrize(
    ("given", "rel"),
    [
        ("", ""),
        ("/", ""),
        ("///notes//a.md", "notes/a.md"),
        ("notes/./a.md", "notes/a.md"),
        ("notes/sub/../a.md", "notes/a.md"),
        ("/etc/passwd", "etc/passwd"),  # leading slashes are stripped: still inside
        ("100%25 done.md", "100%25 done.md"),
        ("名前 with spaces.md", "名前 with spaces.md"),
        ("..hidden-ish.md", "..hidden-ish.md"),
    ],
)
def test_normalised_paths(ctx, given, rel):
    assert vault.sandbox(given).rel == rel


def test_overlong_path_is_invalid(ctx):
    with pytest.raises(Invalid):
        vault.sandbox("a" * 4097)


def test_missing_vault_is_unavailable(ctx, app, tmp_path):
    saved = app.config["VAULT_PATH"]
    app.config["VAULT_PATH"] = tmp_path / "nope"
    try:
        with pytest.raises(Unavailable):
            vault.sandbox("a.md")
    finally:
        app.config["VAULT_PATH"] = saved


def test_walk_skips_hidden_and_outward_symlinks(ctx, app, tmp_path):
    root = app.config["VAULT_PATH"]
    (root / "a.md").write_text("a")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "b.md").write_text("b")
    (root / "dir").mkdir()
    (root / "dir" / ".c.md").write_text("c")
    (root / "dir" / "d.txt").write_text("d")
    outside = tmp_path / "o"
    outside.mkdir()
    (outside / "e.md").write_text("e")
    os.symlink(outside, root / "out")
    os.symlink(outside / "e.md", root / "e.md")
    os.symlink(root / "a.md", root / "alias.md")
    found = sorted(f.rel for f in vault.walk_files())
    assert found == ["a.md", "alias.md", "dir/d.txt"]
