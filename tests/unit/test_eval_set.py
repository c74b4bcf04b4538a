"""Eval sets read from chat-format JSONL: prompt, reference, order, and bad lines named."""

from __future__ import annotations

import json

import pytest

from fakeai_dash.evals.eval_set import EvalSetError, read_eval_set


def line(*messages, **extra) -> str:
    return json.dumps({"messages": list(messages), **extra}, ensure_ascii=False)


def msg(role: str, content) -> dict:
    return {"role": role, "content": content}


def numbered(count: int) -> str:
    return "\n".join(line(msg("user", f"q{i}"), msg("assistant", f"a{i}")) for i in range(count)) + "\n"


def test_prompt_is_everything_before_the_last_assistant_message_and_reference_is_it():
    text = line(msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello"),
                msg("user", "Capital of Japan?"), msg("assistant", "東京"), msg("user", "a trailing turn"))
    [example] = read_eval_set(text)
    assert [m["content"] for m in example.prompt] == ["Be brief.", "Hi", "Hello", "Capital of Japan?"]
    assert example.reference == "東京"
    assert example.item["reference_answer"] == "東京" and example.item["messages"] == example.prompt
    assert (example.index, example.line) == (0, 1)


def test_first_n_in_file_order_and_the_same_on_every_read():
    content = numbered(80)
    first = read_eval_set(content)
    assert len(first) == 50 and [e.reference for e in first[:3]] == ["a0", "a1", "a2"]
    assert read_eval_set(content) == first
    assert [e.reference for e in read_eval_set(content, n=5)] == ["a0", "a1", "a2", "a3", "a4"]
    assert len(read_eval_set(content, n=None)) == 80
    assert len(read_eval_set(numbered(3), n=50)) == 3  # fewer than n: all of them


def test_bytes_bom_crlf_blank_lines_and_text_parts():
    content = ("\ufeff" + line(msg("user", "q"), msg("assistant", [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]))
               + "\r\n\n   \n" + line(msg("user", "q2"), msg("assistant", "réponse 👍🏽")) + "\r\n").encode()
    examples = read_eval_set(content)
    assert [e.reference for e in examples] == ["ab", "réponse 👍🏽"]
    assert [e.line for e in examples] == [1, 4]


def test_other_top_level_fields_reach_the_item_namespace():
    [example] = read_eval_set(line(msg("user", "q"), msg("assistant", "a"), topic="geo"))
    assert example.item["topic"] == "geo"


@pytest.mark.parametrize(("bad", "says"), [
    ("{not json", "Invalid JSON"),
    ('["a list"]', "must be a JSON object"),
    (line(msg("user", "q")), "no assistant message"),
    (line(msg("robot", "q"), msg("assistant", "a")), "role must be one of"),
    (line(msg("assistant", "a")), "no message before it"),
    (json.dumps({"messages": [msg("user", "q"), {"role": "assistant", "content": None,
                                                  "tool_calls": [{"id": "t", "type": "function"}]}]}), "no text"),
])
def test_a_bad_line_is_named_by_its_number(bad, says):
    content = numbered(3) + bad + "\n" + numbered(1)
    with pytest.raises(EvalSetError) as caught:
        read_eval_set(content)
    assert f"line 4: " in str(caught.value) and says in str(caught.value), str(caught.value)
    assert [e.line for e in caught.value.errors] == [4]


def test_bad_lines_after_the_first_n_do_not_matter():
    assert len(read_eval_set(numbered(3) + "{oops\n", n=3)) == 3


def test_many_bad_lines_are_counted_in_the_message():
    with pytest.raises(EvalSetError, match=r"line 1: .*line 5: .*\(and 3 more\)") as caught:
        read_eval_set("{\n" * 8)
    assert len(caught.value.errors) == 8


def test_not_utf8_empty_and_bad_n():
    with pytest.raises(EvalSetError, match="not UTF-8"):
        read_eval_set(b'{"messages": "\xff"}')
    with pytest.raises(EvalSetError, match="no examples"):
        read_eval_set("\n \n")
    with pytest.raises(EvalSetError, match="n must be at least 1"):
        read_eval_set(numbered(2), n=0)
