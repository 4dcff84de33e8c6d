"""Recordings API over a real server: listing, filters, files with Range, jobs, tags."""

from __future__ import annotations

import http.client
import io
import time
import zipfile
from pathlib import Path

import pytest

from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.web.http import Role
from tests.fixtures.clips import copy_clip
from tests.fixtures.wait import wait_until
from tests.fixtures.web import LiveWeb

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def _wait_job(env: LiveWeb, path: str) -> dict:
    def finished() -> dict | None:
        status, body = env.api.call("GET", path)
        assert status == 200, body
        return body if body["status"] in ("complete", "error") else None

    done = wait_until(finished, 20, step=0.05, what=f"job {path} to finish")
    assert done is not None
    return done


def test_list_shape_pagination_and_filters(env: LiveWeb) -> None:
    ids = [env.add_recording("front", T0 + i * 10) for i in range(5)]
    env.add_recording("back", T0 + 100, trigger="detection")
    env.testdb.recordings.set_protected([ids[0]], True)
    env.testdb.recordings.set_tags(ids[1], ["alarm"])
    status, body = env.api.call("GET", "/api/recordings?stream=front&limit=2&page=2&order=asc")
    assert status == 200
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 5, "pages": 3}
    first = body["recordings"][0]
    assert first["id"] == ids[2] and first["stream"] == "front"
    assert first["start_time"] == "2023-11-14T22:13:40Z" and first["start_time_unix"] == T0 + 20
    assert first["duration"] == 6 and first["capture_method"] == "scheduled"
    assert first["tags"] == [] and first["has_detection"] is False and first["size"].endswith("B")
    _, body = env.api.call("GET", "/api/recordings?protected=1")
    assert [r["id"] for r in body["recordings"]] == [ids[0]]
    _, body = env.api.call("GET", "/api/recordings?tag=alarm")
    assert [r["id"] for r in body["recordings"]] == [ids[1]]
    _, body = env.api.call("GET", "/api/recordings?has_detection=1")
    assert [r["stream"] for r in body["recordings"]] == ["back"]
    iso_start = "2023-11-14T22:13:30Z"
    _, body = env.api.call("GET", f"/api/recordings?stream=front&start={iso_start}"
                                    f"&end={int(T0 + 31)}&sort=start_time&order=asc")
    assert [r["id"] for r in body["recordings"]] == ids[1:4]
    _, body = env.api.call("GET", "/api/recordings?sort=size&order=desc&limit=all")
    assert body["pagination"]["total"] == 6


@pytest.mark.parametrize("query", ["page=0", "limit=0", "limit=5000", "limit=x", "sort=name;drop",
                                   "order=up", "start=yesterday", "end=1e400",
                                   "has_detection=maybe", "protected=2"])
def test_list_rejects_bad_query_with_400(env: LiveWeb, query: str) -> None:
    status, body = env.api.call("GET", f"/api/recordings?{query}")
    assert status == 400 and "error" in body


def test_get_delete_and_404s(env: LiveWeb) -> None:
    rid = env.add_recording("cam", T0)
    path = env.testdb.recordings.get(rid).file_path  # type: ignore[union-attr]
    status, body = env.api.call("GET", f"/api/recordings/{rid}")
    assert status == 200 and body["id"] == rid and body["file_path"] == path
    for bad in ("0", "-1", "abc", "1.5", "99999999999999999999999"):
        assert env.api.call("GET", f"/api/recordings/{bad}")[0] == 400
    assert env.api.call("GET", "/api/recordings/4242")[0] == 404
    viewer = env.make_user("vic", Role.VIEWER)
    assert viewer.call("DELETE", f"/api/recordings/{rid}")[0] == 403
    status, body = env.api.call("DELETE", f"/api/recordings/{rid}")
    assert status == 200 and body["success"]
    assert not Path(path).exists() and env.testdb.recordings.get(rid) is None
    assert env.api.call("DELETE", f"/api/recordings/{rid}")[0] == 404
    assert env.api.call("GET", f"/api/recordings/play/{rid}")[0] == 404


