"""The Modal deployment, imported for real: the `modal` client library builds the App, its image
and its GPU class at import time without contacting Modal (a connection attempt fails the test),
and the worker settings the container will read bind to QwenEngine's constructor."""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import socket
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import modal
import pytest

from vocalis.worker.config import WorkerSettings
from vocalis.worker.engines import ENGINES
from vocalis.worker.engines.qwen import QwenEngine

REPO = Path(__file__).resolve().parents[2]
MODAL_APP = REPO / "deploy" / "modal" / "app.py"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every outgoing connection attempt is recorded and refused."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        raise ConnectionRefusedError(f"test: no connections ({address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def _import_app(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """Import deploy/modal/app.py as `modal deploy` would, with only `env` as its knobs."""
    for key in list(os.environ):
        if key.startswith(("VOCALIS_MODAL_", "VOCALIS_WORKER_")):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("vocalis_modal_app", MODAL_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_app_builds_offline(monkeypatch: pytest.MonkeyPatch, no_network: list[Any]) -> None:
    app = _import_app(monkeypatch)
    assert isinstance(app.app, modal.App) and app.app.name == "vocalis-worker"
    assert isinstance(app.Worker, modal.Cls)
    assert isinstance(app.download_weights, modal.Function)
    assert isinstance(app.image, modal.Image)
    assert no_network == []


@pytest.mark.parametrize("size", ["1.7B", "0.6B"])
def test_the_container_settings_bind_to_the_engine_constructor(
    monkeypatch: pytest.MonkeyPatch, no_network: list[Any], size: str
) -> None:
    app = _import_app(monkeypatch, VOCALIS_MODAL_MODEL=size)
    # Inside the container: the app's env, plus the token from the Modal Secret.
    for key, value in app.WORKER_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VOCALIS_WORKER_TOKEN", "from-the-secret")
    settings = WorkerSettings()

    assert settings.engine == "qwen" and ENGINES["qwen"].endswith(":QwenEngine")
    assert (settings.execution, settings.concurrency) == ("thread", 1)
    # Worker.load calls QwenEngine(**settings.engine_options): a renamed or removed parameter
    # makes this bind fail.
    bound = inspect.signature(QwenEngine).bind(**settings.engine_options)
    assert (bound.arguments["model_id"], bound.arguments["revision"]) == app.MODELS[size]
    design = (bound.arguments["design_model_id"], bound.arguments["design_revision"])
    assert design == app.DESIGN_MODEL
    assert no_network == []


def test_a_renamed_parameter_would_fail_the_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check above can fail: the same options against a constructor whose revision
    # parameter was renamed.
    app = _import_app(monkeypatch)

    def renamed(model_id: str, design_model_id: str, model_revision: str | None = None) -> None:
        del model_id, design_model_id, model_revision

    with pytest.raises(TypeError):
        inspect.signature(renamed).bind(**app._engine_options())


def test_the_image_runs_the_versions_the_qwen_lane_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    # .ci/qwen tests QwenEngine with the `qwen-runtime` extra; the Modal image pins its own list.
    # Where both name a package, the versions must be the same.
    app = _import_app(monkeypatch)
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"]["optional-dependencies"]
    tested = _pins([*extras["qwen-runtime"], *extras["qwen"]])
    deployed = _pins(app.PACKAGES)
    shared = tested.keys() & deployed.keys()
    assert {"torch", "torchaudio", "transformers", "accelerate", "qwen-tts"} <= shared
    assert {name: deployed[name] for name in shared} == {name: tested[name] for name in shared}


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^;\s]+)", requirement.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins
