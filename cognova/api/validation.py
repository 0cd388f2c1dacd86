"""Request parsing and the field types of API.md §1.4–1.5, declared once with pydantic.

Body models are strict (no coercion: ``"2"`` is not a number, ``true`` is not an integer);
query models accept the string forms of §1.5. Errors come back keyed by the camelCase field
name, nested paths joined with dots, in the envelope's ``errors`` object.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, TypeVar

from flask import current_app, request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from cognova.api.errors import ApiError

M = TypeVar("M", bound=BaseModel)


class ApiModel(BaseModel):
    """Base of request and response models: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        extra="ignore",
    )

    def given(self) -> dict[str, Any]:
        """The fields the client actually sent (partial updates), by Python name."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class Body(ApiModel):
    model_config = ConfigDict(strict=True)


class Query(ApiModel):
    """Query models: list-typed fields are filled from repeated parameters."""


# ---------------------------------------------------------------- output types


def iso_ms(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset():  # the driver's UTC zone object is not ``UTC`` itself: compare offsets
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" written as "Z"


Timestamp = Annotated[
    datetime,
    PlainSerializer(iso_ms, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
UuidStr = Annotated[
    uuid.UUID,
    PlainSerializer(lambda v: str(v), return_type=str),
    WithJsonSchema({"type": "string", "format": "uuid"}, mode="serialization"),
]


# ----------------------------------------------------------------- input types

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def parse_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise PydanticCustomError("uuid", "must be a UUID")
    return uuid.UUID(value)


def is_uuid(value: str) -> bool:
    return bool(UUID_RE.match(value))


def parse_datetime(value: Any) -> datetime:
    """ISO-8601; no offset means UTC; a bare date means midnight UTC (API.md §1.4)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("datetime", "must be an ISO-8601 date-time")
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        if not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
            raise ValueError(text)
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise PydanticCustomError("datetime", "must be an ISO-8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def normalise_tags(value: Any, *, lenient: bool = False) -> list[str]:
    """The tag rules of §1.4. ``lenient`` drops invalid items instead of rejecting (frontmatter)."""
    if not isinstance(value, list):
        raise PydanticCustomError("tags", "must be an array of strings")
    seen: dict[str, None] = {}
    for index, item in enumerate(value):
        if lenient:
            item = str(item).strip() if item is not None else ""
            if not item or len(item) > 50:
                continue
        else:
            if not isinstance(item, str):
                raise PydanticCustomError("tags", f"{index}:must be a string")
            item = item.strip()
            if not item:
                raise PydanticCustomError("tags", f"{index}:must not be empty")
            if len(item) > 50:
                raise PydanticCustomError("tags", f"{index}:must be at most 50 characters")
        seen.setdefault(item, None)
    tags = list(seen)
    if len(tags) > 50:
        if lenient:
            return tags[:50]
        raise PydanticCustomError("tags", "must contain at most 50 tags")
    return tags


def Text(min_length: int = 0, max_length: int | None = None, *, trim: bool = True):
    """A string field: trimmed (by default), then measured in code points."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=trim, min_length=min_length, max_length=max_length),
    ]


Uuid = Annotated[
    uuid.UUID,
    BeforeValidator(parse_uuid),
    WithJsonSchema({"type": "string", "format": "uuid"}, mode="validation"),
]
DateTimeIn = Annotated[
    datetime,
    BeforeValidator(parse_datetime),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="validation"),
]
Tags = Annotated[
    list[str],
    BeforeValidator(normalise_tags),
    WithJsonSchema(
        {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 50},
        mode="validation",
    ),
]


# ----------------------------------------------------------------- query types


def _query_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    raise PydanticCustomError("bool", "must be true, false, 1 or 0")


def _query_int(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value.strip())
    raise PydanticCustomError("int", "must be an integer")


def _query_number(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise PydanticCustomError("number", "must be a number") from None


QBool = Annotated[bool, BeforeValidator(_query_bool)]
QInt = Annotated[int, BeforeValidator(_query_int)]
QNumber = Annotated[float, BeforeValidator(_query_number)]
# the largest page: with the largest limit (500) its offset still fits PostgreSQL's integer
MAX_PAGE = 1_000_000
Page = Annotated[int, BeforeValidator(_query_int), Field(ge=1, le=MAX_PAGE)]


def limit_param(default: int, maximum: int):
    """``limit``: ≥ 1, clamped to the route's maximum (API.md §1.5)."""

    def clamp(value: int) -> int:
        return min(value, maximum)

    return Annotated[
        int,
        BeforeValidator(_query_int),
        Field(ge=1, default=default, json_schema_extra={"maximum": maximum}),
        AfterValidator(clamp),
    ]


def split_enum_list(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


# ----------------------------------------------------------------- error format

_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "int_parsing": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be a boolean",
    "bool_parsing": "must be a boolean",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "string_pattern_mismatch": "has an invalid format",
    "finite_number": "must be a finite number",
}


def _message(err: dict) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if err.get("input", ...) is None and kind != "missing":
        return "must not be null"
    if kind == "string_too_short":
        return (
            "must not be empty"
            if ctx.get("min_length") == 1
            else (f"must be at least {ctx.get('min_length')} characters")
        )
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind in ("too_long",):
        return f"must contain at most {ctx.get('max_length')} items"
    if kind == "literal_error":
        return "must be one of: " + str(ctx.get("expected", "")).replace("'", "")
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    msg = err.get("msg", "is invalid")
    return msg.removeprefix("Value error, ")


def format_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        # union members add their own tag to the location; keep the field path only
        loc = [p for p in loc if not p.startswith(("function-", "lax-", "strict-"))]
        loc = [p for p in loc if p not in ("str", "int", "float", "bool", "none", "list[str]")]
        message = _message(err)
        if err["type"] == "tags" and ":" in message and message.split(":", 1)[0].isdigit():
            index, message = message.split(":", 1)
            loc.append(index)
        errors.setdefault(".".join(loc) or "body", message)
    return errors


# ----------------------------------------------------------------- request parsing


def body_limit() -> int:
    """The body limit of the matched route: its ``max_body`` if declared, else the global one."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "_cognova_max_body", None) or current_app.config["MAX_BODY_BYTES"]


NUL_RULES = ("refuse", "replace", "keep")
NUL_REFUSED = "must not contain NUL characters"


def _nul_free(value: Any, replace: bool, where: str = "") -> Any:
    """*value* with no NUL character in any string (PostgreSQL text cannot hold one): each
    replaced by U+FFFD when *replace*, else a 400 naming the field (``tags.2``, say)."""
    if isinstance(value, str):
        if "\x00" not in value:
            return value
        if replace:
            return value.replace("\x00", "\ufffd")
        raise ApiError(400, "Validation failed", {where or "body": NUL_REFUSED})
    if isinstance(value, dict):
        return {
            _nul_free(k, replace, where): _nul_free(v, replace, f"{where}.{k}" if where else k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _nul_free(item, replace, f"{where}.{n}" if where else str(n))
            for n, item in enumerate(value)
        ]
    return value


def json_body(*, nul: str = "refuse") -> dict:
    """The request body as a JSON object (§1.1): empty means ``{}``.

    A string holding NUL (``\\u0000``) is refused with a 400 (``nul="refuse"``); replaced by
    U+FFFD with ``"replace"`` (bodies recording what a tool saw, such as hook events); left
    for the route to judge with ``"keep"`` (the vault's paths: the sandbox answers 403)."""
    limit = body_limit()
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "Request body too large")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise ApiError(413, "Request body too large")
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Malformed JSON body") from None
    if not isinstance(value, dict):
        raise ApiError(400, "Request body must be a JSON object")
    # only then can a string hold NUL (raw NUL bytes are invalid JSON)
    if nul != "keep" and b"\\u0000" in raw:
        value = _nul_free(value, nul == "replace")
    return value


def validate(model: type[M], data: dict) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(400, "Validation failed", format_errors(exc)) from None


def query_dict(model: type[BaseModel], *, nul: str = "refuse") -> dict:
    """Collect query parameters for *model*, repeated ones as lists where the field is a list.
    A value holding NUL is a 400 unless *nul* is ``"keep"`` (see ``json_body``)."""
    fields = _query_fields(model)
    args = request.args
    data: dict[str, Any] = {}
    for key in args:
        is_list = fields.get(key)
        if is_list is None:
            continue
        values = args.getlist(key)
        if nul != "keep" and any("\x00" in value for value in values):
            raise ApiError(400, "Validation failed", {key: NUL_REFUSED})
        data[key] = values if is_list else values[-1]
    return data


@functools.cache
def _query_fields(model: type[BaseModel]) -> dict[str, bool]:
    """A query model's parameter names (aliases where given), each with whether it is a list."""
    return {
        field.alias or name: _is_list(field.annotation)
        for name, field in model.model_fields.items()
    }


def _is_list(annotation: Any) -> bool:
    origin = getattr(annotation, "__origin__", None)
    if origin is list:
        return True
    for arg in getattr(annotation, "__args__", ()) or ():
        if getattr(arg, "__origin__", None) is list:
            return True
    return False


def require_fields(body: BaseModel) -> dict[str, Any]:
    """The partial-update rule: a body with no recognised field is rejected."""
    given = body.given()
    if not given:
        raise ApiError(400, "No updatable fields provided")
    return given
