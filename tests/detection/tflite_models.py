"""Tiny `.tflite` object models written with the TFLite flatbuffer schema (the `tflite`
package's builders and `flatbuffers`): nothing downloaded, no TensorFlow.

The model is object_models.py's "bright object" in TFLite builtin ops: the pixels whose mean
of R, G, B is above BRIGHT (MEAN, GREATER, CAST), the columns and rows that hold one
(REDUCE_MAX), the first and last of them (MUL by a column-index constant, REDUCE_MAX, SUB),
score SCORE when there is such a pixel, class 0 (LABEL), and LightNVR's end-to-end output
[1, 1, 6] (x1, y1, x2, y2, score, class; RESHAPE, CONCATENATION). Two variants:

- `float32`: input float32 [1, S, S, 3] (0..1), output float32 in input pixels;
- `uint8`: input uint8 with quantisation (1/255, 0) (DEQUANTIZE), output uint8 quantised
  (1/255, 0) (QUANTIZE) holding normalised coordinates, as integer exports do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import flatbuffers
import numpy as np
import numpy.typing as npt
import tflite
from tflite.BuiltinOperator import BuiltinOperator as Op
from tflite.BuiltinOptions import BuiltinOptions as Opts
from tflite.TensorType import TensorType

from tests.detection.object_models import BRIGHT, LABEL, LABELS, SCORE

SIZE = 64
_TYPES = {np.dtype(np.float32): TensorType.FLOAT32, np.dtype(np.int32): TensorType.INT32,
          np.dtype(np.uint8): TensorType.UINT8, np.dtype(np.bool_): TensorType.BOOL}
__all__ = ["LABEL", "SIZE", "build_tflite"]


@dataclass
class _Tensor:
    name: str
    shape: list[int]
    dtype: np.dtype[np.generic]
    data: bytes = b""              # a constant's value (empty: computed at run time)
    quant: tuple[float, int] | None = None


@dataclass
class _Graph:
    """Tensors, operators and the operator codes they use, then written as one flatbuffer."""

    tensors: list[_Tensor] = field(default_factory=list)
    ops: list[tuple[int, list[int], list[int], int, dict[str, int]]] = field(
        default_factory=list)
    codes: list[int] = field(default_factory=list)

    def tensor(self, name: str, shape: list[int], dtype: npt.DTypeLike = np.float32,
               quant: tuple[float, int] | None = None) -> int:
        self.tensors.append(_Tensor(name, shape, np.dtype(dtype), quant=quant))
        return len(self.tensors) - 1

    def const(self, name: str, value: npt.ArrayLike, dtype: npt.DTypeLike = np.float32) -> int:
        a = np.asarray(value, dtype=dtype)
        self.tensors.append(_Tensor(name, list(a.shape), a.dtype, a.tobytes()))
        return len(self.tensors) - 1

    def op(self, code: int, inputs: list[int], out: int,
           options: tuple[int, dict[str, int]] = (0, {})) -> int:
        if code not in self.codes:
            self.codes.append(code)
        self.ops.append((self.codes.index(code), inputs, [out], *options))
        return out


def _vector(b: flatbuffers.Builder, start: object, values: list[int] | list[float],
            kind: str = "int32") -> int:
    start(b, len(values))  # type: ignore[operator]
    for v in reversed(values):
        {"int32": b.PrependInt32, "int64": b.PrependInt64, "float": b.PrependFloat32}[kind](v)
    return int(b.EndVector())


def _bytes(b: flatbuffers.Builder, data: bytes) -> int:
    """A [ubyte] vector aligned to 16 bytes (LiteRT maps constant buffers in place)."""
    b.StartVector(1, len(data), 16)
    b.head = b.head - len(data)
    b.Bytes[b.head:b.head + len(data)] = data
    return int(b.EndVector())


def _options(kind: str, **values: int) -> tuple[int, dict[str, int]]:
    """(BuiltinOptions type, its fields) - written later into the model's builder."""
    return int(getattr(Opts, kind)), values


