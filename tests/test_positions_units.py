"""Positions by unit (only the statement of a module, class or function body that holds a node
is generated) equal positions from generating the whole module, for every node, in process."""

from __future__ import annotations

import libcst as cst
import pytest

from isolint.config import Settings
from isolint.context import RuleContext
from isolint.imports import ImportTable
from isolint.parsing import Parsed, parse
from isolint.positions import positions
from isolint.runner import LintOptions, file_info
from isolint.walk import Walker

SOURCES = {
    "methods": (
        "import os\n\n\nclass A:\n    '''Doc.'''\n\n    x = 1\n\n    @property\n"
        "    def f(self):\n        # comment\n        y = os.path.join('a', 'b')\n\n"
        "        return y\n\n    async def g(self, z=[]):\n        async with z as w:\n"
        "            await w.send(self.f)\n"
    ),
    "nested-functions": (
        "def outer(a):\n    def inner(b):\n        class Local:\n            def m(self):\n"
        "                return a + b\n        return Local\n    return inner\n"
    ),
    "decorators-and-comments": (
        "@d1\n# between\n@d2(x=1)\ndef f():\n    pass\n\n\nclass B(Base):\n"
        "    # leading\n    @staticmethod\n    def s(): return 1; x = 2\n"
    ),
    "tabs": "class T:\n\tdef f(self):\n\t\tif self:\n\t\t\treturn {1: [2, (3,)]}\n",
    "form-feed": "class A:\n\x0c    def f(self):\n\x0c        return 1\n\x0c\ndef g():\n    x = 1\n",
    "compound": (
        "def f(xs):\n    for x in xs:\n        try:\n            pass\n        except E as e:\n"
        "            raise\n        else:\n            pass\n    while f:\n        break\n"
        "    else:\n        y = [i for i in xs if i]\n    return lambda: y\n"
    ),
    "one-line-bodies": "class C: x = 1\ndef f(): return g(h)\nif x: y = 1\n",
    "crlf": "class A:\r\n    def f(self):\r\n        return (1,\r\n                2)\r\n",
}


def _units_and_nodes(parsed: Parsed) -> tuple[dict[int, tuple[int, ...]], list[cst.CSTNode]]:
    options = LintOptions.create(Settings(), ())
    info = file_info("pkg/mod.py", options)
    context = RuleContext(info, parsed.module, options.settings, ImportTable(info.module_name, False))
    walker = Walker()
    walker.walk(context, [])
    nodes: list[cst.CSTNode] = []
    pending: list[cst.CSTNode] = [parsed.module]
    while pending:
        node = pending.pop()
        if node is not parsed.module:
            nodes.append(node)
        pending.extend(c for c in walker.children(node) if isinstance(c, cst.CSTNode))
    return context.top_of, nodes


@pytest.mark.parametrize("source", list(SOURCES.values()), ids=list(SOURCES))
def test_positions_by_unit_equal_whole_module_positions(source: str) -> None:
    parsed = parse(source.encode("utf-8"), "pkg/mod.py")
    assert isinstance(parsed, Parsed)
    units, nodes = _units_and_nodes(parsed)
    by_unit = positions(parsed.module, nodes, parsed.text, units, parsed.tree)
    whole = positions(parsed.module, nodes, parsed.text, None, parsed.tree)
    assert len(whole) == len(nodes)
    assert by_unit == whole
    for node in nodes:  # one node at a time: each unit alone
        assert positions(parsed.module, [node], parsed.text, units, parsed.tree) == {
            node: whole[node]
        }


def test_units_reach_into_method_bodies() -> None:
    parsed = parse(SOURCES["methods"].encode("utf-8"), "pkg/mod.py")
    assert isinstance(parsed, Parsed)
    units, nodes = _units_and_nodes(parsed)
    found = {
        parsed.module.code_for_node(node): units[id(node)]
        for node in nodes
        if isinstance(node, cst.Call)
    }
    # A is the second top-level statement; f its third member, g its fourth
    assert found == {"os.path.join('a', 'b')": (1, 2, 0), "w.send(self.f)": (1, 3, 0)}
