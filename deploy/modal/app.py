"""Vocalis worker on Modal: the job-protocol ASGI app with the Qwen3-TTS engine on one GPU.

    modal deploy deploy/modal/app.py                 # serve it (prints the endpoint URL)
    modal run deploy/modal/app.py::download_weights  # optional: warm the weight cache on a CPU

This is the same `create_worker_app` that `vocalis worker` serves, so the API talks to it
exactly as it talks to a local worker. See README.md next to this file for the trade-offs.

Deploy-time knobs are read from the environment of the machine running `modal deploy` (this
file lives outside the package; vocalis itself reads settings only in its config modules):
  VOCALIS_MODAL_APP_NAME        app name (default vocalis-worker; also the URL label)
  VOCALIS_MODAL_SECRET          Modal Secret holding VOCALIS_WORKER_TOKEN (default vocalis-worker)
  VOCALIS_MODAL_GPU             GPU class, e.g. L40S, A10G, A100, H100 (default L40S)
  VOCALIS_MODAL_MODEL           1.7B or 0.6B Base model for cloning (default 1.7B)
  VOCALIS_MODAL_MIN_CONTAINERS  1 keeps the GPU warm around the clock (default 0)
  VOCALIS_MODAL_SCALEDOWN       idle seconds before the container stops, 2-3600 (default 1200)
"""

from __future__ import annotations

import json
import os
from typing import Any

import modal

APP_NAME = os.environ.get("VOCALIS_MODAL_APP_NAME", "vocalis-worker")
SECRET_NAME = os.environ.get("VOCALIS_MODAL_SECRET", "vocalis-worker")
GPU = os.environ.get("VOCALIS_MODAL_GPU", "L40S")
MIN_CONTAINERS = int(os.environ.get("VOCALIS_MODAL_MIN_CONTAINERS", "0"))
SCALEDOWN_SECONDS = int(os.environ.get("VOCALIS_MODAL_SCALEDOWN", "1200"))

# Hugging Face commits of each checkpoint. Loading by commit (through a snapshot directory, see
# vocalis.worker.engines.qwen.load_qwen_model) means a re-upload upstream can never change what a
# deployed worker says. Bump deliberately, after listening to the new weights.
MODELS = {
    "1.7B": ("Qwen/Qwen3-TTS-12Hz-1.7B-Base", "fd4b254389122332181a7c3db7f27e918eec64e3"),
    "0.6B": ("Qwen/Qwen3-TTS-12Hz-0.6B-Base", "5d83992436eae1d760afd27aff78a71d676296fc"),
}
DESIGN_MODEL = ("Qwen/Qwen3-TTS-12Hz-1.7B-VoiceDesign", "5ecdb67327fd37bb2e042aab12ff7391903235d3")
BASE_MODEL = MODELS[os.environ.get("VOCALIS_MODAL_MODEL", "1.7B")]

# Exact versions of everything the worker imports. qwen-tts 0.1.1 pins transformers/accelerate;
# torch and torchaudio must be a matching pair; the vocalis core dependencies match the versions
# the test suite runs against. This set was resolved together for CPython 3.11 on linux x86_64.
PACKAGES = [
    "torch==2.9.1",
    "torchaudio==2.9.1",
    "qwen-tts==0.1.1",
    "transformers==4.57.3",
    "accelerate==1.12.0",
    "huggingface-hub==0.36.0",
    "librosa==0.11.0",
    "fastapi==0.165.0",
    "uvicorn[standard]==0.54.0",
    "python-multipart==0.0.34",
    "pydantic==2.14.3",
    "pydantic-settings==2.16.3",
    "aiohttp==3.14.5",
    "av==18.1.0",
    "numpy==2.4.6",
    "soundfile==0.14.0",
    "scipy==1.17.1",
    # the `local` engine's dependencies, so importing the engine registry never fails here
    "espeakng-loader==0.2.4",
    "pyworld-prebuilt==0.3.6.post1",
    "pyloudnorm==0.2.0",
]

HF_HOME = "/cache/huggingface"
hf_cache = modal.Volume.from_name("vocalis-hf-cache", create_if_missing=True)

