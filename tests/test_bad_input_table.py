"""Every class of bad input in tests/bad_input_cases.py gets one line and exit 2, and the
bad-input table of docs/reference/errors.md is exactly what these runs print (regenerate it with
`python tests/bad_input_cases.py`)."""

from __future__ import annotations

import bad_input_cases as cases
import pytest


@pytest.mark.slow
def test_every_case_is_one_line_exit_2_and_the_docs_table_matches(tmp_path):
    lines = {}
    for i, case in enumerate(cases.CASES):
        outcome = cases.run(case, tmp_path / f"case{i}")
        assert outcome.code == 2, (case.kind, outcome)
        assert outcome.out == "", (case.kind, outcome)  # refused before anything ran
        assert outcome.line.startswith("nn-compare"), (case.kind, outcome)
        if case.user_code:  # their traceback first, then our one line
            assert "Traceback" in outcome.err, (case.kind, outcome)
        else:
            assert "Traceback" not in outcome.err and outcome.err.count("\n") == 1, \
                (case.kind, outcome)
        lines[case.kind] = outcome.line
    assert len(lines) == len(cases.CASES), "two cases share one kind"
    page = cases.page_table(cases.PAGE.read_text(encoding="utf-8"))
    assert page == cases.table(lines), (
        "docs/reference/errors.md's bad-input table differs from what the code prints: run "
        "`python tests/bad_input_cases.py` and commit the page")


def test_the_table_check_can_fail():  # the twin: a drifted message is caught
    lines = {case.kind: "nn-compare: error: something else" for case in cases.CASES}
    page = cases.page_table(cases.PAGE.read_text(encoding="utf-8"))
    assert page and page != cases.table(lines)
