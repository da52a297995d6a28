"""Positions by unit (only the innermost statement of a block that holds a node is generated)
equal positions from generating the whole module and LibCST's PositionProvider, for every node,
in process."""

from __future__ import annotations

import sys

import libcst as cst
import pytest

from isolint.config import Settings
from isolint.context import RuleContext
from isolint.imports import ImportTable
from isolint.parsing import Parsed, parse
from isolint.positions import _path, _units, positions
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
    # units go down into the suites of if, for, while, with and try statements too
    "nested-blocks": (
        "def f(xs):\n    if xs:\n        # why\n\n        for x in xs:\n            while x:\n"
        "                x = g(x)\n            else:\n                pass\n"
        "        # dedented comment\n    # another\n    elif len(xs) > 1:\n\n"
        "        with open(xs) as fh, ctx():\n            # inner\n            fh.write(xs)\n"
        "    else:\n        try:\n            h()\n        except (A, B) as e:\n"
        "            raise C(e) from e\n        except D:\n            pass\n"
        "        else:\n            k = 1\n        finally:\n            del k\n"
        "    return [x for x in xs]\n"
    ),
    "elif-chain": (
        "if a:\n    x = 1\nelif b:\n    x = 2\nelif c:\n    x = 3\n    y = x\n"
        "else:\n    if d:\n        x = 4\n    else:\n        x = 5\nz = [x]\n"
    ),
    "decorators-in-blocks": (
        "if TYPE_CHECKING:\n    import m\nelse:\n    # leading\n    @dec\n    # between\n"
        "    @dec2(1)\n    def f(a=[]):\n        return a\n\n    @dataclass\n"
        "    class K:\n        x: int = field(default=0)\n"
    ),
    "form-feeds-in-blocks": (
        "def f():\n    if x:\n\x0c\n        y = 1\n    \x0c\n        z = g(y)\n"
        "\x0c    else:\n        w = 2\n"
    ),
    "tabs-in-blocks": (
        "def f():\n\tfor x in y:\n\t\tif x:\n\t\t\tz = {x: [1]}\n\t\telse:\n\t\t\tpass\n"
    ),
    "crlf-in-blocks": (
        "def f():\r\n    if x:\r\n        # c\r\n\r\n        y = (1,\r\n             2)\r\n"
        "    else:\r\n        y = 3\r\n"
    ),
    "non-ascii": (
        "s = 'h\u00e9h\u00e9'\ndef f():\n    if x:  # caf\u00e9\n"
        "        \u00e9t\u00e9 = '\u6f22\u5b57'; y = g(\u00e9t\u00e9)\n"
    ),
    "continuations": (
        "def f():\n    if a and \\\n            b:\n        x = 1 + \\\n            2\n"
        "        with \\\n  open(p) as fh:\n            y = fh\n    z = (3 +\\\n 4)\n"
    ),
    "semicolons-and-suites": (
        "def f():\n    if x:\n        a = 1; b = g(2)\n        if y: c = 3\n        else: d = 4\n"
        "    while z: break\n"
    ),
    "async": (
        "async def f(xs):\n    async for x in xs:\n        async with x as y:\n"
        "            await y.send(x)\n"
    ),
    "match": (
        "def f(p):\n    match p:\n        case [x, *rest] if x:\n            return g(x)\n"
        "        case {'k': v}:\n            pass\n        case _:\n            if p:\n"
        "                return 1\n"
    ),
    "empty-lines-at-block-ends": (
        "class A:\n    def f(self):\n        if self:\n            x = 1\n\n\n"
        "            # trailing\n\n        y = 2\n\n\n    z = 3\n"
    ),
    # names and dotted names are found in their statement's source when their text occurs
    # there once: the same text elsewhere (strings, comments, keywords, attributes) is ambiguous
    "names-in-source": (
        "def f(v, w):\n    # v and w.v\n    x = g(v, w.v, 'v', k=v)  # v\n    y = w.v.u(w.v)\n"
        "    z = a.b.c.d(a.b, (c), ( d ), e . f, f'{v!r:{w}}')\n    q = (\n        h(\n"
        "            v.\\\nw,\n        ) + vv + v_v + _v + v2\n    )\n"
        "    \u00e9\u0301 = \u00e9\u0301\u0301 + \u00e9 + \u00e9\u0301; r = \u00e9\u0301.v\n"
        "    return u'v' + b'v'\n"
    ),
    # a text occurring as often as the statement has nodes of it: the k-th node, the k-th
    # occurrence (source order: a keyword before its value, an IfExp's body before its test)
    "repeated-names": (
        "def f(a, b, x):\n    ops = [\n        m.A(x=x, y=m.A),\n        m.A(b if a else b),\n"
        "        g(f'{a}{a!r:{b}}', a[b][b:a], *a, **b, k=a),\n    ]\n"
        "    z = [m.A, 'm.A', a.b.b, b.b]  # m.A\n    del a.b, a.b[a]\n"
        "    return -a + (not a) * a if a else a\n"
    ),
    # a class's or function's name is read from the source after ``class``/``def``
    "definition-names": (
        "class\tA: pass\nasync  def  f(): pass\nclass \\\n  B: pass\n"
        "class Caf\u00e9(A):\n    def  f(self): return 1\n    @d\n    async\tdef\tf_(self): pass\n"
        "def g(): return [f for f in x]\ndef \u00e9\u0301(): pass\n"
    ),
    "relative-imports": (
        "from .a.b import c  # a.b\nfrom ..a.b import (\n    b,\n    d as e,\n)\n"
        "from . import a\nimport a.b.c as d, a.b\n"
    ),
}
if sys.version_info >= (3, 11):
    SOURCES["try-star"] = (
        "def f():\n    try:\n        g()\n    except* ValueError as eg:\n        h(eg)\n"
        "    except* (TypeError, KeyError):\n        pass\n    finally:\n        k()\n"
    )


