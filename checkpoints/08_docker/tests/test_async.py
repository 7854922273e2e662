"""The same app, called from an async test: httpx talks to it in-process, and awaits each answer."""

import httpx
import pytest


@pytest.mark.anyio
async def test_a_user_sees_their_task_through_an_async_client(test_app):
    transport = httpx.ASGITransport(app=test_app)  # no lifespan: the engine fixture made the tables
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.post("/api/v1/users", json={"email": "ada@example.com", "password": "a long enough password"})
        form = {"username": "ada@example.com", "password": "a long enough password"}
        r = await client.post("/api/v1/auth/token", data=form)
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        created = await client.post("/api/v1/tasks", json={"title": "Await it"}, headers=headers)
        listed = await client.get("/api/v1/tasks", headers=headers)
    assert created.status_code == 201, created.text
    assert listed.json() == [created.json()]