image = (
    modal.Image.debian_slim(python_version="3.11")
    .apt_install("sox")  # qwen-tts imports the `sox` wrapper, which looks for the binary
    .uv_pip_install(*PACKAGES)
    .env({"HF_HOME": HF_HOME})
    # Mounted at container start rather than baked in: a code change redeploys in seconds and
    # never rebuilds the torch layers. Needs `vocalis` importable where `modal deploy` runs.
    .add_local_python_source("vocalis")
)

app = modal.App(APP_NAME, image=image)


def _engine_options() -> dict[str, Any]:
    base_id, base_revision = BASE_MODEL
    design_id, design_revision = DESIGN_MODEL
    return {
        "model_id": base_id,
        "revision": base_revision,
        "design_model_id": design_id,
        "design_revision": design_revision,
    }


# WorkerSettings reads VOCALIS_WORKER_* inside the container. Modal applies `env` after the
# Secrets, so these defaults would shadow the Secret; instead, any VOCALIS_WORKER_* variable set
# where `modal deploy` runs overrides them (VOCALIS_WORKER_CAPACITY=64 modal deploy ...). The
# token is the exception: it only ever comes from the Secret, never from a deploy shell.
_LOCAL_ONLY = {"VOCALIS_WORKER_TOKEN", "VOCALIS_WORKER_URL"}  # the URL is the API's setting
WORKER_ENV = {
    "VOCALIS_WORKER_ENGINE": "qwen",
    "VOCALIS_WORKER_ENGINE_OPTIONS": json.dumps(_engine_options()),
    "VOCALIS_WORKER_EXECUTION": "thread",  # CUDA must not be forked; weights load once
    "VOCALIS_WORKER_CONCURRENCY": "1",  # one synthesis at a time on the one GPU
    "VOCALIS_WORKER_CAPACITY": "32",
    # Results live on this container's disk; the API copies them out within seconds of
    # completion. Keeping them longer than the container can live buys nothing.
    "VOCALIS_WORKER_RETENTION_SECONDS": str(max(SCALEDOWN_SECONDS, 600)),
    **{
        key: value
        for key, value in os.environ.items()
        if key.startswith("VOCALIS_WORKER_") and key not in _LOCAL_ONLY
    },
}


@app.cls(
    gpu=GPU,
    volumes={HF_HOME: hf_cache},
    secrets=[modal.Secret.from_name(SECRET_NAME, required_keys=["VOCALIS_WORKER_TOKEN"])],
    env=WORKER_ENV,
    # Jobs and their results live in this container's memory and disk, and a poll must reach
    # the container that holds its job: so exactly one container. See README.md.
    max_containers=1,
    min_containers=MIN_CONTAINERS,
    # A job runs in a background thread after its POST has returned; Modal counts a container
    # with no request in flight as idle. The API polls every running task (browser or
    # reconciler) far more often than this, which is what keeps a long job's container alive.
    scaledown_window=SCALEDOWN_SECONDS,
    timeout=600,  # per HTTP request; synthesis itself is not bound to a request
    startup_timeout=1800,  # the first start downloads several GB of weights into the Volume
)
@modal.concurrent(max_inputs=64)  # polls, submits and result downloads while a job runs
class Worker:
    @modal.enter()
    def load(self) -> None:
        from vocalis.worker.app import create_worker_app
        from vocalis.worker.config import WorkerSettings
        from vocalis.worker.engines.qwen import QwenEngine

        settings = WorkerSettings()
        # The Base model loads here, once per container; VoiceDesign on the first design job.
        engine = QwenEngine(**settings.engine_options)
        hf_cache.commit()  # share freshly downloaded weights with later containers
        self.web_app = create_worker_app(settings, engine)

    @modal.asgi_app(label=APP_NAME)
    def web(self) -> Any:
        return self.web_app


@app.function(volumes={HF_HOME: hf_cache}, timeout=3600)
def download_weights() -> None:
    """Fill the weight cache on a CPU container, so the first GPU start does not pay for it."""
    from huggingface_hub import snapshot_download

    for repo_id, revision in (*MODELS.values(), DESIGN_MODEL):
        path = snapshot_download(repo_id, revision=revision)
        print(f"{repo_id}@{revision[:10]} -> {path}")
    hf_cache.commit()
