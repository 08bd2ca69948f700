"""Rewrites of Kokoro's verified ONNX graph: the same model, 40 % cheaper on one CPU core.

Applied in memory after the pinned SHA-256 check (kokoro_model.py), never saved:

- **Float convolutions.** The int8 export quantizes every Conv's input on the fly
  (DynamicQuantizeLinear -> ConvInteger -> add the quantized bias -> rescale). Each such chain
  becomes one float Conv with the weights dequantized once at load, which is also more exact
  (activations are no longer rounded to 8 bits). The MatMuls and LSTMs stay int8: they cost
  little.
- **2-D convolutions.** onnxruntime's blocked (NCHWc) convolution kernels take only 2-D
  convolutions, and 90 % of a render is the vocoder's 1-D convolutions over the output's frames;
  each 1-D Conv becomes a 2-D one over a height of 1 (Unsqueeze, Conv, Squeeze).
- **Int8 convolutions where 8 bits are enough** (with `ranges`, kokoro_ranges.py). onnxruntime's
  QLinearConv runs ~3x faster than its float Conv here (VNNI/AMX int8 kernels), where the
  export's ConvInteger ran slower than float. The decoder's blocks and the vocoder's residual
  blocks (INT8_CONVS) take it: the input is quantized on the fly as the export did; the output,
  which QLinearConv writes in 8 bits on one fixed scale, gets a scale per channel (folded into
  the weights, undone by a per-channel DequantizeLinear) from the measured ranges. The vocoder's
  source branch (noise_convs, noise_res) and its last layer (conv_post: the spectrum's
  magnitude and phase) stay float: they are where 8 bits were heard (docs/choices.md).

`python -m bench.kokoro_graph` prints what they save: CPU seconds per second of speech on one
thread: 0.64 as exported, 0.51 with float 2-D convolutions, 0.375 with the int8 ones too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

_QUANT_SUFFIX = "_quantized"
# The convolutions that run in int8 (by node name after _float_convs): see the docstring.
INT8_CONVS = re.compile(
    r"^/decoder/decoder/(encode|decode\.\d+|F0_conv|N_conv|generator/resblocks\.\d+)/"
)
# Each output channel's 8 bits span its measured range widened by this factor, so a style that
# drives a channel a little past what was measured is not clipped.
HEADROOM = 1.25

# Per int8 convolution (by output name): each output channel's measured (low, high).
ConvRanges = Mapping[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]


class GraphMismatch(ValueError):
    """The graph is not the kokoro-onnx v1.0 int8 export these rewrites were written for."""


def optimised(model_bytes: bytes, ranges: ConvRanges | None = None) -> bytes:
    """The rewritten model, serialized; GraphMismatch when a pattern it expects is missing.
    Without `ranges` every convolution stays float (how the ranges are measured)."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    _float_convs(model.graph)
    if ranges is not None:
        _int8_convs(model.graph, ranges)
    _two_d_convs(model.graph)
    _drop_dead(model.graph)
    return bytes(model.SerializeToString())


