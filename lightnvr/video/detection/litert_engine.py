"""The LiteRT engine: `.tflite` models in process (optional extra `lightnvr[litert]`).

LiteRT (`ai-edge-litert`) is the successor of tflite-runtime, the runtime LightNVR's C engine
links. An Interpreter is not thread-safe, so the one shared interpreter of a model is used
under a lock (streams sharing a model take turns; each stream's frames are seconds apart).
Tensors carry their own quantisation (scale, zero point), used for integer inputs and outputs;
the outputs go through the same decoders as ONNX (outputs.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from lightnvr.video.detection.engine import EngineError, Letterbox, ModelInfo, ObjectBox, Rgb
from lightnvr.video.detection.outputs import Quant, decode, dequantise, guess_layout, quantise_input

PACKAGE = "ai-edge-litert"
_TYPES = {np.dtype(np.float32): "float32", np.dtype(np.uint8): "uint8",
          np.dtype(np.int8): "int8"}


def _quant(detail: dict[str, Any]) -> Quant:
    scale, zp = detail.get("quantization", (0.0, 0))
    return Quant(float(scale), int(zp))


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        raise EngineError(f"the LiteRT runtime is not installed (pip install {PACKAGE}, or "
                          "lightnvr[litert])") from e
    return Interpreter


class LiteRtEngine:
    """See the module doc. Raises EngineError on a missing runtime, a file LiteRT cannot load,
    or an input/output it cannot use."""

    def __init__(self, path: str, name: str, labels: Sequence[str], threads: int = 1) -> None:
        try:
            interpreter_class = _interpreter_class()
        except EngineError as e:
            raise EngineError(f"TFLite model {name}: {e}") from e
        try:
            self._interp: Any = interpreter_class(model_path=path,
                                                  num_threads=max(1, threads))
            self._interp.allocate_tensors()
        except Exception as e:  # LiteRT raises ValueError/RuntimeError for bad files
            raise EngineError(f"TFLite model {name} cannot be loaded: "
                              f"{str(e).splitlines()[0][:300]}") from e
        self._lock = threading.Lock()
        inp = self._interp.get_input_details()[0]
        shape = [int(d) for d in inp["shape"]]
        dtype = _TYPES.get(np.dtype(inp["dtype"]))
        if len(shape) != 4 or shape[3] != 3 or dtype is None:
            raise EngineError(f"TFLite model {name}: input {shape} {inp['dtype']} not "
                              "supported; expected [1,H,W,3] float32/uint8/int8")
        self._input = inp
        self._outputs = self._interp.get_output_details()
        layout = guess_layout([[int(d) for d in o["shape"]] for o in self._outputs],
                              len(labels))
        self.info = ModelInfo(name, path, "litert", shape[2], shape[1], dtype, layout,
                              tuple(labels))

    @property
    def input_size(self) -> tuple[int, int]:
        return self.info.input_width, self.info.input_height

    def detect(self, rgb: Rgb, threshold: float, box: Letterbox) -> list[ObjectBox]:
        x = quantise_input(rgb, self.info.input_type, _quant(self._input))[None]
        with self._lock:
            self._interp.set_tensor(self._input["index"], x)
            self._interp.invoke()
            outs = [dequantise(np.array(self._interp.get_tensor(o["index"])), _quant(o))
                    for o in self._outputs]
        return decode(self.info.layout, outs, self.info.labels, threshold, box)
