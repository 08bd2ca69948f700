"""libespeak-ng, from the `espeakng-loader` wheel, driven through ctypes.

The library keeps global state (the current voice, its parameters, the synth callback), so every
call goes through one process-wide lock; separate worker processes each load their own copy and
may run in parallel. Output is mono 16-bit at the library's native 22 050 Hz, returned as float32.
`phonemes` gives the same library's IPA transcription instead of audio (the Kokoro base reads it).
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vocalis.worker.engines.base import SynthesisError
from vocalis.worker.engines.kana import to_kana

SAMPLE_RATE = 22_050

# espeak voice per protocol language. Brazilian Portuguese: it has by far the most speakers and
# espeak's pt-br voice is its better maintained Portuguese. French is "fr" (France), the name
# espeak-ng knows it by ("fr-fr" is not a voice name).
VOICES: dict[str, str] = {
    "English": "en-us",
    "Chinese": "cmn",
    "Japanese": "ja",
    "Korean": "ko",
    "German": "de",
    "French": "fr",
    "Russian": "ru",
    "Portuguese": "pt-br",
    "Spanish": "es",
    "Italian": "it",
}
# The female variant without echo: the variants with "echo" add a reverb tail that confuses the
# WORLD analysis downstream.
FEMALE_VARIANT = "f1"
DEFAULT_RATE_WPM = 175
MIN_RATE_WPM = 80
MAX_RATE_WPM = 450  # espeak's own ceiling without the sonic speed-up

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAM_RATE = 1
_PARAM_VOLUME = 2
_PARAM_PITCH = 3
_PARAM_RANGE = 4
_EE_OK = 0
# espeak_TextToPhonemes: bit 1 = IPA, bit 7 = put the character in bits 8-23 inside multi-letter
# phonemes (a tie), so "t^ʃ" (one phoneme) can be told from "t" followed by "ʃ".
PHONEME_TIE = "^"
_PHONEMES_IPA_TIED = 0x02 | 0x80 | (ord(PHONEME_TIE) << 8)

_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True)
class Voice:
    """How espeak should speak: its voice name plus the prosody knobs it understands."""

    language: str  # a protocol language (not "Auto")
    female: bool = False
    rate_wpm: int = DEFAULT_RATE_WPM
    pitch: int = 50  # 0-100, espeak's base-pitch knob
    pitch_range: int = 50  # 0-100, intonation excursion

    @property
    def name(self) -> str:
        base = VOICES[self.language]
        return f"{base}+{FEMALE_VARIANT}" if self.female else base


class _Library:
    """The loaded libespeak-ng with its one callback; use only while holding `_LOCK`."""

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if rate != SAMPLE_RATE:
            raise RuntimeError(f"libespeak-ng failed to initialise (returned {rate})")
        self.lib = lib
        self.pieces: list[npt.NDArray[np.int16]] = []
        # Kept on self: ctypes does not hold a reference, and a collected callback would crash.
        self.callback = _Callback(self._collect)
        lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int) -> int:
        if count > 0 and wav:
            self.pieces.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0 = keep going

    def speak(self, text: str, voice: Voice) -> npt.NDArray[np.int16]:
        if self.lib.espeak_SetVoiceByName(voice.name.encode()) != _EE_OK:
            raise SynthesisError(f"espeak-ng has no voice {voice.name!r}")
        # Parameters are global and sticky: set every one on every call.
        for parameter, value in (
            (_PARAM_RATE, min(max(voice.rate_wpm, MIN_RATE_WPM), MAX_RATE_WPM)),
            (_PARAM_VOLUME, 100),
            (_PARAM_PITCH, min(max(voice.pitch, 0), 100)),
            (_PARAM_RANGE, min(max(voice.pitch_range, 0), 100)),
        ):
            self.lib.espeak_SetParameter(parameter, value, 0)
        encoded = text.encode("utf-8") + b"\0"
        self.pieces = []
        status = self.lib.espeak_Synth(
            encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        self.lib.espeak_Synchronize()
        pieces, self.pieces = self.pieces, []
        if status != _EE_OK:
            raise SynthesisError(f"espeak-ng could not speak this text (error {status})")
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)

    def phonemes(self, text: str, voice_name: str) -> list[str]:
        if self.lib.espeak_SetVoiceByName(voice_name.encode()) != _EE_OK:
            raise SynthesisError(f"espeak-ng has no voice {voice_name!r}")
        # The call advances the pointer one clause at a time and leaves NULL after the last.
        cursor = ctypes.c_char_p(text.encode("utf-8"))
        clauses: list[str] = []
        while cursor.value:
            result = self.lib.espeak_TextToPhonemes(
                ctypes.byref(cursor), _CHARS_UTF8, _PHONEMES_IPA_TIED
            )
            if result:
                clauses.append(result.decode("utf-8", errors="replace").strip())
        return [clause for clause in clauses if clause]


_LOCK = threading.Lock()
_library: _Library | None = None


def speak(text: str, voice: Voice) -> npt.NDArray[np.float32]:
    """Speak `text` with espeak-ng; mono float32 at SAMPLE_RATE (empty for silent text)."""
    global _library
    if voice.language == "Japanese":
        text = to_kana(text)  # espeak's ja voice reads kana only; see kana.py
    with _LOCK:
        if _library is None:
            _library = _Library()
        samples = _library.speak(text, voice)
    return samples.astype(np.float32) / 32768.0


def phonemes(text: str, language: str) -> list[str]:
    """espeak-ng's IPA for `text` in `language`, one string per clause (punctuation dropped),
    multi-letter phonemes tied with PHONEME_TIE, stress marks kept."""
    global _library
    with _LOCK:
        if _library is None:
            _library = _Library()
        return _library.phonemes(text, VOICES[language])
