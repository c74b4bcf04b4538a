"""Tests for the pre-upload JSONL dataset checks and estimates."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeai_dash.dataset import DatasetReport, validate_jsonl

USER_TEXT = "abcdefgh"  # 8 chars -> 2 tokens
ASSISTANT_TEXT = "abcdefghij"  # 10 chars -> 3 tokens (rounded up)
# 3 per example + (4 + 2) for the user message + (4 + 3) for the assistant message.
CHAT_EXAMPLE_TOKENS = 16


def chat(user: str = USER_TEXT, assistant: str = ASSISTANT_TEXT) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def dpo(prompt: str = USER_TEXT) -> dict:
    return {
        "input": {"messages": [{"role": "user", "content": prompt}]},
        "preferred_output": [{"role": "assistant", "content": "good"}],
        "non_preferred_output": [{"role": "assistant", "content": "bad!"}],
    }


def jsonl(rows: list) -> str:
    return "\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n"


def good_chat_file(n: int = 10) -> str:
    return jsonl([chat() for _ in range(n)])


def with_line(rows: list, index: int, replacement) -> str:
    """Ten good chat rows with row ``index`` (0-based, so file line index+1) replaced."""
    rows = list(rows)
    rows[index] = replacement
    return jsonl(rows)


TEN = [chat() for _ in range(10)]


def only_error(report: DatasetReport):
    assert report.error_count == 1, report.errors
    return report.errors[0]


# --- valid files and estimates --------------------------------------------------------


def test_valid_chat_file_tokens_and_default_cost():
    report = validate_jsonl(good_chat_file().encode())
    assert report.valid and report.errors == [] and report.error_count == 0
    assert report.n_examples == report.n_valid_examples == 10
    assert report.estimated_tokens == 10 * CHAT_EXAMPLE_TOKENS == 160
    assert (report.example_tokens_min, report.example_tokens_mean, report.example_tokens_max) == (16, 16.0, 16)
    # n_epochs None -> 3 epochs assumed; 480 tokens at the default $0.008 / 1K.
    assert report.epochs == 3 and report.epochs_assumed
    assert report.estimated_billed_tokens == 480
    assert report.estimated_cost == pytest.approx(0.00384)


def test_given_epochs_and_price_table_drive_the_cost():
    report = validate_jsonl(good_chat_file(), model="gpt-4o-mini-2024-07-18", n_epochs=2, price_table={"gpt-4o-mini": 0.003})
    assert report.epochs == 2 and not report.epochs_assumed
    assert report.estimated_cost == pytest.approx(320 * 0.003 / 1000)


@pytest.mark.parametrize("n_epochs", [None, "auto", "AUTO", "", 0])
def test_auto_epochs_assume_three(n_epochs):
    report = validate_jsonl(good_chat_file(), n_epochs=n_epochs)
    assert (report.epochs, report.epochs_assumed) == (3, True)


def test_epochs_given_as_string_are_used():
    assert validate_jsonl(good_chat_file(), n_epochs="5").epochs == 5


def test_mean_min_max_with_unequal_examples():
    rows = [chat() for _ in range(9)] + [chat(user="x" * 40)]  # 40 chars -> 10 tokens, 8 more than the others
    report = validate_jsonl(jsonl(rows))
    assert report.example_tokens_min == 16 and report.example_tokens_max == 24
    assert report.estimated_tokens == 9 * 16 + 24
    assert report.example_tokens_mean == pytest.approx(16.8)


def test_content_parts_tool_calls_and_name_are_counted():
    tool_call = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    example = {
        "messages": [
            {"role": "system", "content": "abcd", "name": "bob"},  # "abcdbob" 7 chars -> 2
            {"role": "user", "content": [{"type": "text", "text": "abcd"}, {"type": "image_url", "image_url": {"url": "x"}}]},
            {"role": "assistant", "content": None, "tool_calls": tool_call},
            {"role": "tool", "tool_call_id": "c1", "content": "abcdefgh"},
            {"role": "assistant", "content": "ok"},
        ]
    }
    calls = len(json.dumps(tool_call, separators=(",", ":")))
    expected = 3 + (4 + 2) + (4 + 1) + (4 + -(-calls // 4)) + (4 + 2) + (4 + 1)
    report = validate_jsonl(jsonl([example] * 10))
    assert report.valid, report.errors
    assert report.example_tokens_max == expected


def test_valid_dpo_file():
    report = validate_jsonl(jsonl([dpo()] * 10), method="dpo")
    assert report.valid, report.errors
    # 3 + (4 + 2) + (4 + 1) + (4 + 1)
    assert report.example_tokens_max == 19


def test_utf8_bom_is_accepted():
    report = validate_jsonl(b"\xef\xbb\xbf" + good_chat_file().encode())
    assert report.valid, report.errors


def test_blank_lines_are_skipped_but_counted_for_line_numbers():
    rows = [chat() for _ in range(10)]
    text = "\n\n".join(json.dumps(r) for r in rows[:9]) + "\n\n{broken\n" + json.dumps(rows[9])
    report = validate_jsonl(text)
    error = only_error(report)
    assert error.line == 19  # nine rows with a blank after each -> 18 lines
    assert report.n_examples == 11


def test_report_round_trips_through_json():
    report = validate_jsonl(with_line(TEN, 2, "nope"))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["errors"][0] == {"line": 3, "message": report.errors[0].message}
    assert DatasetReport.from_dict(data) == report


# --- errors ---------------------------------------------------------------------------


def test_malformed_json_reports_line_and_json_error():
    error = only_error(validate_jsonl(with_line(TEN, 4, '{"messages": [')))
    assert error.line == 5
    assert error.message.startswith("Invalid JSON") and "line 1 column" in error.message


@pytest.mark.parametrize("row, kind", [("[1, 2]", "array"), ('"hi"', "string"), ("3", "number"), ("null", "null")])
def test_non_object_line(row, kind):
    error = only_error(validate_jsonl(with_line(TEN, 0, row)))
    assert error.line == 1 and "JSON object" in error.message and kind in error.message


def test_missing_assistant_message():
    error = only_error(validate_jsonl(with_line(TEN, 3, {"messages": [{"role": "user", "content": "hi"}]})))
    assert error.line == 4 and "assistant" in error.message


def test_bad_role():
    row = {"messages": [{"role": "robot", "content": "hi"}, {"role": "assistant", "content": "x"}]}
    error = only_error(validate_jsonl(with_line(TEN, 1, row)))
    assert error.line == 2 and "role" in error.message and "robot" in error.message


@pytest.mark.parametrize("content", ["", None, [], [{"type": "text", "text": ""}], 42])
def test_empty_or_missing_content(content):
    row = {"messages": [{"role": "user", "content": content}, {"role": "assistant", "content": "x"}]}
    error = only_error(validate_jsonl(with_line(TEN, 6, row)))
    assert error.line == 7 and "content" in error.message


def test_assistant_without_tool_calls_needs_content():
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": None}]}
    assert only_error(validate_jsonl(with_line(TEN, 0, row))).line == 1


@pytest.mark.parametrize("messages", [None, [], "hi", {"role": "user"}])
def test_messages_must_be_non_empty_list(messages):
    error = only_error(validate_jsonl(with_line(TEN, 0, {"messages": messages})))
    assert "messages" in error.message


def test_too_few_examples():
    report = validate_jsonl(good_chat_file(9))
    error = only_error(report)
    assert error.line is None and "9" in error.message and "10" in error.message
    assert not report.valid
    # The estimate is still useful while the file is being fixed.
    assert report.estimated_tokens == 9 * 16


def test_empty_file_is_too_few():
    report = validate_jsonl(b"")
    assert not report.valid and report.n_examples == 0 and report.error_count == 1


def test_oversize_file_refused_before_parsing():
    content = b"not json at all\n" * 10
    report = validate_jsonl(content, max_bytes=len(content) - 1)
    error = only_error(report)
    assert error.line is None and "limit for browser upload" in error.message
    assert report.n_examples == 0  # nothing was parsed, so no JSON errors either


def test_oversize_message_wording():
    size = int(63.2 * 1024 * 1024)
    report = validate_jsonl(b" " * size, max_bytes=50 * 1024 * 1024)
    assert report.errors[0].message == "File is 63.2 MB; the limit for browser upload is 50 MB"


def test_file_at_the_size_limit_is_parsed():
    content = good_chat_file().encode()
    assert validate_jsonl(content, max_bytes=len(content)).valid


def test_over_token_limit_example():
    rows = [chat() for _ in range(10)]
    rows[7] = chat(user="x" * 400)  # 3 + (4 + 100) + (4 + 3) = 114 tokens
    report = validate_jsonl(jsonl(rows), max_example_tokens=113)
    error = only_error(report)
    assert error.line == 8 and "114" in error.message and "113" in error.message
    assert report.n_over_limit == 1
    assert validate_jsonl(jsonl(rows), max_example_tokens=114).valid


def test_non_utf8_is_rejected_clearly():
    content = good_chat_file().encode() + b'{"messages": "caf\xe9"}\n'
    error = only_error(validate_jsonl(content))
    assert "UTF-8" in error.message and error.line == 11


def test_errors_list_is_capped_but_all_are_counted():
    report = validate_jsonl("{bad\n" * 30)
    assert len(report.errors) == 20
    assert report.error_count == 30
    assert report.errors[-1].line == 20


def test_multiple_problems_on_one_line_all_count():
    row = {"messages": [{"role": "user", "content": ""}, {"role": "robot", "content": "x"}]}
    report = validate_jsonl(with_line(TEN, 0, row))
    # empty content, bad role, and no assistant message
    assert report.error_count == 3 and {e.line for e in report.errors} == {1}


def test_invalid_lines_add_no_tokens():
    report = validate_jsonl(with_line(TEN, 0, "{oops"))
    assert report.n_valid_examples == 9 and report.estimated_tokens == 9 * 16


def test_weight_must_be_zero_or_one():
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 2}]}
    assert "weight" in only_error(validate_jsonl(with_line(TEN, 0, row))).message
    row["messages"][1]["weight"] = 0
    assert validate_jsonl(with_line(TEN, 0, row)).valid


# --- DPO errors -----------------------------------------------------------------------


def dpo_rows(bad: dict) -> str:
    rows = [dpo() for _ in range(10)]
    rows[2] = bad
    return jsonl(rows)


def test_dpo_requires_input_messages():
    bad = dpo()
    bad["input"] = {"messages": []}
    error = only_error(validate_jsonl(dpo_rows(bad), method="dpo"))
    assert error.line == 3 and "input" in error.message


@pytest.mark.parametrize("key", ["preferred_output", "non_preferred_output"])
def test_dpo_outputs_must_be_non_empty_lists(key):
    bad = dpo()
    bad[key] = []
    error = only_error(validate_jsonl(dpo_rows(bad), method="dpo"))
    assert error.line == 3 and key in error.message


def test_dpo_outputs_must_be_assistant_messages():
    bad = dpo()
    bad["preferred_output"] = [{"role": "user", "content": "x"}]
    error = only_error(validate_jsonl(dpo_rows(bad), method="dpo"))
    assert "assistant" in error.message and "preferred_output" in error.message


def test_chat_file_is_not_a_dpo_file():
    report = validate_jsonl(good_chat_file(), method="dpo")
    assert not report.valid and report.error_count == 10 * 3  # input + both outputs missing


def test_dpo_input_does_not_need_an_assistant():
    bad = dpo()
    bad["input"]["messages"].insert(0, {"role": "system", "content": "be nice"})
    assert validate_jsonl(dpo_rows(bad), method="dpo").valid


# --- never raises ---------------------------------------------------------------------


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["role", "content", "messages", "input", "preferred_output", "non_preferred_output", "tool_calls", "type", "text", "weight", "name", "tools"]), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(content=st.binary() | st.text(), method=st.sampled_from(["supervised", "dpo", "other"]), max_bytes=st.none() | st.integers(0, 200))
def test_never_raises_on_arbitrary_input(content, method, max_bytes):
    report = validate_jsonl(content, method, max_bytes=max_bytes, max_example_tokens=5)
    assert report.valid is False  # nothing random is ten valid examples
    json.dumps(report.to_dict())


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(json_values, max_size=12), method=st.sampled_from(["supervised", "dpo"]))
def test_never_raises_on_json_shaped_lines(rows, method):
    report = validate_jsonl("\n".join(json.dumps(r) for r in rows), method)
    assert report.error_count >= len(report.errors)
    json.dumps(report.to_dict())