def test_download_and_play_with_ranges(env: LiveWeb) -> None:
    rid = env.add_recording("cam", T0)
    data = Path(env.testdb.recordings.get(rid).file_path).read_bytes()  # type: ignore[union-attr]
    size = len(data)
    r = env.api.request("GET", f"/api/recordings/download/{rid}")
    status, h, body = r.status, r.headers, r.body
    assert status == 200 and body == data
    assert h["content-disposition"].startswith("attachment;") and ".mp4" in h["content-disposition"]
    assert h["accept-ranges"] == "bytes" and h["content-type"] == "video/mp4"
    r = env.api.request("GET", f"/api/recordings/download/{rid}",
                        headers={"Range": "bytes=0-99"})
    status, h, body = r.status, r.headers, r.body
    assert status == 206 and body == data[:100] and h["content-range"] == f"bytes 0-99/{size}"
    r = env.api.request("GET", f"/api/recordings/play/{rid}",
                        headers={"Range": "bytes=-500"})
    status, h, body = r.status, r.headers, r.body
    assert status == 206 and body == data[-500:] and h["content-disposition"] == "inline"
    r = env.api.request("GET", f"/api/recordings/play/{rid}",
                        headers={"Range": f"bytes=100-{size + 50}"})
    status, h, body = r.status, r.headers, r.body
    assert status == 206 and body == data[100:]
    r = env.api.request("GET", f"/api/recordings/download/{rid}",
                        headers={"Range": f"bytes={size}-"})
    status, h = r.status, r.headers
    assert status == 416 and h["content-range"] == f"bytes */{size}"
    r = env.api.request("GET", f"/api/recordings/play/{rid}",
                        headers={"Range": "bytes=5-2"})
    status, body = r.status, r.body
    assert status == 416
    r = env.api.request("GET", f"/api/recordings/play/{rid}",
                        headers={"Range": "bytes=0-1,5-9"})
    status, h, body = r.status, r.headers, r.body
    assert status == 200 and body == data  # multi-range: the whole file
    r = env.api.request("GET", f"/api/recordings/play/{rid}",
                        headers={"If-None-Match": h["etag"]})
    status, _h2 = r.status, r.headers
    assert status == 304


def test_download_while_being_deleted_arrives_whole(env: LiveWeb) -> None:
    rid = env.add_recording("cam", T0, seconds=20)
    data = Path(env.testdb.recordings.get(rid).file_path).read_bytes()  # type: ignore[union-attr]
    conn = http.client.HTTPConnection("127.0.0.1", env.port, timeout=30)
    conn.request("GET", f"/api/recordings/download/{rid}",
                 headers=env.api.credential_headers())
    resp = conn.getresponse()
    assert resp.status == 200
    head = resp.read(1000)  # the server holds the file open now
    status, _ = env.api.call("DELETE", f"/api/recordings/{rid}")
    assert status == 200
    rest = resp.read()
    conn.close()
    assert head + rest == data
    assert env.api.request("GET", f"/api/recordings/download/{rid}").status == 404


def test_file_outside_storage_is_refused(env: LiveWeb, tmp_path: Path) -> None:
    from lightnvr.core.recordings_store import SegmentOpened

    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"not yours")
    rid = env.testdb.recordings.register(SegmentOpened("cam", str(outside), T0, 1, 1, 1, "h264"),
                                  T0 + 5, 9)
    link = env.storage_path / "cam" / "link.mp4"
    link.parent.mkdir()
    link.symlink_to("/etc/passwd")
    rid2 = env.testdb.recordings.register(SegmentOpened("cam", str(link), T0 + 9, 1, 1, 1, "h264"),
                                   T0 + 10, 9)
    for bad in (rid, rid2):
        for kind in ("download", "play"):
            r = env.api.request("GET", f"/api/recordings/{kind}/{bad}")
            assert r.status == 404 and b"root:" not in r.body and b"not yours" not in r.body
    for path in ("/api/recordings/download/..%2F..%2Fetc%2Fpasswd",
                 "/api/recordings/download/../../etc/passwd", "/api/recordings/play/1%00"):
        r = env.api.request("GET", path)
        assert r.status in (400, 404) and b"root:" not in r.body