def _float_convs(graph: Any) -> None:
    from onnx import helper, numpy_helper

    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    weights = {init.name: init for init in graph.initializer}

    def array(name: str) -> np.ndarray[Any, Any]:
        return numpy_helper.to_array(weights[name])

    def only_consumer(name: str, op: str) -> Any:
        nodes = consumers[name]
        if len(nodes) != 1 or nodes[0].op_type != op:
            raise GraphMismatch(f"{name} does not feed exactly one {op}")
        return nodes[0]

    # keyed by first output name: unique per node, stable (protobuf wrappers' ids are not)
    replaced: dict[str, Any] = {}
    gone: set[str] = set()
    for node in graph.node:
        if node.op_type != "ConvInteger":
            continue
        quantized_x, quantized_w, _, w_zero = node.input
        quantize = producer.get(quantized_x)
        if quantize is None or quantize.op_type != "DynamicQuantizeLinear":
            raise GraphMismatch(f"{node.name}: its input is not quantized on the fly")
        if not quantized_w.endswith(_QUANT_SUFFIX):
            raise GraphMismatch(f"{node.name}: unexpected weight name {quantized_w}")
        stem = quantized_w[: -len(_QUANT_SUFFIX)]
        weight = (array(quantized_w).astype(np.float32) - array(w_zero).astype(np.float32)) * array(
            stem + "_scale"
        ).astype(np.float32)
        chain = [node]
        bias: list[str] = []
        nxt = consumers[node.output[0]]
        if nxt and nxt[0].op_type == "Add":  # bias in int32, then Cast, then the scale
            add = only_consumer(node.output[0], "Add")
            cast = only_consumer(add.output[0], "Cast")
            scale = only_consumer(cast.output[0], "Mul")
            chain += [add, cast, scale]
            bias = [_float_bias(add, producer)]
        else:  # Cast, the scale; the float bias is added after (left as it is)
            cast = only_consumer(node.output[0], "Cast")
            scale = only_consumer(cast.output[0], "Mul")
            chain += [cast, scale]
        graph.initializer.append(numpy_helper.from_array(weight, stem + "_float"))
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        replaced[node.output[0]] = helper.make_node(
            "Conv",
            [quantize.input[0], stem + "_float", *bias],
            [scale.output[0]],
            name=f"{node.name}_float",
            **attributes,
        )
        gone.update(n.output[0] for n in chain)
    if not replaced:
        raise GraphMismatch("no ConvInteger to rewrite")
    kept = [n for n in graph.node if n.output[0] not in gone or n.output[0] in replaced]
    _replace_nodes(graph, [replaced.get(n.output[0], n) for n in kept])


def _float_bias(add: Any, producer: dict[str, Any]) -> str:
    """The float bias behind Add(conv, Reshape(Cast(Floor(Div(bias, scale)))))."""
    node = producer.get(add.input[1])
    for op in ("Reshape", "Cast", "Floor", "Div"):
        if node is None or node.op_type != op:
            raise GraphMismatch(f"{add.name}: its bias is not a quantized float bias")
        if op != "Div":
            node = producer.get(node.input[0])
    assert node is not None
    return str(node.input[0])


