"""The orjson provider writes what Flask's default provider writes."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from cognova.json_provider import OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Markup:
    def __html__(self) -> str:
        return "<b>bold</b>"


def _apps() -> tuple[Flask, Flask]:
    fast, plain = Flask("fast"), Flask("plain")
    fast.json = OrjsonProvider(fast)
    plain.json = DefaultJSONProvider(plain)
    plain.json.sort_keys = False
    return fast, plain


VALUE = {
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "when": datetime(2026, 11, 26, 10, 30, 5, 123456, tzinfo=UTC),
    "day": date(2026, 11, 26),
    "price": Decimal("1.25"),
    "point": Point(1, 2),
    "markup": Markup(),
    "text": "café ünïcode ✓",
    "nested": [{"a": None, "b": True, "c": 1.5}],
    7: "an int key",
}


def test_same_document_as_flask_default():
    fast, plain = _apps()
    with fast.app_context():
        ours = json.loads(fast.json.dumps(VALUE))
    with plain.app_context():
        theirs = json.loads(plain.json.dumps(VALUE))
    assert ours == theirs
    assert ours["when"] == "Thu, 26 Nov 2026 10:30:05 GMT"
    assert ours["id"] == "12345678-1234-5678-1234-567812345678"
    assert ours["7"] == "an int key"


def test_response_is_utf8_json_with_a_newline_and_keeps_key_order():
    fast, _ = _apps()
    with fast.app_context():
        response = fast.json.response({"z": 1, "a": "é"})
    assert response.mimetype == "application/json"
    assert response.get_data() == '{"z":1,"a":"é"}\n'.encode()


def test_what_orjson_refuses_falls_back_to_the_standard_library():
    fast, _ = _apps()
    huge = 2**80
    with fast.app_context():
        assert json.loads(fast.json.dumps({"n": huge})) == {"n": huge}
        assert json.loads(fast.json.response({"n": huge}).get_data()) == {"n": huge}
        assert json.loads(fast.json.dumps({"n": 1}, indent=2)) == {"n": 1}


def test_unserialisable_objects_still_raise_type_error():
    fast, _ = _apps()
    with fast.app_context(), pytest.raises(TypeError):
        fast.json.dumps({"x": object()})


def test_debug_responses_are_indented():
    fast, _ = _apps()
    fast.debug = True
    with fast.app_context():
        body = fast.json.response({"a": 1}).get_data(as_text=True)
    assert body == '{\n  "a": 1\n}\n'


def test_the_app_uses_it(app):
    assert isinstance(app.json, OrjsonProvider)
