"""The vault file-system API (API.md §8)."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

OUTSIDE = "Path outside vault directory"


@pytest.fixture
def vault(app):
    return app.config["VAULT_PATH"]


def write(api, path, content="hello", **extra):
    return api.post("/api/fs/write", json={"path": path, "content": content, **extra})


def docs(api, **query):
    return api.get("/api/documents", query_string={"includeDeleted": "true", **query}).json["data"]


# ------------------------------------------------------------------ access and traversal


def test_requires_authentication(client):
    assert client.get("/api/fs/list").status_code == 401
    assert client.post("/api/fs/read", json={"path": "a"}).status_code == 401


TRAVERSALS = [
    "../x.md",
    "/../x.md",
    "a/../../x.md",
    "%2e%2e/x.md",
    "%2e%2e%2fx.md",
    "..%5c..%5cx.md",
    "..\\x.md",
    "x\x00.md",
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("POST", "/api/fs/read", lambda p: {"path": p}),
        ("POST", "/api/fs/write", lambda p: {"path": p, "content": "x"}),
        ("POST", "/api/fs/mkdir", lambda p: {"path": p}),
        ("POST", "/api/fs/delete", lambda p: {"path": p}),
        ("POST", "/api/fs/rename", lambda p: {"oldPath": "a.md", "newPath": p}),
        ("POST", "/api/fs/rename", lambda p: {"oldPath": p, "newPath": "b.md"}),
        ("POST", "/api/fs/move", lambda p: {"sourcePath": p, "destinationPath": "/"}),
        ("POST", "/api/documents/by-path", lambda p: {"path": p}),
    ],
)
def test_traversal_is_forbidden_everywhere(api, vault, method, route, body, path):
    (vault / "a.md").write_text("a")
    response = api.open(route, method=method, json=body(path))
    assert response.status_code == 403, response.json
    assert response.json["message"] == OUTSIDE


@pytest.mark.parametrize("path", TRAVERSALS)
def test_list_traversal_is_forbidden(api, path):
    response = api.get("/api/fs/list", query_string={"path": path})
    assert response.status_code == 403
    assert response.json["message"] == OUTSIDE


def test_symlink_out_is_forbidden_and_not_listed(api, vault, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, vault / "escape")
    os.symlink(outside / "secret.txt", vault / "secret.txt")
    for path in ("escape/secret.txt", "secret.txt"):
        response = api.post("/api/fs/read", json={"path": path})
        assert response.status_code == 403
    assert write(api, "escape/new.md").status_code == 403
    assert not (outside / "new.md").exists()
    names = [e["name"] for e in api.get("/api/fs/list").json["data"]]
    assert "escape" not in names and "secret.txt" not in names
    # 403 comes before existence
    assert api.post("/api/fs/read", json={"path": "escape/missing"}).status_code == 403


def test_absolute_path_stays_inside(api, vault):
    response = api.post("/api/fs/read", json={"path": "/etc/passwd"})
    assert response.status_code == 404
    write(api, "/etc/passwd", "mine")
    assert (vault / "etc" / "passwd").read_text() == "mine"


def test_overlong_path_is_400(api):
    response = api.post("/api/fs/read", json={"path": "a" * 4097})
    assert response.status_code == 400
    assert "path" in response.json["errors"]


def test_vault_missing_is_503(api, app, tmp_path):
    saved = app.config["VAULT_PATH"]
    app.config["VAULT_PATH"] = tmp_path / "gone"
    try:
        assert api.get("/api/fs/list").status_code == 503
        assert write(api, "a.md").status_code == 503
    finally:
        app.config["VAULT_PATH"] = saved


def test_vault_that_is_not_a_directory_is_503(api, app, tmp_path):
    saved = app.config["VAULT_PATH"]
    not_a_folder = tmp_path / "vault-file"
    not_a_folder.write_text("")
    app.config["VAULT_PATH"] = not_a_folder
    try:
        assert api.get("/api/fs/list").status_code == 503
        assert api.post("/api/documents/by-path", json={"path": "a.md"}).status_code == 503
    finally:
        app.config["VAULT_PATH"] = saved


# ------------------------------------------------------------------ list


def test_list_sorts_directories_first_case_insensitively(api, vault):
    (vault / "b.md").write_text("b")
    (vault / "A.md").write_text("a")
    (vault / "zeta").mkdir()
    (vault / "Alpha").mkdir()
    (vault / "Alpha" / "inner.txt").write_text("x")
    (vault / ".hidden").mkdir()
    (vault / ".secret.md").write_text("s")
    data = api.get("/api/fs/list").json["data"]
    assert [e["name"] for e in data] == ["Alpha", "zeta", "A.md", "b.md"]
    assert data[0] == {
        "name": "Alpha",
        "path": "Alpha",
        "type": "directory",
        "size": None,
        "modifiedAt": data[0]["modifiedAt"],
    }
    assert data[2]["size"] == 1 and data[2]["type"] == "file"
    assert data[2]["modifiedAt"].endswith("Z")


def test_list_recursive_and_subdirectory(api, vault):
    (vault / "a" / "b").mkdir(parents=True)
    (vault / "a" / "b" / "c.md").write_text("c")
    tree = api.get("/api/fs/list?recursive=true").json["data"]
    assert tree[0]["children"][0]["children"][0]["path"] == "a/b/c.md"
    flat = api.get("/api/fs/list", query_string={"path": "/a"}).json["data"]
    assert flat == [
        {
            "name": "b",
            "path": "a/b",
            "type": "directory",
            "size": None,
            "modifiedAt": flat[0]["modifiedAt"],
        }
    ]


def test_list_errors(api, vault):
    (vault / "f.md").write_text("f")
    assert api.get("/api/fs/list?path=f.md").status_code == 400
    assert api.get("/api/fs/list?path=missing").status_code == 404
    assert api.get("/api/fs/list?recursive=maybe").status_code == 400


# ------------------------------------------------------------------ read


def test_read_utf8_and_binary(api, vault):
    (vault / "note.md").write_text("héllo")
    data = api.post("/api/fs/read", json={"path": "note.md"}).json["data"]
    assert data["content"] == "héllo" and data["encoding"] == "utf-8"
    assert data["size"] == len("héllo".encode())
    assert data["contentHash"] == hashlib.sha256("héllo".encode()).hexdigest()
    (vault / "bin.dat").write_bytes(b"\xff\x00\x01")
    data = api.post("/api/fs/read", json={"path": "bin.dat"}).json["data"]
    assert data["encoding"] == "base64"
    assert base64.b64decode(data["content"]) == b"\xff\x00\x01"


def test_read_errors(api, vault):
    (vault / "dir").mkdir()
    assert api.post("/api/fs/read", json={"path": "dir"}).status_code == 400
    assert api.post("/api/fs/read", json={"path": "nope.md"}).status_code == 404
    assert api.post("/api/fs/read", json={}).status_code == 400
    assert api.post("/api/fs/read", json={"path": 3}).status_code == 400


def test_read_refuses_files_over_20_mib(api, vault):
    with open(vault / "big.bin", "wb") as fh:
        fh.truncate(20 * 1024 * 1024 + 1)
    assert api.post("/api/fs/read", json={"path": "big.bin"}).status_code == 400


# ------------------------------------------------------------------ write


def test_write_creates_parents_and_a_document(api, vault):
    response = write(api, "/deep/er/Ünïcode name.md", "# Title\n\nbody")
    assert response.status_code == 200
    data = response.json["data"]
    assert data["path"] == "deep/er/Ünïcode name.md"
    assert data["created"] is True
    assert data["size"] == len(b"# Title\n\nbody")
    assert (vault / "deep" / "er" / "Ünïcode name.md").read_text() == "# Title\n\nbody"
    [doc] = docs(api)
    assert doc["path"] == "deep/er/Ünïcode name.md" and doc["title"] == "Title"
    again = write(api, "deep/er/Ünïcode name.md", "# New").json["data"]
    assert again["created"] is False
    [doc] = docs(api)
    assert doc["title"] == "New"


def test_write_base64(api, vault):
    payload = base64.b64encode(b"\x89PNG\x00\x01").decode()
    response = write(api, "img.png", payload, encoding="base64")
    assert response.status_code == 200
    assert (vault / "img.png").read_bytes() == b"\x89PNG\x00\x01"
    [doc] = docs(api)
    assert doc["kind"] == "binary" and doc["mimeType"] == "image/png"
    assert write(api, "x.bin", "not base64!!", encoding="base64").status_code == 400
    assert write(api, "x.bin", "abc", encoding="latin-1").status_code == 400


def test_write_errors(api, vault):
    (vault / "dir").mkdir()
    (vault / "file.md").write_text("f")
    assert write(api, "dir").status_code == 400
    assert write(api, "/").status_code == 400
    assert write(api, "file.md/child.md").status_code == 400
    assert api.post("/api/fs/write", json={"path": "a.md"}).status_code == 400


def test_write_over_the_file_limit_is_413(api, app):
    app.config["MAX_FILE_BYTES"] = 1000
    try:
        response = write(api, "big.md", "x" * 1001)
        assert response.status_code == 413
    finally:
        app.config["MAX_FILE_BYTES"] = 10 * 1024 * 1024


def test_write_hidden_file_is_not_a_document(api, vault):
    assert write(api, ".config/settings.json", "{}").status_code == 200
    assert (vault / ".config" / "settings.json").exists()
    assert docs(api) == []


def test_write_is_atomic_no_temp_files_left(api, vault):
    write(api, "a.md", "one")
    write(api, "a.md", "two")
    assert sorted(os.listdir(vault)) == ["a.md"]


# ------------------------------------------------------------------ mkdir


def test_mkdir(api, vault):
    response = api.post("/api/fs/mkdir", json={"path": "x/y/z"})
    assert response.json["data"] == {"path": "x/y/z", "created": True}
    assert (vault / "x" / "y" / "z").is_dir()
    assert api.post("/api/fs/mkdir", json={"path": "x/y"}).status_code == 409
    (vault / "f").write_text("")
    assert api.post("/api/fs/mkdir", json={"path": "f"}).status_code == 409
    assert api.post("/api/fs/mkdir", json={"path": "f/g"}).status_code == 400
    assert api.post("/api/fs/mkdir", json={"path": "/"}).status_code == 400


# ------------------------------------------------------------------ rename / move


def test_rename_file_keeps_the_document(api, vault):
    write(api, "old name.md", "---\ntags: [keep]\n---\nbody")
    [before] = docs(api)
    response = api.post("/api/fs/rename", json={"oldPath": "old name.md", "newPath": "new name.md"})
    assert response.json["data"] == {"oldPath": "old name.md", "newPath": "new name.md"}
    [after] = docs(api)
    assert after["id"] == before["id"]
    assert after["path"] == "new name.md" and after["title"] == "new name"
    assert after["tags"] == ["keep"]


def test_rename_changes_kind_with_the_extension(api, vault):
    write(api, "plain.txt", "# Heading")
    api.post("/api/fs/rename", json={"oldPath": "plain.txt", "newPath": "plain.md"})
    [doc] = docs(api)
    assert doc["fileType"] == "md" and doc["kind"] == "markdown" and doc["title"] == "Heading"


def test_rename_directory_rewrites_prefixes(api, vault):
    write(api, "dir/a.md", "a")
    write(api, "dir/sub/b.md", "b")
    write(api, "dirx/c.md", "c")
    api.post("/api/fs/rename", json={"oldPath": "dir", "newPath": "renamed"})
    assert sorted(d["path"] for d in docs(api)) == ["dirx/c.md", "renamed/a.md", "renamed/sub/b.md"]


def test_rename_errors(api, vault):
    write(api, "a.md")
    write(api, "b.md")
    (vault / "d").mkdir()
    post = lambda o, n: api.post("/api/fs/rename", json={"oldPath": o, "newPath": n})  # noqa: E731
    assert post("missing.md", "x.md").status_code == 404
    assert post("a.md", "b.md").status_code == 409
    assert post("a.md", "nope/x.md").status_code == 400
    assert post("/", "x").status_code == 400
    assert post("a.md", "/").status_code == 400
    assert post("d", "d/inner").status_code == 400
    assert api.post("/api/fs/rename", json={"oldPath": "a.md"}).status_code == 400


def test_move_into_directory_and_back_to_root(api, vault):
    write(api, "note.md", "# Note")
    (vault / "folder").mkdir()
    response = api.post("/api/fs/move", json={"sourcePath": "note.md", "destinationPath": "folder"})
    assert response.json["data"] == {
        "oldPath": "note.md",
        "newPath": "folder/note.md",
        "moved": True,
    }
    assert (vault / "folder" / "note.md").exists()
    assert docs(api)[0]["path"] == "folder/note.md"
    response = api.post(
        "/api/fs/move", json={"sourcePath": "folder/note.md", "destinationPath": "/"}
    )
    assert response.json["data"]["newPath"] == "note.md"


def test_move_errors(api, vault):
    write(api, "a.md")
    write(api, "d/a.md")
    (vault / "e").mkdir()
    post = lambda s, d: api.post("/api/fs/move", json={"sourcePath": s, "destinationPath": d})  # noqa: E731
    assert post("missing.md", "d").status_code == 404
    assert post("a.md", "missing").status_code == 404
    assert post("a.md", "d/a.md").status_code == 400
    assert post("a.md", "d").status_code == 409
    assert post("d", "d").status_code == 400
    assert post("d", "d/../d").status_code == 400
    assert post("/", "e").status_code == 400
    (vault / "d" / "sub").mkdir()
    assert post("d", "d/sub").status_code == 400


def test_move_into_hidden_folder_deletes_the_row(api, vault):
    write(api, "a.md")
    (vault / ".archive").mkdir()
    api.post("/api/fs/move", json={"sourcePath": "a.md", "destinationPath": ".archive"})
    [doc] = docs(api)
    assert doc["deletedAt"] is not None


def test_move_over_a_deleted_row_keeps_both(api, vault):
    write(api, "d/a.md", "old")
    api.post("/api/fs/delete", json={"path": "d/a.md"})
    write(api, "a.md", "new")
    response = api.post("/api/fs/move", json={"sourcePath": "a.md", "destinationPath": "d"})
    assert response.status_code == 200
    rows = docs(api)
    live = [d for d in rows if d["deletedAt"] is None]
    assert [d["path"] for d in live] == ["d/a.md"]
    assert len(rows) == 2


# ------------------------------------------------------------------ delete


def test_delete_file_and_directory(api, vault):
    write(api, "a.md")
    write(api, "dir/b.md")
    write(api, "dir/sub/c.md")
    assert api.post("/api/fs/delete", json={"path": "a.md"}).json["data"] == {
        "path": "a.md",
        "deleted": True,
    }
    assert api.post("/api/fs/delete", json={"path": "dir"}).status_code == 200
    assert not (vault / "dir").exists()
    rows = docs(api)
    assert len(rows) == 3 and all(d["deletedAt"] for d in rows)
    assert api.post("/api/fs/delete", json={"path": "a.md"}).status_code == 404
    assert api.post("/api/fs/delete", json={"path": "/"}).status_code == 400
    assert api.post("/api/fs/delete", json={"path": ""}).status_code == 400
