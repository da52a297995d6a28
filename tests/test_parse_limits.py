"""The depth and literal limits checked on CPython's tree (isolint.parsing._too_big), in process.

``_too_big`` skips expressions and statements whose source span is too short to reach either
limit (spans of several lines only given the source text); these tests compare it with a plain
walk of every node at and around both limits.
"""

from __future__ import annotations

import ast

import pytest

from isolint.parsing import MAX_LITERAL_ELEMENTS, MAX_TREE_DEPTH, _too_big


def _depth_and_widest(tree: ast.AST) -> tuple[int, int]:
    """Every node walked: the number of levels and the most elements of one literal."""
    depth, widest = 0, 0
    level: list[ast.AST] = [tree]
    while level:
        depth += 1
        for node in level:
            if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
                widest = max(widest, len(node.keys if isinstance(node, ast.Dict) else node.elts))
        level = [child for node in level for child in ast.iter_child_nodes(node)]
    return depth, widest


def _nested_ifs(levels: int, line: str) -> str:
    head = "".join("    " * i + "if x:\n" for i in range(levels))
    return head + "    " * levels + line + "\n"


CASES = {
    **{f"unary-{n}": f"x = {'-' * n}1\n" for n in (996, 997, 998, 999, 1000)},
    **{f"sum-{n}": "x = " + "+".join(["1"] * n) + "\n" for n in (995, 996, 997, 998, 999)},
    "not-chain": "x = " + "not " * 997 + "y\n",
    "lambdas": "x = " + "lambda: " * 997 + "1\n",
    "conditionals": "x = " + "a if b else " * 499 + "c\n",
    "attributes": "x = " + "a." * 997 + "b\n",
    "subscripts": "x = a" + "[0]" * 997 + "\n",
    "calls": "x = " + "f(" * 180 + ")" * 180 + "\n",
    "f-string": "x = f'{" + "-" * 994 + "1}'\n",
    "multi-line": "x = (1 +\n" + "+\n".join(["1"] * 1000) + ")\n",
    "indented": _nested_ifs(90, "y = " + "-" * 800 + "1"),
    "literal-at-limit": "x = [" + ",".join(["1"] * MAX_LITERAL_ELEMENTS) + "]\n",
    "literal-past-limit": "x = [" + ",".join(["1"] * (MAX_LITERAL_ELEMENTS + 1)) + "]\n",
    "dict-past-limit": "x = {" + ",".join(f"{i}:1" for i in range(MAX_LITERAL_ELEMENTS + 1)) + "}\n",
    "nested-literal": "x = [[" + ",".join(["1"] * (MAX_LITERAL_ELEMENTS + 1)) + "]]\n",
    "ordinary": "def f(a, b=[1, 2]):\n    return {k: [v for v in a] for k in b}\n",
}


def _deep_function(levels: int, decorated: bool) -> str:
    deep = "-" * levels + "1"
    if decorated:  # the decorator lies before the span CPython gives the function
        return f"@d({deep})\ndef f():\n    pass\n"
    return f"def f():\n    x = 1\n    return (\n        {deep}\n    )\n"


# Spans of several lines, measured from the source text (the walk skips the statements whose
# span is too short to reach a limit, and must not skip those that can)
MULTI_LINE_CASES = {
    **{
        f"{kind}-{n}": _deep_function(n, kind == "decorated")
        for kind in ("decorated", "function")
        for n in (995, 996, 997, 998, 999)
    },
    "decorated-class": "@d(" + "-" * 998 + "1)\nclass C:\n    x = 1\n",
    "crlf": "def f():\r\n    return (\r\n        " + "-" * 997 + "1)\r\n",
    "lone-cr": "def f():\r    return (\r        " + "-" * 997 + "1)\r",
    "blocks": _nested_ifs(20, "y = [\n" + ",\n".join(["-" * 40 + "1"] * 30) + "]"),
    "deep-blocks": _nested_ifs(95, "y = (" + "-" * 800 + "\n1)"),
    "non-ascii": "def f():\n    s = '\u00e9\u00e9'\n    return (\n" + "-" * 997 + "1)\n",
    "small-statements": "class C:\n    def f(self):\n        return [1,\n 2]\n" * 50,
}


# each case with spans of one line only, and with the text (but the literals of one line
# once: the text makes no difference to them, and they take seconds)
ONE_LINE_LITERALS = {"literal-at-limit", "literal-past-limit", "dict-past-limit", "nested-literal"}
WALKS = [
    pytest.param(source, with_text, id=f"{name}-{'with-text' if with_text else 'one-line'}")
    for name, source in {**CASES, **MULTI_LINE_CASES}.items()
    for with_text in (False, True)
    if not (with_text and name in ONE_LINE_LITERALS)
]


@pytest.mark.parametrize(("source", "with_text"), WALKS)
def test_limits_are_those_of_a_full_walk(source: str, with_text: bool) -> None:
    tree = ast.parse(source)
    depth, widest = _depth_and_widest(tree)
    error = _too_big(tree, "m.py", source if with_text else None)
    if depth > MAX_TREE_DEPTH:
        assert error is not None and error.message.startswith("too deeply nested"), depth
    elif widest > MAX_LITERAL_ELEMENTS:
        assert error is not None and error.message.startswith("too large to analyse"), widest
    else:
        assert error is None, (depth, widest)


@pytest.mark.parametrize("cases", [CASES, MULTI_LINE_CASES], ids=["one-line", "multi-line"])
def test_the_cases_reach_both_sides_of_the_depth_limit(cases: dict[str, str]) -> None:
    depths = [_depth_and_widest(ast.parse(source))[0] for source in cases.values()]
    assert min(d for d in depths if d > MAX_TREE_DEPTH) <= MAX_TREE_DEPTH + 3
    assert max(d for d in depths if d <= MAX_TREE_DEPTH) >= MAX_TREE_DEPTH - 3
