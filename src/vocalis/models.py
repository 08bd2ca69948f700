"""Model weights that are fetched from a hub: which, at which pinned revision, and where they
go in the data dir. `vocalis models pull NAME` is the only command in Vocalis that downloads;
everything else (the default install, the tests) works offline with what pip installs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DONE_MARKER = ".vocalis-complete"  # written last: a pull that was interrupted is not "pulled"


@dataclass(frozen=True)
class HubModel:
    repo: str
    revision: str  # a commit: the same bytes on every machine

    @property
    def folder(self) -> str:
        return self.repo.replace("/", "--")


# QwenEngine constructor option -> the weights it loads (the revisions the Modal app pins).
QWEN_MODELS: dict[str, HubModel] = {
    "model_id": HubModel(
        "Qwen/Qwen3-TTS-12Hz-1.7B-Base", "fd4b254389122332181a7c3db7f27e918eec64e3"
    ),
    "design_model_id": HubModel(
        "Qwen/Qwen3-TTS-12Hz-1.7B-VoiceDesign", "5ecdb67327fd37bb2e042aab12ff7391903235d3"
    ),
}
PULLABLE: dict[str, dict[str, HubModel]] = {"qwen": QWEN_MODELS}


def is_pulled(root: Path, model: HubModel) -> bool:
    return (root / model.folder / DONE_MARKER).is_file()


def pull(name: str, root: Path) -> list[Path]:
    """Download the weights of `name` into `root` (resumable; progress bars on the terminal)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:
        raise RuntimeError(
            f"pulling {name} needs huggingface-hub: pip install -e '.[{name}]'"
        ) from exc
    paths = []
    for model in PULLABLE[name].values():
        target = root / model.folder
        if is_pulled(root, model):
            print(f"{model.repo}: already here ({target})")
        else:
            print(f"{model.repo} @ {model.revision[:10]} -> {target}", flush=True)
            snapshot_download(model.repo, revision=model.revision, local_dir=target)
            (target / DONE_MARKER).write_text(model.revision + "\n")
        paths.append(target)
    return paths
