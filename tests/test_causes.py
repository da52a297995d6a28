"""isolint.causes: symptoms fold into the root-cause finding that names one of their causes."""

from __future__ import annotations

from isolint.causes import fold_causes
from isolint.diagnostics import Diagnostic, Related, Severity, Span


def _finding(
    path: str, line: int, code: str, causes: tuple[str, ...] = (), note: str = ""
) -> Diagnostic:
    return Diagnostic(
        path=path,
        span=Span(line, 1, line, 2),
        code=code,
        name="x",
        severity=Severity.ERROR,
        message=f"{code} at {line}",
        fingerprint=f"{path}:{line}",
        causes=causes,
        cause_note=note,
    )


def test_symptoms_become_related_locations_of_the_first_root_cause() -> None:
    root_b = _finding("b.py", 3, "ISO203", ("m.C",))
    root_a = _finding("a.py", 9, "ISO203", ("m.C",))
    symptom = _finding("c.py", 5, "ISO106", ("m.D", "m.C"), "shared too")
    plain = _finding("a.py", 1, "ISO201")
    out = fold_causes([root_b, symptom, plain, root_a])
    assert [d.fingerprint for d in out] == ["b.py:3", "a.py:1", "a.py:9"]
    assert out[2].related == (Related("c.py", 5, 1, "shared too"),)
    assert out[0].related == ()


def test_a_symptom_without_its_root_cause_is_reported_as_is() -> None:
    symptom = _finding("c.py", 5, "ISO106", ("m.C",), "shared too")
    other_root = _finding("a.py", 2, "ISO203", ("m.D",))
    assert fold_causes([symptom, other_root]) == [symptom, other_root]
