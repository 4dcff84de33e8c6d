"""Object detection engines without the daemon: real ONNX Runtime sessions of tiny models
built here (tests/detection/object_models.py), real PyAV for the picture, a real HTTP socket.

A synthetic frame holds one bright rectangle at a known place; every output layout (end2end,
YOLOv5/v8 raw heads that need NMS, SSD), input type (float32, uint8, int8; NCHW and NHWC) and
output quantisation must give one box there with the model's label.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from lightnvr.video.detection.api_engine import (
    READ_TIMEOUT,
    ApiEngine,
    ServiceUnavailable,
    parse_detections,
    request_url,
)
from lightnvr.video.detection.engine import (
    EngineError,
    Letterbox,
    ObjectEngine,
    threshold_fraction,
)
from lightnvr.video.detection.frames import model_input
from lightnvr.video.detection.models import EngineSettings, ModelRegistry
from lightnvr.video.detection.outputs import Quant, decode, dequantise
from tests.detection.object_models import LABEL, SCORE, build, build_wrong_layout

FRAME_W, FRAME_H = 640, 360
# the bright object: x 400..480, y 80..160 of 640 x 360
OBJECT = (400 / FRAME_W, 80 / FRAME_H, 80 / FRAME_W, 80 / FRAME_H)
SIZE = (128, 128)
TOLERANCE = 2.5 / 128  # two and a half input pixels (quantisation, area scaling)

VARIANTS: list[dict[str, Any]] = [
    {"layout": "end2end"},
    {"layout": "end2end", "normalised": True},
    {"layout": "end2end", "input_type": "uint8", "nhwc": True},
    {"layout": "end2end", "input_type": "int8"},
    {"layout": "end2end", "output_quant": "uint8"},
    {"layout": "end2end", "output_quant": "int8", "input_type": "uint8", "nhwc": True},
    {"layout": "yolov5"},
    {"layout": "yolov5", "output_quant": "int8", "input_type": "int8"},
    {"layout": "yolov8"},
    {"layout": "yolov8", "output_quant": "uint8", "input_type": "uint8"},
    {"layout": "ssd"},
    {"layout": "ssd", "output_quant": "uint8", "input_type": "uint8", "nhwc": True},
]


def _frame(with_object: bool = True) -> Any:
    rng = np.random.default_rng(1)
    rgb = rng.integers(40, 170, (FRAME_H, FRAME_W, 3), dtype=np.uint8)  # never "bright"
    if with_object:
        rgb[80:160, 400:480] = 255
    return av.VideoFrame.from_ndarray(rgb, format="rgb24")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("models")
    for i, v in enumerate(VARIANTS):
        build(d / f"v{i}.onnx", size=SIZE, **v)
    build_wrong_layout(d / "wrong.onnx")
    (d / "corrupt.onnx").write_bytes(b"this is not a protobuf" * 10)
    (d / "lite.tflite").write_bytes(b"TFL3" + bytes(200))
    return d


@pytest.fixture(scope="module")
def registry(models: Path) -> Iterator[ModelRegistry]:
    r = ModelRegistry(EngineSettings(str(models)))
    yield r
    r.close()


@pytest.mark.parametrize("i", range(len(VARIANTS)),
                         ids=["-".join(f"{v}" for v in var.values()) for var in VARIANTS])
def test_every_layout_and_type_gives_the_object_box(registry: ModelRegistry, i: int) -> None:
    """Float and quantised, every layout: exactly one box (raw heads' eight overlapping
    candidates merged by NMS) with the label, where the object is in the frame."""
    engine = registry.engine(f"v{i}")
    assert engine.info.layout == VARIANTS[i]["layout"]
    assert_finds_the_object(engine, TOLERANCE)


def assert_finds_the_object(engine: ObjectEngine, tolerance: float) -> None:
    """One box with the label and score where the object is (within `tolerance` of the
    frame), and nothing on the same frame without the object."""
    box = Letterbox.fit(FRAME_W, FRAME_H, *engine.input_size)
    found = engine.detect(model_input(_frame(), box), 0.5, box)
    assert len(found) == 1, found
    o = found[0]
    assert o.label == LABEL
    assert abs(o.confidence - SCORE) < 0.02
    for got, want in zip((o.x, o.y, o.width, o.height), OBJECT, strict=True):
        assert abs(got - want) <= tolerance, (found, OBJECT)
    assert engine.detect(model_input(_frame(False), box), 0.5, box) == []


def test_threshold_percent_or_fraction(registry: ModelRegistry) -> None:
    """LightNVR's percent and our 0..1 mean the same: 95 % and 0.95 are above the model's
    score (nothing), 50 % and 0.5 below it (the object)."""
    engine = registry.engine("v0.onnx")
    box = Letterbox.fit(FRAME_W, FRAME_H, *engine.input_size)
    rgb = model_input(_frame(), box)
    for value, expected in ((95, 0), (0.95, 0), (50, 1), (0.5, 1)):
        assert len(engine.detect(rgb, threshold_fraction(value), box)) == expected, value


def test_unusable_models_say_why_and_the_list_shows_everything(registry: ModelRegistry) -> None:
    """A corrupt file, a model with no detector layout and a .tflite without LiteRT give a
    clear EngineError; the models list carries the good ones' input size, layout and labels
    and the others' reasons."""
    with pytest.raises(EngineError, match=r"corrupt\.onnx cannot be loaded"):
        registry.engine("corrupt.onnx")
    with pytest.raises(EngineError, match=r"output layout not supported.*\[1, 3\]"):
        registry.engine("wrong")
    if importlib.util.find_spec("ai_edge_litert") is None:
        with pytest.raises(EngineError, match="ai-edge-litert"):
            registry.engine("lite.tflite")
    else:
        with pytest.raises(EngineError, match="cannot be loaded"):
            registry.engine("lite.tflite")
    with pytest.raises(EngineError, match="no such model"):
        registry.engine("missing")
    listed = {m.name: m for m in registry.list_models()}
    assert set(listed) == {f"v{i}.onnx" for i in range(len(VARIANTS))} | {
        "wrong.onnx", "corrupt.onnx", "lite.tflite"}
    good = listed["v9.onnx"]
    assert (good.input_width, good.input_height, good.input_type, good.layout, good.labels,
            good.error) == (128, 128, "uint8", "yolov8", (LABEL, "other"), "")
    for bad in ("wrong.onnx", "corrupt.onnx", "lite.tflite"):
        assert listed[bad].error
    # one shared session per model
    assert registry.engine("v1") is registry.engine("v1.onnx")


