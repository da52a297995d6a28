"""The depth and literal limits checked on CPython's tree (isolint.parsing._too_big), in process.

``_too_big`` skips expressions whose one-line source span is too short to reach either limit;
these tests compare it with a plain walk of every node at and around both limits.
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


@pytest.mark.parametrize("source", list(CASES.values()), ids=list(CASES))
def test_limits_are_those_of_a_full_walk(source: str) -> None:
    tree = ast.parse(source)
    depth, widest = _depth_and_widest(tree)
    error = _too_big(tree, "m.py")
    if depth > MAX_TREE_DEPTH:
        assert error is not None and error.message.startswith("too deeply nested"), depth
    elif widest > MAX_LITERAL_ELEMENTS:
        assert error is not None and error.message.startswith("too large to analyse"), widest
    else:
        assert error is None, (depth, widest)


def test_the_cases_reach_both_sides_of_the_depth_limit() -> None:
    depths = [_depth_and_widest(ast.parse(source))[0] for source in CASES.values()]
    assert min(d for d in depths if d > MAX_TREE_DEPTH) <= MAX_TREE_DEPTH + 3
    assert max(d for d in depths if d <= MAX_TREE_DEPTH) >= MAX_TREE_DEPTH - 3
