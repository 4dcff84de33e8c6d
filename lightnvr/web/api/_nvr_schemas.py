"""OpenAPI shapes of the stream, recording, timeline, media, storage and detection routes.

Kept apart from the handlers so each API module stays about its behaviour; every module calls
its `describe_*` from `register`. Schemas list the fields clients rely on and allow extra ones.
"""

from __future__ import annotations

from lightnvr.web import openapi as oa

NUM, INT, STR, BOOL = oa.NUMBER, oa.INTEGER, oa.STRING, oa.BOOLEAN
ID = oa.INTEGER_PARAM
TIME_Q = {"anyOf": [{"type": "string"}, {"type": "number"}]}
SUCCESS = oa.obj({"success": BOOL}, required=["success"])
# accepted: the storage thread runs it after its current pass (web/api/storage.py)
QUEUED = oa.obj({"success": BOOL, "queued": BOOL, "message": STR}, required=["queued"])
VIDEO = oa.media("video/mp4", {"type": "string", "format": "binary"})
JPEG = oa.media("image/jpeg", {"type": "string", "format": "binary"})

STREAM = oa.obj({
    "name": STR, "url": STR, "enabled": BOOL, "streaming_enabled": BOOL, "width": INT,
    "height": INT, "fps": INT, "codec": STR, "priority": INT, "record": BOOL,
    "segment_duration": INT, "protocol": INT, "record_audio": BOOL,
    "detection_based_recording": BOOL, "detection_model": STR, "detection_threshold": INT,
    "detection_interval": INT, "pre_detection_buffer": INT, "post_detection_buffer": INT,
    "detection_api_url": STR, "retention_days": INT, "detection_retention_days": INT,
    "max_storage_mb": INT, "record_on_schedule": BOOL, "recording_schedule": oa.array(BOOL),
    "sub_stream_url": STR, "tags": STR, "status": STR, "state": STR, "last_error": STR,
    "recording": BOOL, "manual_recording": BOOL, "stats": oa.nullable(oa.obj()),
}, required=["name", "url", "enabled", "status", "state"])
STREAM_IN = oa.obj({k: v for k, v in STREAM["properties"].items()
                    if k not in ("status", "state", "last_error", "recording",
                                 "manual_recording", "stats")})
RECORDING = oa.obj({
    "id": INT, "stream": STR, "stream_name": STR, "file_path": STR, "start_time": STR,
    "end_time": STR, "start_time_unix": NUM, "end_time_unix": NUM, "duration": INT,
    "size": STR, "size_bytes": INT, "capture_method": STR, "trigger_type": STR,
    "has_detection": BOOL, "protected": BOOL, "tags": oa.array(STR),
    "retention_override_days": oa.nullable(INT),
    "detection_labels": oa.array(oa.obj({"label": STR, "count": INT})),
}, required=["id", "stream", "start_time", "end_time", "duration", "protected", "tags"])
ZONE = oa.obj({"id": STR, "name": STR, "enabled": BOOL, "color": STR,
               "polygon": oa.array(oa.obj({"x": NUM, "y": NUM})), "filter_classes": STR,
               "min_confidence": NUM})
RETENTION = oa.obj({"stream_name": STR, "retention_days": INT,
                    "detection_retention_days": INT, "max_storage_mb": INT},
                   required=["stream_name", "retention_days"])
JOB = oa.obj({"job_id": STR, "status": STR, "total": INT, "current": INT, "succeeded": INT,
              "failed": INT, "status_message": STR, "complete": BOOL},
             required=["job_id", "status", "complete"])


