"""kokoro_graph.py: each rewrite on small graphs built here (and dynamically quantized by
onnxruntime's own tool, as the export was), then on the real model against the export itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import quantize_dynamic
from scipy.signal import stft

from vocalis.worker.engines import kokoro_graph, kokoro_model, kokoro_ranges
from vocalis.worker.engines.kokoro_graph import HEADROOM, GraphMismatch
from vocalis.worker.engines.kokoro_model import (
    PINNED,
    SAMPLE_RATE,
    KokoroModel,
    ModelFiles,
    ModelUnavailable,
    verified_bytes,
)
from vocalis.worker.engines.kokoro_phonemes import phonemize


def conv_model(bias: bool, **attributes: Any) -> onnx.ModelProto:
    """x (1, 8, 40) -> Conv1D(16 channels, kernel 5) -> LeakyRelu -> y."""
    rng = np.random.default_rng(7)
    group = attributes.get("group", 1)
    inits = [numpy_helper.from_array(rng.normal(size=(16, 8 // group, 5)).astype(np.float32), "w")]
    if bias:
        inits.append(numpy_helper.from_array(rng.normal(size=16).astype(np.float32), "b"))
    nodes = [
        helper.make_node("Conv", ["x", "w", *(["b"] if bias else [])], ["c"], **attributes),
        helper.make_node("LeakyRelu", ["c"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 40])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model: onnx.ModelProto | bytes, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    blob = model if isinstance(model, bytes) else model.SerializeToString()
    session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


def quantized(model: onnx.ModelProto, tmp_path: Path) -> onnx.ModelProto:
    source, target = tmp_path / "float.onnx", tmp_path / "int8.onnx"
    onnx.save(model, source)
    quantize_dynamic(source, target)
    return onnx.load(target)


X = np.random.default_rng(3).normal(size=(1, 8, 40)).astype(np.float32)


@pytest.mark.parametrize("bias", [True, False])
def test_a_quantized_conv_becomes_a_float_conv_with_the_dequantized_weights(
    bias: bool, tmp_path: Path
) -> None:
    original = conv_model(bias, pads=[2, 2])
    int8 = quantized(original, tmp_path)
    assert "ConvInteger" in {node.op_type for node in int8.graph.node}
    graph = onnx.ModelProto()
    graph.CopyFrom(int8)
    kokoro_graph._float_convs(graph.graph)
    kokoro_graph._drop_dead(graph.graph)
    ops = {node.op_type for node in graph.graph.node}
    assert "ConvInteger" not in ops and "DynamicQuantizeLinear" not in ops
    expected, exact_int8, rewritten = run(original, X), run(int8, X), run(graph, X)
    # only the weights' rounding is left: closer to the float model than the int8 one is
    assert np.abs(rewritten - expected).max() < 0.05 * np.abs(expected).max()
    assert np.abs(rewritten - expected).mean() < np.abs(exact_int8 - expected).mean()


@pytest.mark.parametrize(
    "attributes",
    [
        {"pads": [2, 2]},
        {"pads": [6, 6], "dilations": [3]},
        {"pads": [1, 3], "strides": [2]},
        {"pads": [2, 2], "group": 2},
    ],
)
def test_a_1d_conv_becomes_an_identical_2d_conv(attributes: dict[str, Any]) -> None:
    original = conv_model(True, **attributes)
    graph = onnx.ModelProto()
    graph.CopyFrom(original)
    kokoro_graph._two_d_convs(graph.graph)
    conv = next(node for node in graph.graph.node if node.op_type == "Conv")
    kernel = next(a for a in conv.attribute if a.name == "kernel_shape")
    assert list(helper.get_attribute_value(kernel)) == [1, 5]
    assert len(next(i for i in graph.graph.initializer if i.name == conv.input[1]).dims) == 4
    np.testing.assert_allclose(run(graph, X), run(original, X), rtol=1e-5, atol=1e-5)


def test_a_graph_that_is_not_the_export_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(GraphMismatch, match="no ConvInteger"):
        kokoro_graph.optimised(conv_model(True).SerializeToString())

    def mismatch(model: bytes, ranges: object = None) -> bytes:
        raise GraphMismatch("no ConvInteger to rewrite")

    monkeypatch.setattr(kokoro_model, "optimised", mismatch)  # what a job would then see
    with pytest.raises(ModelUnavailable, match="could not be prepared: no ConvInteger"):
        KokoroModel()


INT8_NAME = "/decoder/decoder/encode/conv1/Conv_quant_float"  # a name INT8_CONVS selects


def float_conv_model() -> onnx.ModelProto:
    """x (1, 8, 40) -> a float Conv1D with a bias, its 16 output channels spanning 0.01x-100x."""
    rng = np.random.default_rng(11)
    gains = np.logspace(-2, 2, 16).astype(np.float32)
    weight = rng.normal(size=(16, 8, 5)).astype(np.float32) * gains[:, None, None]
    bias = (rng.normal(size=16).astype(np.float32) + 3.0) * gains  # off-centre channels
    conv = helper.make_node("Conv", ["x", "w", "b"], ["y"], name=INT8_NAME, pads=[2, 2])
    graph = helper.make_graph(
        [conv],
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 40])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_selected_conv_runs_in_int8_with_a_scale_per_output_channel() -> None:
    original = float_conv_model()
    expected = run(original, X)
    ranges = {"y": (expected.min(axis=(0, 2)), expected.max(axis=(0, 2)))}
    graph = onnx.ModelProto()
    graph.CopyFrom(original)
    assert kokoro_graph.int8_conv_outputs(graph.graph) == ["y"]
    kokoro_graph._int8_convs(graph.graph, ranges)
    kokoro_graph._drop_dead(graph.graph)
    assert {n.op_type for n in graph.graph.node} >= {"QLinearConv", "DequantizeLinear"}
    assert "Conv" not in {n.op_type for n in graph.graph.node}
    rewritten = run(graph, X)
    span = (ranges["y"][1] - ranges["y"][0])[None, :, None]
    error = np.abs(rewritten - expected) / span  # per channel, in its own range's units
    # 8 bits over each channel's range (with headroom): a step is 0.5 % of it; one fixed scale
    # for all channels would leave the 0.01x channels a fraction of one step
    assert error.max() < 0.01
    offset = np.abs((rewritten - expected).mean(axis=2) / span[..., 0]).max()
    assert offset < 0.0025, "the zero points' rounding is taken back out of the bias"


def test_an_int8_conv_without_a_measured_range_is_refused() -> None:
    graph = float_conv_model().graph
    with pytest.raises(GraphMismatch, match="no measured range for y"):
        kokoro_graph._int8_convs(graph, {})


@pytest.fixture(scope="module")
def export_bytes() -> bytes:
    return verified_bytes(ModelFiles.installed().parts, PINNED["model"], "model")


def test_the_shipped_ranges_are_the_pinned_models_and_cover_every_int8_conv(
    export_bytes: bytes, tmp_path: Path
) -> None:
    ranges = kokoro_ranges.load(PINNED["model"])
    assert set(ranges) == set(kokoro_graph.int8_candidates(export_bytes))
    assert all(np.all(low <= high) for low, high in ranges.values())
    other = tmp_path / "ranges.npz"
    kokoro_ranges.save(ranges, "0" * 64, other)
    with pytest.raises(GraphMismatch, match="measured on another model"):
        kokoro_ranges.load(PINNED["model"], other)


def test_ranges_of_another_model_refuse_to_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "ranges.npz"
    kokoro_ranges.save({"y": (np.zeros(1, np.float32), np.ones(1, np.float32))}, "0" * 64, other)
    monkeypatch.setattr(kokoro_ranges, "RANGES_FILE", other)
    with pytest.raises(ModelUnavailable, match="could not be prepared: .*another model"):
        KokoroModel()


def test_a_style_never_measured_stays_within_the_shipped_ranges(
    export_bytes: bytes, model: KokoroModel
) -> None:
    """Another seed's mixture (a style like a fit's, never measured) reading a sentence never
    read: a channel past its range is clipped, so few may be, and not by much."""
    probe = kokoro_ranges.Probe(export_bytes)
    style = kokoro_ranges.styles(model.packs, 1, seed=kokoro_ranges.SEED + 1)[-1]
    tokens = model.tokens(phonemize("Quick, fetch the seven blue jars!", "English"))
    shipped = kokoro_ranges.load(PINNED["model"])
    measured = probe.ranges(tokens, style)
    assert set(measured) == set(shipped)
    for name, (low, high) in measured.items():
        mid = (shipped[name][0] + shipped[name][1]) / 2
        half = np.maximum((shipped[name][1] - shipped[name][0]) / 2, 1e-4)
        reach = np.maximum(high - mid, mid - low) / half  # 1: the edge of the measured range
        assert np.mean(reach > HEADROOM) < 0.01, f"{name}: 1 % of its channels clip"
        assert reach.max() < 2 * HEADROOM, f"{name}: a channel far past its range"


@pytest.fixture(scope="module")
def export() -> Any:
    """The int8 export as it ships, unrewritten."""
    model = verified_bytes(ModelFiles.installed().parts, PINNED["model"], "model")
    return onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def model() -> KokoroModel:
    return KokoroModel(threads=1)


def log_spectrogram(audio: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """dB magnitudes, 20 ms frames: the vocoder's phase drifts with any change of pitch, so
    waveforms of the same speech need not correlate."""
    _, _, spectrum = stft(audio, SAMPLE_RATE, nperseg=480)
    return np.asarray(20 * np.log10(np.abs(spectrum) + 1e-5))


def similar(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(np.corrcoef(log_spectrogram(a).ravel(), log_spectrogram(b).ravel())[0, 1])


def test_the_rewritten_model_says_what_the_export_says(export: Any, model: KokoroModel) -> None:
    tokens = model.tokens(phonemize("Please call Stella.", "English"))
    style = model.packs["jf_alpha"]
    exported = np.asarray(
        export.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style[len(tokens) - 1].reshape(1, -1),
                "speed": np.array([1.0], dtype=np.float32),
            },
        )[0]
    ).ravel()
    rendered = model.render(tokens, style)
    assert len(rendered) == len(exported), "the durations are the export's"
    assert similar(rendered, exported) > 0.9, "float convolutions: the same speech"
    assert similar(rendered, exported[::-1]) < 0.5, "the measure tells different audio apart"
