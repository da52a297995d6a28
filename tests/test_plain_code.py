"""``RuleContext``'s ``plain_code``: the source of simple expressions without LibCST's codegen,
exactly ``Module.code_for_node`` or None (issue 14's speed work must not change a snippet)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from isolint.context import plain_code

from tests.conftest import REPO

TRICKY = """\
a.b.c
a . b
(a).b
a.  b
x: "Optional[int]" = None
y: dict[str, list[int]] | None = None
z: dict[ str ,int ] = {}
w: (int | None) = 0
v = a[b, c,]
u = a[b][c] | d.e
t = a [b]
s = a[b:c]
r = a[*b]
q = a.b(c).d
p = 'it''s'
o = b'x' | a
n = a | (b)
m = a |b| c
l = a[  # comment
    b
]
k = a.\\
b
"""


def _expressions(module: cst.Module) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, cst.BaseExpression):
                found.append(node)
            return True

    module.visit(Collect())
    return found


def _check(source: str) -> int:
    module = cst.parse_module(source)
    plain = 0
    for node in _expressions(module):
        text = plain_code(node)
        if text is not None:
            assert text == module.code_for_node(node), module.code_for_node(node)
            plain += 1
    return plain


def test_plain_code_is_the_code_or_none() -> None:
    assert _check(TRICKY) > 40


def test_plain_code_on_real_code() -> None:
    files = sorted((REPO / "linter").glob("*.py"))[:12]
    assert sum(_check(Path(f).read_text(encoding="utf-8")) for f in files) > 1000
