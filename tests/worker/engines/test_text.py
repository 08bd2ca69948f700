import re

import pytest

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines.text import DETECTABLE, detect_language, ends_sentence, split_sentences


def _no_space(text: str) -> str:
    return re.sub(r"\s", "", text)


def _assert_lossless(text: str, chunks: list[str]) -> None:
    # Only whitespace between chunks may disappear; each chunk is a verbatim slice, in order.
    assert _no_space("".join(chunks)) == _no_space(text)
    cursor = 0
    for chunk in chunks:
        found = text.find(chunk, cursor)
        assert found >= 0, chunk
        cursor = found + len(chunk)


def test_packs_whole_sentences_up_to_the_limit() -> None:
    text = "Hello there. How are you? I am fine!  Thanks."
    assert split_sentences(text, 20) == ["Hello there.", "How are you?", "I am fine!  Thanks."]
    assert split_sentences(text, 1000) == [text]


def test_cjk_sentences_split_without_spaces() -> None:
    text = "你好。今天天气很好！我们去公园吧？好的。"
    assert split_sentences(text, 8) == ["你好。", "今天天气很好！", "我们去公园吧？", "好的。"]


def test_fullwidth_period_and_closing_quotes_stay_with_their_sentence() -> None:
    chunks = split_sentences("他说：「走吧。」然后离开了．结束", 9)
    assert chunks[0] == "他说：「走吧。」"
    _assert_lossless("他说：「走吧。」然后离开了．结束", chunks)
    assert split_sentences('She said "go." Then left.', 15) == ['She said "go."', "Then left."]


def test_decimal_points_and_inner_dots_do_not_end_sentences() -> None:
    assert split_sentences("Pi is 3.14 roughly. Yes indeed.", 20) == [
        "Pi is 3.14 roughly.",
        "Yes indeed.",
    ]


def test_long_sentence_falls_back_to_clauses_then_whitespace() -> None:
    text = (
        "This is a very long sentence, with a clause; "
        "and another clause that goes on and on without end"
    )
    chunks = split_sentences(text, 30)
    assert chunks[:2] == ["This is a very long sentence,", "with a clause;"]
    assert all(len(chunk) <= 30 for chunk in chunks)
    # whitespace fallback never splits inside a word
    words = set(text.replace(",", "").replace(";", "").split())
    assert all(set(c.replace(",", "").replace(";", "").split()) <= words for c in chunks)
    _assert_lossless(text, chunks)


def test_cjk_clause_punctuation_is_a_fallback() -> None:
    text = "今天我们去了公园，然后去了商店，最后回家吃饭。"
    chunks = split_sentences(text, 10)
    assert chunks[0] == "今天我们去了公园，"
    assert all(len(chunk) <= 10 for chunk in chunks)
    _assert_lossless(text, chunks)


def test_unbreakable_run_is_hard_cut() -> None:
    assert split_sentences("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]


def test_punctuation_only_fragments_merge_into_a_neighbour() -> None:
    assert split_sentences("... Hi.", 3) == ["... Hi."]
    assert split_sentences("Hello world. !!!", 12) == ["Hello world. !!!"]
    assert split_sentences("!", 10) == ["!"]


def test_newlines_end_sentences_and_outer_whitespace_is_dropped() -> None:
    text = "  first line\nsecond line  \n\n third  "
    assert split_sentences(text, 12) == ["first line", "second line", "third"]


def test_empty_or_blank_text_gives_no_chunks() -> None:
    assert split_sentences("", 10) == []
    assert split_sentences(" \n\t ", 10) == []


def test_rejects_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        split_sentences("text", 0)


@pytest.mark.parametrize("limit", [1, 2, 5, 17, 40, 200])
def test_mixed_text_is_lossless_and_bounded(limit: int) -> None:
    text = (
        "Dr. Smith arrived at 9.30, late again! 我们等了很久。彼は「遅い」と言った。"
        "Wait… what?! Then: silence; nothing — nobody spoke.\n\nThe end"
    )
    chunks = split_sentences(text, limit)
    _assert_lossless(text, chunks)
    assert all(chunk == chunk.strip() and chunk for chunk in chunks)
    # tiny-fragment merging may overshoot the limit by a couple of characters, never more
    assert all(len(chunk) <= limit + 3 for chunk in chunks)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello world, this is a test.", "English"),
        ("안녕하세요, 만나서 반갑습니다.", "Korean"),
        ("こんにちは、世界。今日は良い天気です。", "Japanese"),
        ("東京タワーに行きました", "Japanese"),
        ("你好世界，今天天气很好。", "Chinese"),
        ("我用iPhone拍的", "Chinese"),
        ("Привет, мир! Как дела?", "Russian"),
        ("Ich heiße Max und das ist gut.", "German"),
        ("Die Straße ist schön.", "German"),
        ("¿Dónde está el baño?", "Spanish"),
        ("El niño come una manzana.", "Spanish"),
        ("C'est la vie, je ne sais pas.", "French"),
        ("Le garçon est français et il mange des pommes.", "French"),
        ("Não sei, você é muito bom.", "Portuguese"),
        ("As mãos e os corações.", "Portuguese"),
        ("Questo è il libro che ho letto.", "Italian"),
        ("Perché non sono venuti anche loro?", "Italian"),
        ("12345 !!!", "English"),
        ("", "English"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_detectable_languages_are_the_protocol_languages_without_auto() -> None:
    assert set(DETECTABLE) == set(LANGUAGES) - {"Auto"}


@pytest.mark.parametrize(
    ("chunk", "ends"),
    [
        ("Hello there.", True),
        ('He said "stop."', True),
        ("Is it?  ", True),
        ("東京へ行きます。", True),
        ("Hello there", False),  # cut at a space
        ("one, two,", False),  # cut at a clause
        ("see e.g", False),
    ],
)
def test_a_chunk_knows_whether_it_ends_a_sentence(chunk: str, ends: bool) -> None:
    assert ends_sentence(chunk) is ends