def test_tflite_style_quantised_ssd_outputs_decode_like_float() -> None:
    """LiteRT's tensors (no .tflite model can be made here without TensorFlow): a TFLite
    detection-postprocess SSD answer, uint8 with its quantisation, through the shared
    decoders gives the float answer's box."""
    box = Letterbox.fit(FRAME_W, FRAME_H, 300, 300)
    x, y, w, h = OBJECT
    # frame-normalised -> input-normalised (letterboxed) ymin, xmin, ymax, xmax
    sy, py = box.scale_y, box.pad_y / box.height
    real = np.array([[[py + y * sy, x, py + (y + h) * sy, x + w], [0, 0, 0, 0]]], np.float32)
    q = Quant(1 / 255, 0)
    quantised = np.round(real / q.scale).astype(np.uint8)
    classes, scores, count = (np.array([[0, 1]], np.float32), np.array([[0.9, 0.1]], np.float32),
                              np.array([1], np.float32))
    ref = decode("ssd", [real, classes, scores, count], (LABEL,), 0.5, box)
    got = decode("ssd", [dequantise(quantised, q), classes, scores, count], (LABEL,), 0.5, box)
    assert len(ref) == len(got) == 1 and got[0].label == LABEL
    for a, b in zip((ref[0].x, ref[0].y, ref[0].width, ref[0].height),
                    (got[0].x, got[0].y, got[0].width, got[0].height), strict=True):
        assert abs(a - b) <= 1 / 255 + 1e-6


