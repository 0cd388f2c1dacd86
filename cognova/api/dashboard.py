"""The dashboard (API.md §19)."""

from __future__ import annotations

from cognova.api.spec import ApiBlueprint, ok
from cognova.schemas.dashboard import DashboardOut, DashboardQuery
from cognova.services import dashboard

bp = ApiBlueprint("dashboard", __name__, tag="Dashboard")


@bp.endpoint(
    "GET", "/dashboard", summary="Today at a glance", query=DashboardQuery, response=DashboardOut
)
def get_dashboard(query: DashboardQuery):
    data = dashboard.summary(query.tz_offset)
    return ok(data.model_dump(mode="json", by_alias=True))