def test_thumbnails_are_decoded_and_cached(env: LiveWeb) -> None:
    rid = env.add_recording("cam", T0)
    r = env.api.request("GET", f"/api/recordings/thumbnail/{rid}/1")
    status, h, body = r.status, r.headers, r.body
    assert status == 200 and h["content-type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    cached = Path(env.testdb.recordings.get(rid).file_path + ".thumb1.jpg")  # type: ignore[union-attr]
    assert cached.exists()
    assert env.api.request("GET", f"/api/recordings/thumbnail/{rid}/1").body == body
    assert env.api.call("GET", f"/api/recordings/thumbnail/{rid}/3")[0] == 400
    assert env.api.call("GET", f"/api/recordings/thumbnail/{rid}/x")[0] == 400
    env.api.call("DELETE", f"/api/recordings/{rid}")
    assert not cached.exists()


def test_protect_retention_tags(env: LiveWeb) -> None:
    rid = env.add_recording("cam", T0)
    status, body = env.api.call("PUT", f"/api/recordings/{rid}/protect", {"protected": True})
    assert status == 200 and body["protected"] is True
    assert env.testdb.recordings.get(rid).protected  # type: ignore[union-attr]
    assert env.api.call("PUT", f"/api/recordings/{rid}/protect", {"protected": 1})[0] == 400
    assert env.api.call("GET", "/api/recordings/protected")[1]["protected_count"] == 1
    status, body = env.api.call("PUT", f"/api/recordings/{rid}/retention",
                                  {"retention_days": 90})
    assert status == 200 and env.testdb.recordings.get(rid).retention_override_days == 90  # type: ignore[union-attr]
    env.api.call("PUT", f"/api/recordings/{rid}/retention", {"retention_days": -1})
    assert env.testdb.recordings.get(rid).retention_override_days is None  # type: ignore[union-attr]
    assert env.api.call("PUT", f"/api/recordings/{rid}/retention",
                          {"retention_days": "90"})[0] == 400
    status, body = env.api.call("PUT", f"/api/recordings/{rid}/tags",
                                  {"tags": ["b", "a", "a"]})
    assert status == 200 and body["tags"] == ["a", "b"]
    assert env.api.call("GET", f"/api/recordings/{rid}/tags")[1] == {"id": rid,
                                                                       "tags": ["a", "b"]}
    assert env.api.call("GET", "/api/recordings/tags")[1] == {"tags": ["a", "b"]}
    assert env.api.call("PUT", f"/api/recordings/{rid}/tags", {"tags": [1]})[0] == 400
    assert env.api.call("PUT", f"/api/recordings/{rid}/tags", {"tags": "a"})[0] == 400
    assert env.api.call("PUT", "/api/recordings/9999/tags", {"tags": ["x"]})[0] == 404
    status, body = env.api.call("POST", "/api/recordings/batch-protect",
                                  {"ids": [rid, 9999, "x"], "protected": False})
    assert status == 200 and body["success_count"] == 1 and body["fail_count"] == 2


def test_batch_delete_job_with_progress(env: LiveWeb) -> None:
    ids = [env.add_recording("cam", T0 + i * 10) for i in range(4)]
    keep = env.add_recording("other", T0)
    status, body = env.api.call("POST", "/api/recordings/batch-delete", {"ids": [*ids, 9999]})
    assert status == 202 and body["status"] == "started"
    done = _wait_job(env, f"/api/recordings/batch-delete/progress/{body['job_id']}")
    assert done["complete"] and done["succeeded"] == 4 and done["failed"] == 1
    assert all(env.testdb.recordings.get(i) is None for i in ids)
    status, body = env.api.call("POST", "/api/recordings/batch-delete",
                                  {"filter": {"stream": "other", "start": "2023-11-14T00:00:00"}})
    assert status == 202
    done = _wait_job(env, f"/api/recordings/batch-delete/progress/{body['job_id']}")
    assert done["succeeded"] == 1 and env.testdb.recordings.get(keep) is None
    assert env.api.call("POST", "/api/recordings/batch-delete", {"ids": []})[0] == 400
    assert env.api.call("POST", "/api/recordings/batch-delete", {"nothing": 1})[0] == 400
    assert env.api.call("GET", "/api/recordings/batch-delete/progress/nope")[0] == 404


def test_batch_delete_leaves_the_segment_being_written(env: LiveWeb) -> None:
    """A row whose segment is still open (its recorder writes the file) is not deleted by a
    batch delete, by ids or by filter; finished ones beside it are."""
    done_id = env.add_recording("cam", T0)
    path = env.storage_path / "cam" / "open.mp4"
    copy_clip(path, 2)
    open_id = env.testdb.recordings.segment_opened(SegmentOpened(
        "cam", str(path), T0 + 100, 320, 240, 10, "h264"))
    for body in ({"ids": [done_id, open_id]}, {"filter": {"stream": "cam"}}):
        status, answer = env.api.call("POST", "/api/recordings/batch-delete", body)
        assert status == 202, answer
        _wait_job(env, f"/api/recordings/batch-delete/progress/{answer['job_id']}")
        assert env.testdb.recordings.get(open_id) is not None and path.exists()
    assert env.testdb.recordings.get(done_id) is None


def test_batch_download_zip(env: LiveWeb) -> None:
    ids = [env.add_recording("cam", T0 + i * 10) for i in range(3)]
    viewer = env.make_user("vic", Role.VIEWER)  # viewers may download, as in the C project
    status, body = viewer.call("POST", "/api/recordings/batch-download",
                               {"ids": ids, "filename": "incident"})
    assert status == 202 and body["total"] == 3
    token = body["token"]
    ready = _wait_job(env, f"/api/recordings/batch-download/status/{token}")
    assert ready["status"] == "complete" and ready["ready"]  # streamed: nothing to wait for
    r = viewer.request("GET", f"/api/recordings/batch-download/result/{token}")
    status, h, raw = r.status, r.headers, r.body
    assert status == 200 and 'filename="incident.zip"' in h["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        infos = zf.infolist()
        assert len(infos) == 3 and all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        first = env.testdb.recordings.get(ids[0]).file_path  # type: ignore[union-attr]
        assert zf.read(infos[0]) == Path(first).read_bytes()
    done = _wait_job(env, f"/api/recordings/batch-download/status/{token}")
    assert done["succeeded"] == 3 and not done["ready"]
    # A token is good for one download (the ZIP is built while it is sent).
    assert viewer.request("GET", f"/api/recordings/batch-download/result/{token}").status == 409
    assert env.api.call("POST", "/api/recordings/batch-download",
                          {"ids": list(range(1, 300))})[0] == 400
    assert env.api.call("GET", "/api/recordings/batch-download/result/zzz")[0] == 404


def test_sync_registers_orphans(env: LiveWeb) -> None:
    rid = env.add_recording("cam", T0)
    Path(env.testdb.recordings.get(rid).file_path).unlink()  # type: ignore[union-attr]
    status, body = env.api.call("POST", "/api/recordings/sync")
    assert status == 200 and body["success"] and body["rows_removed"] == 1
    assert env.testdb.recordings.get(rid) is None


def test_job_registry_threads_named_and_stopped_within_deadline(tmp_path: Path) -> None:
    import threading

    from lightnvr.web.api.recordings_batch import JobRegistry

    jobs = JobRegistry()
    seen: list[str] = []
    started = threading.Event()

    def work(job: object) -> None:
        seen.append(threading.current_thread().name)
        started.set()
        while not jobs.stopping:  # a long job that checks the stop flag between items
            threading.Event().wait(0.01)

    before = threading.active_count()
    job = jobs.start("zip", 1, work)
    assert started.wait(5)
    assert seen == [f"batch-zip:{job.id[:8]}"]
    t0 = time.monotonic()
    jobs.stop(2.0)
    assert time.monotonic() - t0 < 2.0
    assert threading.active_count() == before
    assert jobs.get(job.id, "zip").status == "error"  # interrupted, and says so
