"""The LiteRT engine on real `.tflite` models: tiny models written here with the TFLite schema
(tests/detection/tflite_models.py), run by the real `ai-edge-litert` interpreter through the
model registry, on a synthetic frame with one bright rectangle at a known place.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lightnvr.video.detection.engine import EngineError, Letterbox
from lightnvr.video.detection.frames import model_input
from lightnvr.video.detection.models import EngineSettings, ModelRegistry
from tests.detection.test_objects_engines import (
    FRAME_H,
    FRAME_W,
    _frame,
    assert_finds_the_object,
)
from tests.detection.tflite_models import LABEL, SIZE, build_tflite

pytest.importorskip("ai_edge_litert")

TOLERANCE = 2.5 / SIZE  # two and a half input pixels (quantisation, area scaling)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelRegistry]:
    d = tmp_path_factory.mktemp("tflite")
    build_tflite(d / "ball.tflite")
    build_tflite(d / "ball_u8.tflite", "uint8")
    r = ModelRegistry(EngineSettings(str(d)))
    yield r
    r.close()


@pytest.mark.parametrize("name", ["ball.tflite", "ball_u8.tflite"])
def test_tflite_model_gives_the_object_box(registry: ModelRegistry, name: str) -> None:
    """Float and uint8-quantised `.tflite` end-to-end models: one box with the labels file's
    label where the object is in the frame, nothing on a frame without it."""
    engine = registry.engine(name)
    assert (engine.info.engine, engine.info.layout) == ("litert", "end2end")
    assert_finds_the_object(engine, TOLERANCE)


def test_quantised_and_float_tflite_give_the_same_box(registry: ModelRegistry) -> None:
    """The uint8 model (quantised input and output) decodes to the float model's box."""
    boxes = []
    for name in ("ball.tflite", "ball_u8.tflite"):
        engine = registry.engine(name)
        box = Letterbox.fit(FRAME_W, FRAME_H, *engine.input_size)
        (o,) = engine.detect(model_input(_frame(), box), 0.5, box)
        boxes.append((o.x, o.y, o.width, o.height))
    for a, b in zip(*boxes, strict=True):
        assert abs(a - b) <= 1.5 / SIZE, boxes


def test_models_list_describes_the_tflite_models(registry: ModelRegistry) -> None:
    """GET /api/detection/models' source: input size, type, layout and labels of each."""
    listed = {m.name: m for m in registry.list_models()}
    for name, kind in (("ball.tflite", "float32"), ("ball_u8.tflite", "uint8")):
        m = listed[name]
        assert (m.error, m.input_width, m.input_height, m.input_type, m.layout,
                m.labels[0]) == ("", SIZE, SIZE, kind, "end2end", LABEL)


def test_missing_runtime_names_the_package(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Without LiteRT importable, a real `.tflite` model gives an EngineError naming the
    package to install (not an ImportError that would end the detector thread)."""
    build_tflite(tmp_path / "ball.tflite")
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # import now raises ImportError
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    r = ModelRegistry(EngineSettings(str(tmp_path)))
    try:
        with pytest.raises(EngineError, match="ai-edge-litert"):
            r.engine("ball.tflite")
    finally:
        r.close()
