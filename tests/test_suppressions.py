"""Every suppression form, multi-line statements, per-file-ignores and unused-ignore reporting."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from isolint.suppressions import find_suppressions
from tests.conftest import Completed

Run = Callable[..., Completed]
Make = Callable[..., Path]


def _codes_by_line(out: Completed) -> list[tuple[int, str]]:
    document = json.loads(out.stdout)
    return sorted((d["line"], d["code"]) for d in document["diagnostics"])


def test_each_form(isolint: Run, make_project: Make) -> None:
    root = make_project(
        {
            "app/a.py": """
                def one(x=[]):  # isolint: ignore[ISO204]
                    return x


                def two(x=[]):  # isolint: ignore[ISO2, ISO101]
                    return x


                def three(x=[]):  # isolint: ignore
                    return x


                def four(x=[]):  # noqa: ISO204
                    return x


                def five(x=[]):  # noqa: E501
                    return x


                def six(x=[]):  # isolint: ignore[ISO101]
                    return x


                TEXT = "# isolint: ignore[ISO204]"


                def seven(x=[]):
                    return x
                """,
            "app/b.py": """
                # isolint: ignore-file
                def eight(x=[]):
                    return x
                """,
        }
    )
    out = isolint("check", "--format", "json", ".", cwd=root)
    assert _codes_by_line(out) == [(17, "ISO204"), (21, "ISO204"), (28, "ISO204")]
    assert "5 suppressed" in out.stderr


def test_multi_line_statement_first_line(isolint: Run, make_project: Make) -> None:
    root = make_project(
        {
            "app/a.py": """
                def handler(  # isolint: ignore[ISO204]
                    user_id,
                    seen=[],
                ):
                    return seen


                def other(
                    user_id,
                    seen=[],  # isolint: ignore[ISO204]
                ):
                    return seen


                def third(
                    user_id,
                    seen=[],
                ):
                    return seen
                """
        }
    )
    out = isolint("check", "--format", "json", ".", cwd=root)
    assert _codes_by_line(out) == [(17, "ISO204")]


def test_ignore_file_must_be_at_the_top(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/a.py": "def f(x=[]):\n    return x\n\n# isolint: ignore-file\n"})
    assert _codes_by_line(isolint("check", "--format", "json", ".", cwd=root)) == [(1, "ISO204")]


def test_report_unused_ignores(isolint: Run, make_project: Make) -> None:
    root = make_project(
        {
            "app/a.py": """
                LIMIT = 10  # isolint: ignore[ISO204]


                def used(x=[]):  # isolint: ignore[ISO204]
                    return x


                def not_judged():  # isolint: ignore[ISO999]
                    return 1


                def bare(user_id):  # noqa: ISO2
                    return user_id
                """
        }
    )
    plain = isolint("check", ".", cwd=root)
    assert plain.returncode == 0
    out = isolint("check", "--report-unused-ignores", "--format", "json", ".", cwd=root)
    assert out.returncode == 1
    assert _codes_by_line(out) == [(1, "ISO000"), (12, "ISO000")]
    document = json.loads(out.stdout)
    assert "Unused suppression `# isolint: ignore[ISO204]`" in document["diagnostics"][0]["message"]
    assert document["diagnostics"][0]["column"] == 13


def test_per_file_ignores_count_as_suppressed(isolint: Run, make_project: Make) -> None:
    root = make_project(
        {
            "tests/test_a.py": "def f(x=[]):\n    return x\n",
            "app/a.py": "def g(y={}):\n    return y\n",
        },
        pyproject="[tool.isolint]\nper-file-ignores = { 'tests/**' = ['ISO2'] }\n",
    )
    out = isolint("check", "--format", "json", ".", cwd=root)
    assert [d["path"] for d in json.loads(out.stdout)["diagnostics"]] == ["app/a.py"]
    assert "1 suppressed" in out.stderr


def test_comment_scanner_ignores_strings() -> None:
    found = find_suppressions('X = "# isolint: ignore"\nY = 1  # noqa: ISO101,E501\n')
    assert [(s.line, s.codes) for s in found.comments] == [(2, ("ISO101",))]
    assert find_suppressions("x = 1\n").comments == ()