def _write_options(b: flatbuffers.Builder, kind: int, values: dict[str, int]) -> int:
    if kind == Opts.ReducerOptions:
        tflite.ReducerOptionsStart(b)
        tflite.ReducerOptionsAddKeepDims(b, bool(values.get("keep_dims", 0)))
        return int(tflite.ReducerOptionsEnd(b))
    if kind == Opts.ConcatenationOptions:
        tflite.ConcatenationOptionsStart(b)
        tflite.ConcatenationOptionsAddAxis(b, values["axis"])
        return int(tflite.ConcatenationOptionsEnd(b))
    starts = {Opts.MulOptions: (tflite.MulOptionsStart, tflite.MulOptionsEnd),
              Opts.SubOptions: (tflite.SubOptionsStart, tflite.SubOptionsEnd)}
    start, end = starts[kind]
    start(b)  # fused activation NONE (the default)
    return int(end(b))


def _serialise(g: _Graph, inputs: list[int], outputs: list[int]) -> bytes:
    b = flatbuffers.Builder(4096)
    # buffer 0 is the empty one by convention; each constant gets its own
    buffers: list[int] = []
    tflite.BufferStart(b)
    buffers.append(int(tflite.BufferEnd(b)))
    tensor_buffer: list[int] = []
    for t in g.tensors:
        if t.data:
            data = _bytes(b, t.data)
            tflite.BufferStart(b)
            tflite.BufferAddData(b, data)
            buffers.append(int(tflite.BufferEnd(b)))
            tensor_buffer.append(len(buffers) - 1)
        else:
            tensor_buffer.append(0)
    tensors: list[int] = []
    for t, buf in zip(g.tensors, tensor_buffer, strict=True):
        name = b.CreateString(t.name)
        shape = _vector(b, tflite.TensorStartShapeVector, t.shape)
        quant = 0
        if t.quant is not None:
            scale = _vector(b, tflite.QuantizationParametersStartScaleVector, [t.quant[0]],
                            "float")
            zp = _vector(b, tflite.QuantizationParametersStartZeroPointVector, [t.quant[1]],
                         "int64")
            tflite.QuantizationParametersStart(b)
            tflite.QuantizationParametersAddScale(b, scale)
            tflite.QuantizationParametersAddZeroPoint(b, zp)
            quant = int(tflite.QuantizationParametersEnd(b))
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, _TYPES[t.dtype])
        tflite.TensorAddBuffer(b, buf)
        tflite.TensorAddName(b, name)
        if quant:
            tflite.TensorAddQuantization(b, quant)
        tensors.append(int(tflite.TensorEnd(b)))
    operators: list[int] = []
    for code_index, ins, outs, kind, spec in g.ops:
        options = _write_options(b, kind, spec) if kind else 0
        vin = _vector(b, tflite.OperatorStartInputsVector, ins)
        vout = _vector(b, tflite.OperatorStartOutputsVector, outs)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, code_index)
        tflite.OperatorAddInputs(b, vin)
        tflite.OperatorAddOutputs(b, vout)
        if kind:
            tflite.OperatorAddBuiltinOptionsType(b, kind)
            tflite.OperatorAddBuiltinOptions(b, options)
        operators.append(int(tflite.OperatorEnd(b)))
    codes: list[int] = []
    for code in g.codes:
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        tflite.OperatorCodeAddVersion(b, 1)
        codes.append(int(tflite.OperatorCodeEnd(b)))

    def offsets(start: object, items: list[int]) -> int:
        start(b, len(items))  # type: ignore[operator]
        for o in reversed(items):
            b.PrependUOffsetTRelative(o)
        return int(b.EndVector())

    v_tensors = offsets(tflite.SubGraphStartTensorsVector, tensors)
    v_in = _vector(b, tflite.SubGraphStartInputsVector, inputs)
    v_out = _vector(b, tflite.SubGraphStartOutputsVector, outputs)
    v_ops = offsets(tflite.SubGraphStartOperatorsVector, operators)
    name = b.CreateString("bright_object")
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, v_tensors)
    tflite.SubGraphAddInputs(b, v_in)
    tflite.SubGraphAddOutputs(b, v_out)
    tflite.SubGraphAddOperators(b, v_ops)
    tflite.SubGraphAddName(b, name)
    subgraph = int(tflite.SubGraphEnd(b))
    v_codes = offsets(tflite.ModelStartOperatorCodesVector, codes)
    v_subgraphs = offsets(tflite.ModelStartSubgraphsVector, [subgraph])
    v_buffers = offsets(tflite.ModelStartBuffersVector, buffers)
    description = b.CreateString("lightnvr test model: the bright object")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, v_codes)
    tflite.ModelAddSubgraphs(b, v_subgraphs)
    tflite.ModelAddDescription(b, description)
    tflite.ModelAddBuffers(b, v_buffers)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _edges(g: _Graph, hit: int, index_plus_one: int, size_minus_index: int, n: float,
           axis: str) -> tuple[int, int]:
    """(first, 1 + last) index of the bright columns or rows: `hit` is 1 where one is."""
    reduce = _options("ReducerOptions", keep_dims=0)
    axes0 = g.const(f"axes0_{axis}", [0], np.int32)
    hi = g.op(Op.MUL, [hit, index_plus_one], g.tensor(f"hi_{axis}", [SIZE]),
              _options("MulOptions"))
    last = g.op(Op.REDUCE_MAX, [hi, axes0], g.tensor(f"{axis}2", []), reduce)
    lo = g.op(Op.MUL, [hit, size_minus_index], g.tensor(f"lo_{axis}", [SIZE]),
              _options("MulOptions"))
    m = g.op(Op.REDUCE_MAX, [lo, axes0], g.tensor(f"m{axis}1", []), reduce)
    first = g.op(Op.SUB, [g.const(f"n_{axis}", n), m], g.tensor(f"{axis}1", []),
                 _options("SubOptions"))
    return first, last


