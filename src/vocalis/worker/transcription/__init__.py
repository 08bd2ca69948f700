"""Offline speech recognition in the worker: Whisper base from two data-only wheels.

`model_files` finds, verifies and joins the model; `whisper` loads it with faster-whisper and
turns audio into a `Transcript`. Both import faster-whisper only when a model is loaded, so
the worker starts (and says transcription is off) where the `transcription` extra is missing.
"""

from vocalis.worker.transcription.model_files import ModelUnavailable, model_dir
from vocalis.worker.transcription.whisper import Transcriber, Transcript, Word

__all__ = ["ModelUnavailable", "Transcriber", "Transcript", "Word", "model_dir"]
