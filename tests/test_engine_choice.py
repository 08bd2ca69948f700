"""`vocalis serve --engine`: which engine the embedded worker gets, and a clear refusal (with the
command that fixes it) when the chosen one cannot run here — before anything starts."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vocalis.embedded_worker import free_port
from vocalis.engine_choice import EngineUnavailable, choose_engine, models_dir
from vocalis.models import DONE_MARKER, QWEN_MODELS, is_pulled, pull

QWEN_INSTALLED = importlib.util.find_spec("qwen_tts") is not None


def pretend_qwen_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return object() if name in ("qwen_tts", "torch") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def pulled(data_dir: Path) -> None:
    for spec in QWEN_MODELS.values():
        folder = models_dir(data_dir) / spec.folder
        folder.mkdir(parents=True)
        (folder / DONE_MARKER).write_text(spec.revision)


def test_local_and_tone_need_nothing(tmp_path: Path) -> None:
    assert choose_engine("local", tmp_path).name == "local"
    assert choose_engine("tone", tmp_path).name == "tone"


def test_the_local_engine_keeps_its_voice_cache_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every worker process and restart shares one cache: a voice's style fit costs a minute."""
    cache = str(tmp_path / "voice-cache")
    assert choose_engine("local", tmp_path).options == {"cache_dir": cache}
    if not QWEN_INSTALLED:  # auto falls back to local
        assert choose_engine("auto", tmp_path).options == {"cache_dir": cache}
    monkeypatch.setenv("VOCALIS_WORKER_ENGINE_OPTIONS", '{"cache_dir": "/elsewhere"}')
    assert choose_engine("local", tmp_path).options == {"cache_dir": "/elsewhere"}  # the user's


def test_an_unknown_engine_is_refused_with_the_choices(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="unknown engine 'klingon'; one of .*local"):
        choose_engine("klingon", tmp_path)


@pytest.mark.skipif(QWEN_INSTALLED, reason="the qwen extra is installed here")
def test_qwen_without_its_extra_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match=r"pip install -e '\.\[qwen\]'"):
        choose_engine("qwen", tmp_path)
    auto = choose_engine("auto", tmp_path)
    assert auto.name == "local" and "qwen extra is not installed" in auto.why


def test_qwen_without_its_weights_says_to_pull_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pretend_qwen_is_installed(monkeypatch)
    with pytest.raises(EngineUnavailable, match="run `vocalis models pull qwen`"):
        choose_engine("qwen", tmp_path)


def test_pulled_weights_are_what_the_qwen_engine_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pretend_qwen_is_installed(monkeypatch)
    pulled(tmp_path)
    monkeypatch.setenv("VOCALIS_WORKER_ENGINE_OPTIONS", '{"device": "cpu"}')
    choice = choose_engine("qwen", tmp_path)
    assert choice.name == "qwen"
    assert choice.options == {
        "model_id": str(models_dir(tmp_path) / QWEN_MODELS["model_id"].folder),
        "design_model_id": str(models_dir(tmp_path) / QWEN_MODELS["design_model_id"].folder),
        "device": "cpu",  # the user's own options ride along
    }


def test_an_interrupted_pull_is_not_pulled(tmp_path: Path) -> None:
    spec = QWEN_MODELS["model_id"]
    (tmp_path / spec.folder).mkdir()  # files arrived, the marker (written last) did not
    assert not is_pulled(tmp_path, spec)
    (tmp_path / spec.folder / DONE_MARKER).write_text(spec.revision)
    assert is_pulled(tmp_path, spec)


def test_pulling_what_is_here_downloads_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("huggingface_hub")
    pulled(tmp_path)
    paths = pull("qwen", models_dir(tmp_path))
    assert paths == [models_dir(tmp_path) / spec.folder for spec in QWEN_MODELS.values()]
    assert capsys.readouterr().out.count("already here") == len(QWEN_MODELS)


@pytest.mark.skipif(QWEN_INSTALLED, reason="the qwen extra is installed here")
def test_serve_refuses_an_engine_it_cannot_run_before_starting_anything(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOCALIS_")}
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "vocalis.cli", "serve", "--engine", "qwen"]
        + ["--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result
    assert "error: the qwen engine cannot start" in result.stderr, result.stderr
    assert "Starting the local worker" not in result.stdout
