"""The ONNX Runtime engine: `.onnx` models in process (optional extra `lightnvr[onnx]`).

One InferenceSession per model file, shared by every stream that uses it (models.py keeps
them): ONNX Runtime's `run` may be called from several threads at once. Intra-op threads
are bounded (default 1: a small board has few cores and the recorder needs one), and the
session runs sequentially. Inputs may be NCHW or NHWC, float32 (0..1), uint8 or int8;
integer outputs are dequantised with the scale and zero point of the QuantizeLinear node
that produces them (read with the `onnx` package when it is installed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from lightnvr.video.detection.engine import EngineError, Letterbox, ModelInfo, ObjectBox, Rgb
from lightnvr.video.detection.outputs import Quant, decode, dequantise, guess_layout, quantise_input

log = logging.getLogger(__name__)

PACKAGE = "onnxruntime"
_TYPES = {"tensor(float)": "float32", "tensor(uint8)": "uint8", "tensor(int8)": "int8"}


def _output_quant(path: str, names: Sequence[str]) -> dict[str, Quant]:
    """Scale and zero point of QuantizeLinear nodes producing `names` (empty without onnx)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        return {}
    model = onnx.load(path, load_external_data=False)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out: dict[str, Quant] = {}
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear" and node.output[0] in names:
            scale = inits.get(node.input[1])
            zp = inits.get(node.input[2]) if len(node.input) > 2 else None
            if scale is not None:
                out[node.output[0]] = Quant(float(np.asarray(scale).reshape(-1)[0]),
                                            int(np.asarray(zp).reshape(-1)[0])
                                            if zp is not None else 0)
    return out


class OnnxEngine:
    """See the module doc. Raises EngineError on a missing runtime, a file ONNX Runtime cannot
    load, or an input/output it cannot use."""

    def __init__(self, path: str, name: str, labels: Sequence[str], threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise EngineError(f"ONNX model {name}: the ONNX Runtime is not installed "
                              f"(pip install {PACKAGE}, or lightnvr[onnx])") from e
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        try:
            self._session: Any = ort.InferenceSession(path, sess_options=opts,
                                                      providers=["CPUExecutionProvider"])
        except Exception as e:  # ORT raises its own exception types for corrupt files
            raise EngineError(f"ONNX model {name} cannot be loaded: "
                              f"{str(e).splitlines()[0][:300]}") from e
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        shape = list(inp.shape)
        if len(shape) != 4 or inp.type not in _TYPES:
            raise EngineError(f"ONNX model {name}: input {inp.name} {shape} {inp.type} not "
                              "supported; expected [1,3,H,W] or [1,H,W,3] float32/uint8/int8")
        self._nchw = shape[1] == 3
        h, w = (shape[2], shape[3]) if self._nchw else (shape[1], shape[2])
        if not isinstance(h, int) or not isinstance(w, int) or h <= 0 or w <= 0:
            raise EngineError(f"ONNX model {name}: input {shape} has no fixed size; export "
                              "it with a fixed height and width")
        self._dtype = _TYPES[inp.type]
        outputs = self._session.get_outputs()
        self._output_names = [o.name for o in outputs]
        layout = guess_layout([list(o.shape) for o in outputs], len(labels))
        self._quant = _output_quant(path, self._output_names) \
            if any(o.type != "tensor(float)" for o in outputs) else {}
        self.info = ModelInfo(name, path, "onnx", w, h, self._dtype, layout, tuple(labels))

    @property
    def input_size(self) -> tuple[int, int]:
        return self.info.input_width, self.info.input_height

    def detect(self, rgb: Rgb, threshold: float, box: Letterbox) -> list[ObjectBox]:
        x = quantise_input(rgb, self._dtype, Quant())
        x = np.transpose(x, (2, 0, 1))[None] if self._nchw else x[None]
        outs = self._session.run(self._output_names, {self._input_name: x})
        real = [dequantise(np.asarray(o), self._quant.get(n, Quant()))
                for n, o in zip(self._output_names, outs, strict=True)]
        return decode(self.info.layout, real, self.info.labels, threshold, box)
