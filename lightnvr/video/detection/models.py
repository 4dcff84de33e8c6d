"""The models a stream may select: files under `[models] path`, or LightNVR's detection API.

A stream's `detection_model` names its engine: `motion` is the built-in motion detector
(detector.py, not here); `api-detection` is LightNVR's HTTP API at `[api_detection] url`, and
an http(s) URL is that API at the URL (api_engine.py); anything else is a model file, by name
under the models directory (with or without its `.onnx` / `.tflite` extension) or by absolute
path. A model's labels are the lines of a labels file beside it: `<stem>.txt`,
`<stem>.labels`, `<stem>_labels.txt`, or else `labels.txt` of the directory.

`ModelRegistry` loads each model once and shares the engine with every stream that uses it
(one session per model); a model that cannot load is remembered with its error (so a stream
and GET /api/detection/models say the same thing) until its file changes. Thread-safe: the
stream manager and web workers call it; loading happens under the registry's lock (one
model loads at a time; the detector threads that wait for it have nothing else to do).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from lightnvr.video.detection.api_engine import API_MODEL, ApiEngine, is_api_model
from lightnvr.video.detection.engine import EngineError, ModelInfo, ObjectEngine

log = logging.getLogger(__name__)

MODEL_EXTENSIONS = {".onnx": "onnx", ".tflite": "litert"}
MAX_LABELS = 10000


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """What the daemon's configuration says about object detection."""

    models_path: str = ""      # [models] path
    api_url: str = ""          # [api_detection] url
    api_backend: str = "onnx"  # [api_detection] backend
    threads: int = 1           # intra-op threads per model session


def read_labels(model_path: str) -> tuple[str, ...]:
    """The labels of the model at `model_path` (see the module doc); () when there is none."""
    folder, base = os.path.split(model_path)
    stem = os.path.splitext(base)[0]
    for name in (f"{stem}.txt", f"{stem}.labels", f"{stem}_labels.txt", "labels.txt"):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                lines = [ln.strip() for ln in f.read().splitlines()[:MAX_LABELS]]
            return tuple(lines)
    return ()


def _load(path: str, name: str, threads: int) -> ObjectEngine:
    kind = MODEL_EXTENSIONS.get(os.path.splitext(path)[1].lower())
    labels = read_labels(path)
    if kind == "onnx":
        from lightnvr.video.detection.onnx_engine import OnnxEngine
        return OnnxEngine(path, name, labels, threads)
    if kind == "litert":
        from lightnvr.video.detection.litert_engine import LiteRtEngine
        return LiteRtEngine(path, name, labels, threads)
    raise EngineError(f"model {name}: unknown model type; use a .onnx or .tflite file")


class ModelRegistry:
    """See the module doc."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        # path -> (mtime, engine or the error it failed with)
        self._models: dict[str, tuple[float, ObjectEngine | EngineError]] = {}
        self._apis: dict[tuple[str, str], ApiEngine] = {}

    def resolve(self, detection_model: str) -> str:
        """The model file a `detection_model` value names (EngineError if none)."""
        m = detection_model.strip()
        folder = self.settings.models_path
        if os.path.isabs(m):
            return m
        if not folder:
            raise EngineError(f"detection_model {m!r}: [models] path is not set")
        if os.sep in m or m.startswith("."):
            raise EngineError(f"detection_model {m!r}: give a file name under [models] path")
        candidates = [m] if os.path.splitext(m)[1].lower() in MODEL_EXTENSIONS \
            else [m + ext for ext in MODEL_EXTENSIONS]
        for c in candidates:
            p = os.path.join(folder, c)
            if os.path.isfile(p):
                return p
        raise EngineError(f"detection_model {m!r}: no such model under [models] path "
                          f"({folder}); models found: "
                          f"{', '.join(i.name for i in self.list_models()) or 'none'}")

    def engine(self, detection_model: str, stream_api_url: str = "") -> ObjectEngine:
        """The shared engine for a stream's `detection_model` (EngineError if unusable);
        for `api-detection` the stream's own `detection_api_url` wins over [api_detection]
        url when set, as in LightNVR."""
        if is_api_model(detection_model):
            m = detection_model.strip()
            url = (stream_api_url.strip() or self.settings.api_url) if m.lower() == API_MODEL \
                else m
            if not url:
                raise EngineError(f"detection_model {API_MODEL}: [api_detection] url is not set")
            key = (url, self.settings.api_backend)
            with self._lock:
                if key not in self._apis:
                    self._apis[key] = ApiEngine(url, self.settings.api_backend)
                return self._apis[key]
        path = self.resolve(detection_model)
        return self._model(path)

    def _model(self, path: str) -> ObjectEngine:
        try:
            mtime = os.stat(path).st_mtime
        except OSError as e:
            raise EngineError(f"model {os.path.basename(path)}: cannot read it ({e.strerror})") \
                from e
        with self._lock:
            known = self._models.get(path)
            if known is None or known[0] != mtime:
                try:
                    loaded: ObjectEngine | EngineError = _load(
                        path, os.path.basename(path), self.settings.threads)
                    log.info("detection model %s loaded", path)
                except EngineError as e:
                    loaded = e
                    log.error("detection model %s: %s", path, e)
                self._models[path] = (mtime, loaded)
                known = self._models[path]
        if isinstance(known[1], EngineError):
            raise known[1]
        return known[1]

    def list_models(self) -> list[ModelInfo]:
        """Every model file under the models directory, loaded (shared), with its input size,
        layout and labels, or the reason it cannot load (`error`)."""
        folder = self.settings.models_path
        try:
            names = sorted(os.listdir(folder)) if folder else []
        except OSError:
            return []
        out: list[ModelInfo] = []
        for n in names:
            path = os.path.join(folder, n)
            if os.path.splitext(n)[1].lower() not in MODEL_EXTENSIONS or not os.path.isfile(path):
                continue
            try:
                out.append(self._model(path).info)
            except EngineError as e:
                kind = MODEL_EXTENSIONS[os.path.splitext(n)[1].lower()]
                out.append(ModelInfo(n, path, kind, labels=read_labels(path), error=str(e)))
        return out

    def close(self) -> None:
        with self._lock:
            apis = list(self._apis.values())
            self._apis.clear()
            self._models.clear()
        for a in apis:
            a.close()
