"""OpenAPI: every route is described; schemathesis fuzzes the live server against it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from lightnvr.web.router import _PARAM

ST = os.path.join(os.path.dirname(sys.executable), "st")
# Operations that would lock the fuzzer out of its own session: regenerating the API key it
# authenticates with. They are covered by tests/web/test_api_auth.py.
EXCLUDE = r"^/api/auth/users/\{id\}/api-key$"


def test_document_describes_every_route(web):
    doc = web.api.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for r in web.app.router.routes():
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", r.template)
        op = doc["paths"][path][r.method.lower()]
        assert op["responses"]["default"]["content"]["application/json"]["schema"]["required"] \
            == ["error"]
        for name in re.findall(r"\{(\w+)\}", path):
            assert any(p["name"] == name and p["in"] == "path" for p in op["parameters"])
        assert ("security" in op) == (r.access.name == "PUBLIC")
    assert web.client().get("/api/openapi.json").status == 401


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors_or_schema_violations(web, tmp_path):
    if not os.path.exists(ST):
        pytest.fail("schemathesis is not installed in the venv (pip install -e '.[dev]')")
    key = web.api.post("/api/auth/users/1/api-key").json["api_key"]
    cmd = [ST, "run", f"{web.base_url}/api/openapi.json", "-H", f"X-API-Key: {key}",
           "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
           "response_schema_conformance",
           "--phases", "examples,coverage,fuzzing", "--max-examples", "8", "--seed", "1",
           "--workers", "2", "--exclude-path-regex", EXCLUDE, "--request-timeout", "20",
           "--no-color", "--generation-deterministic", "--max-failures", "20"]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="", HYPOTHESIS_STORAGE_DIRECTORY=str(tmp_path))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path,
                          env=env)
    out = proc.stdout + proc.stderr
    shutil.rmtree(tmp_path / ".hypothesis", ignore_errors=True)
    assert proc.returncode == 0, out[-20000:]
    assert "No issues found" in out or " passed" in out, out[-5000:]