def test_api_answers_in_lightnvr_shapes() -> None:
    """Nested bounding_box, flat keys, pixel coordinates, track_id; malformed entries are
    skipped as LightNVR does; a body without `detections` is a bad answer."""
    body = (b'{"detections": [{"label": "car", "confidence": 0.7, "track_id": 3,'
            b' "bounding_box": {"x_min": 0.1, "y_min": 0.2, "x_max": 0.5, "y_max": 0.6}},'
            b' {"label": "dog", "confidence": 0.6, "x_min": 64, "y_min": 36,'
            b' "x_max": 320, "y_max": 180},'
            b' {"label": "bad", "confidence": "high", "x_min": 0, "y_min": 0,'
            b' "x_max": 1, "y_max": 1}, {"confidence": 0.9}]}')
    car, dog = parse_detections(body, 640, 360)
    assert (car.label, car.confidence, car.track_id) == ("car", 0.7, 3)
    assert (car.x, car.y, car.width, car.height) == (0.1, 0.2, 0.4, 0.4)
    assert (dog.label, dog.track_id, dog.x, dog.y, dog.width, dog.height) == (
        "dog", -1, 0.1, 0.1, 0.4, 0.4)
    with pytest.raises(ServiceUnavailable):
        parse_detections(b'{"results": []}', 640, 360)
    assert request_url("http://h/detect", "tflite", 0.5) == \
        "http://h/detect?backend=tflite&confidence_threshold=0.50&return_image=false"
    assert request_url("http://h/d?k=1", "bad name&x=1", 0.0) == \
        "http://h/d?k=1&backend=onnx&confidence_threshold=0.50&return_image=false"


def test_a_hung_service_costs_one_timeout_then_backs_off() -> None:
    """A service that accepts and never answers: the request gives up after the read
    time-out, the next one fails at once (back-off) - the detector thread is never held
    longer than a time-out, so it stops within the shutdown deadline."""
    srv = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not done.is_set():
            try:
                held.append(srv.accept()[0])
            except TimeoutError:
                continue

    t = threading.Thread(target=accept, name="test:hung-svc", daemon=True)
    t.start()
    engine = ApiEngine(f"http://127.0.0.1:{srv.getsockname()[1]}/detect")
    rgb = np.zeros((90, 160, 3), np.uint8)
    box = Letterbox(160, 90, 1.0, 1.0, 0, 0)
    try:
        start = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="no answer"):
            engine.detect(rgb, 0.5, box)
        assert time.monotonic() - start < READ_TIMEOUT + 10  # generous: a busy machine
        start = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="backing off"):
            engine.detect(rgb, 0.5, box)
        assert time.monotonic() - start < 1.0
        assert engine.requests == 1
    finally:
        done.set()
        t.join(5)
        for s in held:
            s.close()
        srv.close()
        engine.close()


def test_api_model_uses_the_stream_url_before_the_global_one(models: Path) -> None:
    """detection_model api-detection: the stream's detection_api_url when set, else
    [api_detection] url (LightNVR: an empty stream URL means the global one); a URL as the
    model is that URL; no URL anywhere is a clear error. Credentials never show."""
    r = ModelRegistry(EngineSettings(str(models), "http://global:9001/detect"))
    try:
        assert r.engine("api-detection").info.path == "http://global:9001/detect"
        own = r.engine("api-detection", "http://u:secret@own:9001/detect")
        assert own.info.path.startswith("http://u:") and "secret" not in own.info.path
        assert r.engine("http://direct/detect", "http://own/x").info.path == \
            "http://direct/detect"
        with pytest.raises(EngineError, match=r"\[api_detection\] url is not set"):
            ModelRegistry(EngineSettings(str(models))).engine("api-detection")
    finally:
        r.close()