def build_tflite(path: Path, variant: str = "float32") -> Path:
    """Write the model (`float32` or `uint8`, see the module doc) to `path` and its labels
    to `<stem>.txt`; returns `path`."""
    g = _Graph()
    quantised = variant == "uint8"
    shape = [1, SIZE, SIZE, 3]
    if quantised:
        inp = g.tensor("images", shape, np.uint8, (1 / 255.0, 0))
        x = g.op(Op.DEQUANTIZE, [inp], g.tensor("x01", shape))
    elif variant == "float32":
        inp = x = g.tensor("images", shape)
    else:
        raise ValueError(variant)
    reduce_keep = _options("ReducerOptions", keep_dims=1)
    reduce = _options("ReducerOptions", keep_dims=0)
    gray = g.op(Op.MEAN, [x, g.const("axis_c", [3], np.int32)],
                g.tensor("gray", [1, SIZE, SIZE, 1]), reduce_keep)
    bright = g.op(Op.GREATER, [gray, g.const("bright", BRIGHT)],
                  g.tensor("bright_b", [1, SIZE, SIZE, 1], np.bool_))
    mask = g.op(Op.CAST, [bright], g.tensor("mask", [1, SIZE, SIZE, 1]))
    cols = g.op(Op.REDUCE_MAX, [mask, g.const("axes_c", [0, 1, 3], np.int32)],
                g.tensor("cols", [SIZE]), reduce)
    rows = g.op(Op.REDUCE_MAX, [mask, g.const("axes_r", [0, 2, 3], np.int32)],
                g.tensor("rows", [SIZE]), reduce)
    found = g.op(Op.REDUCE_MAX, [mask, g.const("axes_all", [0, 1, 2, 3], np.int32)],
                 g.tensor("any", []), reduce)
    idx = np.arange(SIZE, dtype=np.float32)
    plus_one, size_minus = g.const("i_plus_1", idx + 1), g.const("n_minus_i", SIZE - idx)
    x1, x2 = _edges(g, cols, plus_one, size_minus, float(SIZE), "x")
    y1, y2 = _edges(g, rows, plus_one, size_minus, float(SIZE), "y")
    score = g.op(Op.MUL, [found, g.const("score_k", SCORE)], g.tensor("score", []),
                 _options("MulOptions"))
    parts = [x1, y1, x2, y2]
    if quantised:  # normalised coordinates: one output scale covers them and the score
        unit = g.const("unit", 1.0 / SIZE)
        parts = [g.op(Op.MUL, [p, unit], g.tensor(f"n{p}", []), _options("MulOptions"))
                 for p in parts]
    shape111 = g.const("shape111", [1, 1, 1], np.int32)
    pieces = [g.op(Op.RESHAPE, [p, shape111], g.tensor(f"r{p}", [1, 1, 1]))
              for p in (*parts, score)]
    pieces.append(g.const("class0", np.zeros((1, 1, 1))))
    out = g.op(Op.CONCATENATION, pieces, g.tensor("output_f", [1, 1, 6]),
               _options("ConcatenationOptions", axis=2))
    if quantised:
        out = g.op(Op.QUANTIZE, [out], g.tensor("output", [1, 1, 6], np.uint8, (1 / 255.0, 0)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_serialise(g, [inp], [out]))
    path.with_suffix(".txt").write_text("\n".join(LABELS) + "\n")
    return path