def describe_streams() -> None:
    d = oa.describe
    d("GET", "/api/streams", responses={200: oa.array(STREAM)})
    d("POST", "/api/streams", request=STREAM_IN, responses={201: SUCCESS})
    d("POST", "/api/streams/test", request=oa.obj({"url": STR, "protocol": INT},
                                                  required=["url"]),
      responses={200: SUCCESS})
    d("GET", "/api/streams/{name}", responses={200: STREAM})
    d("PUT", "/api/streams/{name}", request=STREAM_IN, responses={200: SUCCESS})
    d("DELETE", "/api/streams/{name}", query={"permanent": {"enum": ["true", "false"]}},
      responses={200: SUCCESS})
    d("GET", "/api/streams/{name}/full", responses={200: STREAM})
    d("GET", "/api/streams/{name}/recording",
      responses={200: oa.obj({"stream": STR, "state": STR, "recording_active": BOOL,
                              "manual_control_allowed": BOOL}, required=["stream", "state"])})
    d("POST", "/api/streams/{name}/recording",
      request=oa.obj({"action": {"enum": ["start", "stop"]}}, required=["action"]),
      responses={200: SUCCESS, 202: SUCCESS})
    d("POST", "/api/streams/{name}/refresh", request_required=False,
      responses={202: SUCCESS})
    d("GET", "/api/streams/{name}/zones", responses={200: oa.obj({"zones": oa.array(ZONE)},
                                                                 required=["zones"])})
    d("POST", "/api/streams/{name}/zones", request=oa.obj({"zones": oa.array(ZONE)},
                                                          required=["zones"]),
      responses={200: SUCCESS})
    d("DELETE", "/api/streams/{name}/zones", responses={200: SUCCESS})
    d("GET", "/api/streams/{name}/retention", responses={200: RETENTION})
    d("PUT", "/api/streams/{name}/retention", request=oa.obj({
        "retention_days": INT, "detection_retention_days": INT, "max_storage_mb": INT}),
      responses={200: RETENTION})


def describe_recordings() -> None:
    d = oa.describe
    listing = oa.obj({"recordings": oa.array(RECORDING), "pagination": oa.obj(
        {"page": INT, "limit": INT, "total": INT, "pages": INT},
        required=["page", "limit", "total", "pages"])}, required=["recordings", "pagination"])
    d("GET", "/api/recordings", responses={200: listing}, query={
        "stream": STR, "start": TIME_Q, "end": TIME_Q, "page": {"type": "integer", "minimum": 1},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "sort": {"enum": ["id", "start_time", "end_time", "duration", "size_bytes", "size",
                          "stream_name", "stream", "trigger_type", "protected"]},
        "order": {"enum": ["asc", "desc"]}, "has_detection": {"enum": ["1", "0", "-1"]},
        "protected": {"enum": ["1", "0"]}, "detection_label": STR, "tag": STR})
    d("GET", "/api/recordings/tags", responses={200: oa.obj({"tags": oa.array(STR)})})
    d("GET", "/api/recordings/protected", responses={200: oa.obj({"protected_count": INT})})
    d("POST", "/api/recordings/batch-protect", request=oa.obj(
        {"ids": oa.array(ID), "protected": BOOL}, required=["ids", "protected"]),
      responses={200: SUCCESS})
    d("POST", "/api/recordings/sync", request_required=False,
      responses={200: SUCCESS, 202: QUEUED})
    for kind in ("play", "download"):
        d("GET", f"/api/recordings/{kind}/{{id}}", params={"id": ID},
          responses={200: VIDEO, 206: VIDEO})
    d("GET", "/api/recordings/thumbnail/{id}/{idx}",
      params={"id": ID, "idx": {"type": "integer", "minimum": 0, "maximum": 9}},
      responses={200: JPEG})
    d("GET", "/api/recordings/{id}", params={"id": ID}, responses={200: RECORDING})
    d("DELETE", "/api/recordings/{id}", params={"id": ID}, responses={200: SUCCESS})
    d("PUT", "/api/recordings/{id}/protect", params={"id": ID},
      request=oa.obj({"protected": BOOL}, required=["protected"]), responses={200: SUCCESS})
    d("PUT", "/api/recordings/{id}/retention", params={"id": ID},
      request=oa.obj({"retention_days": INT}, required=["retention_days"]),
      responses={200: SUCCESS})
    d("GET", "/api/recordings/{id}/tags", params={"id": ID},
      responses={200: oa.obj({"id": INT, "tags": oa.array(STR)})})
    d("PUT", "/api/recordings/{id}/tags", params={"id": ID},
      request=oa.obj({"tags": oa.array(STR)}, required=["tags"]), responses={200: SUCCESS})
    d("POST", "/api/recordings/batch-delete",
      request=oa.obj({"ids": oa.array(ID), "filter": oa.obj()}),
      responses={202: oa.obj({"job_id": STR, "status": STR}, required=["job_id"])})
    d("GET", "/api/recordings/batch-delete/progress/{job}", responses={200: JOB})
    d("POST", "/api/recordings/batch-download",
      request=oa.obj({"ids": oa.array(ID), "filename": STR}, required=["ids"]),
      responses={202: oa.obj({"token": STR, "total": INT}, required=["token"])})
    d("GET", "/api/recordings/batch-download/status/{token}",
      responses={200: oa.obj({"status": STR, "current": INT, "total": INT},
                             required=["status"])})
    zip_body = oa.media("application/zip", {"type": "string", "format": "binary"})
    d("GET", "/api/recordings/batch-download/result/{token}",
      responses={200: zip_body, 206: zip_body})