def int8_candidates(model_bytes: bytes) -> list[str]:
    """The output names of the convolutions that run in int8 (the ranges' keys)."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    _float_convs(model.graph)
    return int8_conv_outputs(model.graph)


def int8_conv_outputs(graph: Any) -> list[str]:
    """The output names of the float 1-D convolutions INT8_CONVS selects."""
    weights = {init.name: init for init in graph.initializer}
    return [
        node.output[0]
        for node in graph.node
        if node.op_type == "Conv"
        and INT8_CONVS.match(node.name)
        and len(getattr(weights.get(node.input[1]), "dims", ())) == 3
    ]


def _int8_convs(graph: Any, ranges: ConvRanges) -> None:
    from onnx import TensorProto, helper, numpy_helper

    chosen = set(int8_conv_outputs(graph))
    if not chosen:
        raise GraphMismatch("no convolution to run in int8")
    if missing := chosen - set(ranges):
        raise GraphMismatch(f"no measured range for {sorted(missing)[0]}")
    weights = {init.name: init for init in graph.initializer}
    nodes: list[Any] = []
    for node in graph.node:
        if node.output[0] not in chosen:
            nodes.append(node)
            continue
        y = node.output[0]
        w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        bias = np.zeros(w.shape[0], np.float32)
        if len(node.input) > 2 and node.input[2]:
            if node.input[2] not in weights:
                raise GraphMismatch(f"{node.name}: its bias is not a constant")
            bias = numpy_helper.to_array(weights[node.input[2]]).astype(np.float32)
        q = _channel_scaled(w, bias, *ranges[y])
        p = f"{y}_int8"
        graph.initializer.extend(
            numpy_helper.from_array(np.asarray(value), f"{p}_{key}") for key, value in q.items()
        )
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        nodes += [
            helper.make_node(
                "DynamicQuantizeLinear", [node.input[0]], [f"{p}_x", f"{p}_xs", f"{p}_xz"]
            ),
            # the bias, in QLinearConv's units: x's scale (known only now) times w's
            helper.make_node("Mul", [f"{p}_xs", f"{p}_ws"], [f"{p}_bs"]),
            helper.make_node("Div", [f"{p}_b", f"{p}_bs"], [f"{p}_bd"]),
            helper.make_node("Round", [f"{p}_bd"], [f"{p}_br"]),
            helper.make_node("Cast", [f"{p}_br"], [f"{p}_bi"], to=TensorProto.INT32),
            helper.make_node(
                "QLinearConv",
                [f"{p}_{n}" for n in ("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bi")],
                [f"{p}_y"],
                name=f"{node.name}_int8",
                **attributes,
            ),
            helper.make_node("DequantizeLinear", [f"{p}_y", f"{p}_ds", f"{p}_dz"], [y], axis=1),
        ]
    _replace_nodes(graph, nodes)


def _channel_scaled(
    w: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
    low: npt.NDArray[np.float32],
    high: npt.NDArray[np.float32],
) -> dict[str, npt.NDArray[Any]]:
    """QLinearConv's constants for y = w * x + bias with per-channel output ranges.

    Channel c is computed as (y_c - mid_c) / half_c, so every channel spans [-1, 1] of one
    8-bit scale `ys` (zero point 128), and dequantized with scale half_c * ys and its own zero
    point; the zero point's rounding is taken back out of the bias.
    """
    mid = (low + high) / 2
    half = np.maximum((high - low) / 2, 1e-4) * HEADROOM
    ys = np.float32(2 / 255)
    ds = (half * ys).astype(np.float32)
    exact = 128 - mid / ds
    dz = np.clip(np.round(exact), 0, 255)
    scaled = w / half[:, None, None]
    ws = np.maximum(np.abs(scaled).reshape(len(w), -1).max(axis=1), 1e-12) / 127
    return {
        "w": np.clip(np.round(scaled / ws[:, None, None]), -127, 127).astype(np.int8),
        "ws": ws.astype(np.float32),
        "wz": np.zeros(len(w), np.int8),
        "ys": np.array(ys, np.float32),
        "yz": np.array(128, np.uint8),
        "b": ((bias - mid) / half - (exact - dz) * ys).astype(np.float32),
        "ds": ds,
        "dz": dz.astype(np.uint8),
    }


def _two_d_convs(graph: Any) -> None:
    from onnx import helper, numpy_helper

    weights = {init.name: init for init in graph.initializer}
    axis = "kokoro_graph_height_axis"
    graph.initializer.append(numpy_helper.from_array(np.array([2], np.int64), axis))
    nodes: list[Any] = []
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "Conv" else None
        if weight is None or len(weight.dims) != 3:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weight)
        graph.initializer.append(
            numpy_helper.from_array(w[:, :, None, :].copy(), weight.name + "_2d")
        )
        a = {attr.name: helper.get_attribute_value(attr) for attr in node.attribute}
        pads = a.get("pads", [0, 0])
        x, y = f"{node.output[0]}_in_2d", f"{node.output[0]}_2d"
        nodes += [
            helper.make_node("Unsqueeze", [node.input[0], axis], [x]),
            helper.make_node(
                "Conv",
                [x, weight.name + "_2d", *node.input[2:]],
                [y],
                name=f"{node.name}_2d",
                kernel_shape=[1, w.shape[2]],
                pads=[0, pads[0], 0, pads[1]],
                dilations=[1, a.get("dilations", [1])[0]],
                strides=[1, a.get("strides", [1])[0]],
                group=a.get("group", 1),
            ),
            helper.make_node("Squeeze", [y, axis], [node.output[0]]),
        ]
    _replace_nodes(graph, nodes)


def _replace_nodes(graph: Any, nodes: list[Any]) -> None:
    del graph.node[:]
    graph.node.extend(nodes)


def _drop_dead(graph: Any) -> None:
    """Nodes and initializers nothing downstream of the outputs reads (the int8 remnants)."""
    needed = {out.name for out in graph.output}
    live: list[Any] = []
    for node in reversed(graph.node):
        if any(out in needed for out in node.output):
            live.append(node)
            needed.update(name for name in node.input if name)
    _replace_nodes(graph, live[::-1])
    kept = [init for init in graph.initializer if init.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(kept)