def _units_and_nodes(parsed: Parsed) -> tuple[dict[int, tuple[int, ...]], list[cst.CSTNode]]:
    options = LintOptions.create(Settings(), ())
    info = file_info("pkg/mod.py", options)
    context = RuleContext(
        info, parsed.module, options.settings, ImportTable(info.module_name, False)
    )
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
    # every unit is found from CPython's tree: none falls back to generating the whole module
    paths = {_path(units.get(id(node))) for node in nodes}
    assert () not in paths
    assert _units(parsed.module, parsed.text, paths, parsed.tree) is not None


@pytest.mark.parametrize(
    "source",
    [s for name, s in SOURCES.items() if "form-feed" not in name],
    ids=[name for name in SOURCES if "form-feed" not in name],
)
def test_positions_by_unit_are_those_of_position_provider(source: str) -> None:
    """Where LibCST reproduces the source (it drops form feeds), they are PositionProvider's."""
    parsed = parse(source.encode("utf-8"), "pkg/mod.py")
    assert isinstance(parsed, Parsed)
    assert parsed.module.code == source
    units, nodes = _units_and_nodes(parsed)
    wrapper = cst.MetadataWrapper(parsed.module, unsafe_skip_copy=True)
    expected = wrapper.resolve(cst.metadata.PositionProvider)
    assert positions(parsed.module, nodes, parsed.text, units, parsed.tree) == {
        node: expected[node] for node in nodes
    }


def _units_by_code(source: str, kind: type[cst.CSTNode]) -> dict[str, tuple[int, ...]]:
    """The unit path the walk records for each ``kind`` node of ``SOURCES[source]``, by code."""
    parsed = parse(SOURCES[source].encode("utf-8"), "pkg/mod.py")
    assert isinstance(parsed, Parsed)
    units, nodes = _units_and_nodes(parsed)
    return {
        parsed.module.code_for_node(node): units[id(node)]
        for node in nodes
        if isinstance(node, kind)
    }


def test_units_reach_into_compound_statements() -> None:
    found = _units_by_code("elif-chain", cst.Assign)
    # the suites of an if: its own (0), each elif's (1, 2), the else's (3)
    assert found == {
        "x = 1": (0, 0, 0),
        "x = 2": (0, 1, 0),
        "x = 3": (0, 2, 0),
        "y = x": (0, 2, 1),
        "x = 4": (0, 3, 0, 0, 0),
        "x = 5": (0, 3, 0, 1, 0),
        "z = [x]": (1,),
    }


def test_units_reach_into_method_bodies() -> None:
    found = _units_by_code("methods", cst.Call)
    # A is the second top-level statement; f its third member, g its fourth; the call in g is
    # in the first statement of the first suite of g's first statement (its `async with`)
    assert found == {"os.path.join('a', 'b')": (1, 2, 0), "w.send(self.f)": (1, 3, 0, 0, 0)}
