"""docs/security.md, "Roles": every route's rule is in the OpenAPI document (`x-access`:
public, read, write, admin) and is enforced in one place. Walked here for EVERY route the
running server documents (tests/web/test_api_auth.py's matrix covers chosen routes with the
answers their handlers give): no credentials -> 401 on every route that is not public; a
viewer -> 403 on every write and admin route; a user and an api account -> 403 on every admin
route. Refused requests never reach a handler, so the walk changes nothing.
"""

from __future__ import annotations

import re

from tests.fixtures.web import ApiClient, LiveWeb

_METHODS = ("get", "post", "put", "delete", "patch")


def _status(client: ApiClient, method: str, url: str) -> int:
    if method == "get":
        return client.request("GET", url).status
    return client.request(method.upper(), url, json={}).status


def test_every_documented_route_refuses_the_roles_its_rule_excludes(web: LiveWeb) -> None:
    doc = web.api.get("/api/openapi.json").json
    anon = web.client()
    viewer = web.make_user("vera", role=2)
    user = web.make_user("ursula", role=1)
    api = web.make_user("apia", role=3)
    wrong: list[str] = []
    counted = {"public": 0, "read": 0, "write": 0, "admin": 0}
    for path, ops in doc["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method, op in ops.items():
            if method not in _METHODS:
                continue
            access = op["x-access"]
            counted[access] += 1
            expect: list[tuple[str, ApiClient, int]] = []
            if access != "public":
                expect.append(("anonymous", anon, 401))
            if access in ("write", "admin"):
                expect.append(("viewer", viewer, 403))
            if access == "admin":
                expect += [("user", user, 403), ("api", api, 403)]
            for who, client, status in expect:
                got = _status(client, method, url)
                if got != status:
                    wrong.append(f"{method.upper()} {path} ({access}) as {who}: {got}, "
                                 f"not {status}")
    assert sum(counted.values()) >= 100 and all(counted.values()), counted
    assert wrong == [], "\n".join(wrong)
