def test_health_reports_every_dependency(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    data = response.json["data"]
    assert data["status"] == "ok"
    assert data["database"] is True and data["redis"] is True and data["vault"] is True
    assert data["version"] == "0.1.0"
    assert data["time"].endswith("Z")


def test_health_is_public_even_with_a_wrong_token(client):
    response = client.get("/api/health", headers={"X-API-Token": "wrong"})
    assert response.status_code == 200