def describe_timeline() -> None:
    d = oa.describe
    q = {"stream": STR, "start": TIME_Q, "end": TIME_Q}
    seg = oa.obj({"id": INT, "stream": STR, "start_timestamp": NUM, "end_timestamp": NUM,
                  "duration": INT, "has_detection": BOOL},
                 required=["id", "start_timestamp", "end_timestamp"])
    d("GET", "/api/timeline/segments", query=q, required_query=["stream"],
      responses={200: oa.obj({"segments": oa.array(seg), "segment_count": INT},
                             required=["segments"])})
    d("GET", "/api/timeline/manifest", query=q, required_query=["stream"],
      responses={200: oa.media("application/vnd.apple.mpegurl", STR)})
    d("GET", "/api/timeline/play", query={"stream": STR, "t": TIME_Q, "start": TIME_Q},
      required_query=["stream"], responses={302: oa.media("text/plain", STR)})


def describe_media() -> None:
    d = oa.describe
    d("GET", "/hls/{stream}/{file}",
      responses={200: oa.media("application/vnd.apple.mpegurl", STR),
                 206: oa.media("video/iso.segment", STR)})
    d("GET", "/api/streams/{name}/snapshot", responses={200: JPEG})
    d("GET", "/go2rtc/api/frame.jpeg", query={"src": STR}, required_query=["src"],
      responses={200: JPEG})


def describe_storage_detection() -> None:
    d = oa.describe
    d("GET", "/api/storage/health", responses={200: oa.obj({
        "pressure_level": STR, "free_space_pct": NUM, "free_space_bytes": INT,
        "total_space_bytes": INT, "recordings_count": INT},
        required=["pressure_level", "free_space_bytes"])})
    d("POST", "/api/storage/cleanup", request_required=False,
      responses={200: oa.obj({"success": BOOL, "deleted": INT}, required=["success"]),
                 202: QUEUED})
    det = oa.obj({"label": STR, "confidence": NUM, "x": NUM, "y": NUM, "width": NUM,
                  "height": NUM, "timestamp": NUM})
    d("GET", "/api/detection/results/{stream}", query={"start": TIME_Q, "end": TIME_Q},
      responses={200: oa.obj({"detections": oa.array(det)}, required=["detections"])})
    d("GET", "/api/detection/models",
      responses={200: oa.obj({"models": oa.array(oa.obj()), "count": INT},
                             required=["models"])})
    d("POST", "/api/motion/trigger", request=oa.obj({
        "stream": STR, "action": {"enum": ["start", "stop", "pulse"]}, "duration_ms": INT,
        "label": STR, "objects": oa.array({}), "confidence": NUM, "tags": oa.array(STR)},
        required=["stream", "action"]),
      responses={202: oa.obj({"success": BOOL, "recording_triggered": BOOL,
                              "detections_stored": INT, "tags_applied": INT},
                             required=["success"])})
