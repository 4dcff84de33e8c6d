"""Tiny ONNX object models built in the tests with the `onnx` package (nothing downloaded).

Every model finds "the bright object": the pixels whose mean of R, G, B is above BRIGHT (the
test camera's `objects264` mount shows a white ball over colour bars no brighter than ~0.8),
and answers one box around them, class 0 (label LABEL in the labels file written beside the
model), score SCORE when there is such a pixel and 0 otherwise. The same computation is
wrapped in each output layout the engine decodes (end2end [1,1,6], YOLOv5 and YOLOv8 raw
heads with several overlapping candidates that NMS must merge, SSD's four outputs), with
float32, uint8 or int8 input, and float or quantised (uint8/int8 QuantizeLinear) outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BRIGHT = 0.9
SCORE = 0.9
LABEL = "ball"
LABELS = (LABEL, "other")
CANDIDATES = 8  # rows of the raw YOLO heads: the same box, decreasing scores, jittered


def _const(name: str, value: Any) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def build(path: Path, layout: str = "end2end", size: tuple[int, int] = (128, 128),
          input_type: str = "float32", output_quant: str = "", normalised: bool = False,
          nhwc: bool = False) -> Path:
    """Write the model to `path` and its labels to `<stem>.txt`; returns `path`."""
    w, h = size
    # one scale per tensor: quantised outputs hold normalised boxes (as int8 exports do),
    # so the scores and the coordinates share 0..1
    normalised = normalised or bool(output_quant)
    nodes: list[onnx.NodeProto] = []
    inits = [_const("xs", np.arange(w, dtype=np.float32)),
             _const("ys", np.arange(h, dtype=np.float32)),
             _const("W", np.float32(w)), _const("H", np.float32(h)),
             _const("bright", np.float32(BRIGHT)), _const("score_k", np.float32(SCORE)),
             _const("one", np.float32(1.0)), _const("zero", np.float32(0.0)),
             _const("div255", np.float32(1 / 255.0)), _const("i8off", np.float32(128.0)),
             _const("shape111", np.array([1, 1, 1], dtype=np.int64))]
    onnx_type = {"float32": TensorProto.FLOAT, "uint8": TensorProto.UINT8,
                 "int8": TensorProto.INT8}[input_type]
    shape = [1, h, w, 3] if nhwc else [1, 3, h, w]
    inp = helper.make_tensor_value_info("images", onnx_type, shape)
    x = "images"
    if input_type != "float32":  # pixels (uint8) or pixel - 128 (int8) -> 0..1
        nodes.append(helper.make_node("Cast", [x], ["xf"], to=TensorProto.FLOAT))
        src = "xf"
        if input_type == "int8":
            nodes.append(helper.make_node("Add", ["xf", "i8off"], ["xu"]))
            src = "xu"
        nodes.append(helper.make_node("Mul", [src, "div255"], ["x01"]))
        x = "x01"
    if nhwc:
        nodes.append(helper.make_node("Transpose", [x], ["xc"], perm=[0, 3, 1, 2]))
        x = "xc"
    n = nodes.append
    n(helper.make_node("ReduceMean", [x], ["gray"], axes=[1], keepdims=1))
    n(helper.make_node("Greater", ["gray", "bright"], ["mb"]))
    n(helper.make_node("Cast", ["mb"], ["mask"], to=TensorProto.FLOAT))      # [1,1,H,W]
    n(helper.make_node("ReduceMax", ["mask"], ["colm"], axes=[0, 1, 2], keepdims=0))  # [W]
    n(helper.make_node("ReduceMax", ["mask"], ["rowm"], axes=[0, 1, 3], keepdims=0))  # [H]
    n(helper.make_node("ReduceMax", ["mask"], ["any"], keepdims=0))
    # x2 = 1 + last bright column; x1 = first bright column = W - max(colm * (W - xs))
    n(helper.make_node("Add", ["xs", "one"], ["xs1"]))
    n(helper.make_node("Mul", ["colm", "xs1"], ["cx2"]))
    n(helper.make_node("ReduceMax", ["cx2"], ["x2"], keepdims=0))
    n(helper.make_node("Sub", ["W", "xs"], ["wx"]))
    n(helper.make_node("Mul", ["colm", "wx"], ["cx1"]))
    n(helper.make_node("ReduceMax", ["cx1"], ["mx1"], keepdims=0))
    n(helper.make_node("Sub", ["W", "mx1"], ["x1"]))
    n(helper.make_node("Add", ["ys", "one"], ["ys1"]))
    n(helper.make_node("Mul", ["rowm", "ys1"], ["cy2"]))
    n(helper.make_node("ReduceMax", ["cy2"], ["y2"], keepdims=0))
    n(helper.make_node("Sub", ["H", "ys"], ["hy"]))
    n(helper.make_node("Mul", ["rowm", "hy"], ["cy1"]))
    n(helper.make_node("ReduceMax", ["cy1"], ["my1"], keepdims=0))
    n(helper.make_node("Sub", ["H", "my1"], ["y1"]))
    n(helper.make_node("Mul", ["any", "score_k"], ["score"]))
    if normalised or layout == "ssd":
        for a, d in (("x1", "W"), ("x2", "W"), ("y1", "H"), ("y2", "H")):
            n(helper.make_node("Div", [a, d], [a + "n"]))
        bx1, by1, bx2, by2 = "x1n", "y1n", "x2n", "y2n"
    else:
        bx1, by1, bx2, by2 = "x1", "y1", "x2", "y2"
    for name in (bx1, by1, bx2, by2, "score", "zero", "one"):
        n(helper.make_node("Reshape", [name, "shape111"], [name + "_r"]))
    unit = 1.0 / max(w, h) if normalised or layout == "ssd" else 1.0  # one input pixel
    outputs, final = _layout(layout, nodes, inits, (bx1, by1, bx2, by2), unit)
    if output_quant:
        final = _quantise(output_quant, nodes, inits, final, normalised or layout == "ssd")
    graph = helper.make_graph(nodes, "bright_object", [inp], final, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    path.with_suffix(".txt").write_text("\n".join(LABELS) + "\n")
    del outputs
    return path


def _out(name: str, shape: list[int]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _layout(layout: str, nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto],
            box: tuple[str, str, str, str], unit: float
            ) -> tuple[list[str], list[onnx.ValueInfoProto]]:
    n = nodes.append
    x1, y1, x2, y2 = (b + "_r" for b in box)
    if layout == "end2end":
        n(helper.make_node("Concat", [x1, y1, x2, y2, "score_r", "zero_r"], ["output"], axis=2))
        return ["output"], [_out("output", [1, 1, 6])]
    if layout == "ssd":
        n(helper.make_node("Concat", [y1, x1, y2, x2], ["boxes"], axis=2))          # [1,1,4]
        n(helper.make_node("Reshape", ["score", "shape11"], ["scores"]))             # [1,1]
        n(helper.make_node("Reshape", ["zero", "shape11"], ["classes"]))
        n(helper.make_node("Reshape", ["one", "shape1"], ["count"]))
        inits += [_const("shape11", np.array([1, 1], dtype=np.int64)),
                  _const("shape1", np.array([1], dtype=np.int64))]
        names = ["boxes", "classes", "scores", "count"]
        return names, [_out("boxes", [1, 1, 4]), _out("classes", [1, 1]),
                       _out("scores", [1, 1]), _out("count", [1])]
    # raw heads: centre and size, then CANDIDATES rows of the same box (jittered by up to
    # 1 px, scores falling) - NMS must leave one
    n(helper.make_node("Add", [x1, x2], ["sx"]))
    n(helper.make_node("Mul", ["sx", "half"], ["cx"]))
    n(helper.make_node("Add", [y1, y2], ["sy"]))
    n(helper.make_node("Mul", ["sy", "half"], ["cy"]))
    n(helper.make_node("Sub", [x2, x1], ["bw"]))
    n(helper.make_node("Sub", [y2, y1], ["bh"]))
    inits += [_const("half", np.float32(0.5)),
              _const("jitter", np.linspace(0, unit, CANDIDATES, dtype=np.float32
                                           ).reshape(1, CANDIDATES, 1)),
              _const("decay", np.linspace(1, 0.7, CANDIDATES, dtype=np.float32
                                          ).reshape(1, CANDIDATES, 1))]
    n(helper.make_node("Add", ["cx", "jitter"], ["cxs"]))                    # [1,N,1]
    n(helper.make_node("Add", ["cy", "jitter"], ["cys"]))
    n(helper.make_node("Add", ["bw", "jitter"], ["bws"]))
    n(helper.make_node("Add", ["bh", "jitter"], ["bhs"]))
    n(helper.make_node("Mul", ["score_r", "decay"], ["ss"]))
    n(helper.make_node("Mul", ["zero_r", "decay"], ["zs"]))
    n(helper.make_node("Add", ["zs", "one_r"], ["ones"]))
    if layout == "yolov5":  # objectness = score, class scores (1, 0)
        n(helper.make_node("Concat", ["cxs", "cys", "bws", "bhs", "ss", "ones", "zs"],
                           ["output"], axis=2))
        return ["output"], [_out("output", [1, CANDIDATES, 7])]
    if layout == "yolov8":  # class scores (score, 0); Ultralytics' [1, 4 + classes, N]
        n(helper.make_node("Concat", ["cxs", "cys", "bws", "bhs", "ss", "zs"], ["rows"],
                           axis=2))
        n(helper.make_node("Transpose", ["rows"], ["output"], perm=[0, 2, 1]))
        return ["output"], [_out("output", [1, 6, CANDIDATES])]
    raise ValueError(layout)


def _quantise(kind: str, nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto],
              outs: list[onnx.ValueInfoProto], normalised: bool) -> list[onnx.ValueInfoProto]:
    """Each float output through QuantizeLinear: uint8 / int8 with a scale that covers
    0..1 (normalised) or 0..255 pixels."""
    dtype = np.uint8 if kind == "uint8" else np.int8
    top = 255 if dtype == np.uint8 else 127
    scale = (1.0 if normalised else 256.0) / top
    inits += [_const("q_scale", np.float32(scale)), _const("q_zp", dtype(0))]
    final: list[onnx.ValueInfoProto] = []
    for o in outs:
        dims = [d.dim_value for d in o.type.tensor_type.shape.dim]
        nodes.append(helper.make_node("QuantizeLinear", [o.name, "q_scale", "q_zp"],
                                      [o.name + "_q"]))
        final.append(helper.make_tensor_value_info(
            o.name + "_q", TensorProto.UINT8 if dtype == np.uint8 else TensorProto.INT8, dims))
    return final


def build_wrong_layout(path: Path, size: tuple[int, int] = (32, 32)) -> Path:
    """A model whose only output is [1, 3] (the mean colour): no detector layout."""
    w, h = size
    inp = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, h, w])
    node = helper.make_node("ReduceMean", ["images"], ["mean"], axes=[2, 3], keepdims=0)
    graph = helper.make_graph([node], "not_a_detector", [inp], [_out("mean", [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
