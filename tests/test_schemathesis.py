"""Schemathesis against the app's own OpenAPI, on a real `vocalis serve`, as a signed-in user:
generated requests for every documented operation get no 5xx and no hang."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve_process import Studio, serving

pytestmark = pytest.mark.slow


def test_no_operation_answers_5xx_or_hangs(tmp_path: Path) -> None:
    with serving(tmp_path / "data", {"VOCALIS_ENGINE": "tone"}) as serve:
        studio = Studio.sign_up(serve.base, tmp_path)
        token = studio.headers["Authorization"]
        command = [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{serve.base}/api/openapi.json",
            "--header",
            f"Authorization: {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "6",
            "--request-timeout",
            "30",
            "--generation-deterministic",
            "--no-color",
        ]
        # In tmp_path: st keeps a cache of crashes under its working directory.
        result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
        studio.close()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
