"""Texts to speak: long enough for the local engine (240-character chunks, progress after each)
to report progress several times before it finishes."""

SENTENCES = [
    "The lighthouse keeper climbed the spiral stairs every evening at dusk.",
    "He polished the great lens until it shone like a second moon over the bay.",
    "Ships far out at sea counted the flashes and knew exactly where they were.",
    "On stormy nights the wind howled around the tower and rattled every window.",
    "Still the light turned, patient and steady, until the grey morning came.",
    "Then he walked down to the harbour, bought bread, and slept until noon.",
    "Years later the light was automated, and the keeper moved inland to grow apples.",
    "But on clear nights he still looked toward the coast and counted the flashes.",
]


def paragraph(sentences: int) -> str:
    return " ".join((SENTENCES * 10)[:sentences])


MEDIUM = paragraph(14)  # about 1,000 characters: five chunks
LONG = paragraph(40)  # about 3,000 characters: a minute or more of work
