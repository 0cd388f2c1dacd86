"""Flask's JSON provider on orjson.

Every JSON response goes through here (``jsonify``, the envelopes of ``api.spec``), so its cost
is paid on every request: orjson writes a 50-task page in a few microseconds where the standard
library takes about half a millisecond. What it writes is what Flask's default provider writes:
dates and datetimes (passed through to Flask's ``_default``) become HTTP dates, UUIDs and
Decimals strings, dataclasses objects; non-ASCII text is written as UTF-8 rather than escaped.
Anything orjson refuses (an integer beyond 64 bits, say) falls back to the standard library, so
an object that serialised before still does.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class OrjsonProvider(DefaultJSONProvider):
    sort_keys = False

    def _encode(self, obj: Any, option: int) -> bytes | None:
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS | option)
        except orjson.JSONEncodeError:
            return None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not kwargs:
            encoded = self._encode(obj, 0)
            if encoded is not None:
                return encoded.decode()
        return super().dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        pretty = self.compact is False or (self.compact is None and self._app.debug)
        option = orjson.OPT_APPEND_NEWLINE | (orjson.OPT_INDENT_2 if pretty else 0)
        body = self._encode(obj, option)
        if body is None:
            return super().response(obj)
        return self._app.response_class(body, mimetype=self.mimetype)
