"""The shared binding/scope model (``isolint.scopes``): what a function binds, Python's way."""

from __future__ import annotations

import textwrap

import libcst as cst

from isolint.scopes import (
    BindingKind,
    FunctionScope,
    Resolved,
    ScopeBuilder,
    ScopeChain,
    function_scope,
)

SOURCE = """
def f(a, *b, c=1, **d):
    global G
    x = y = 1
    for i, (j, *k) in z:
        pass
    with o as w:
        pass
    [q for q in r if (n := q)]
    lambda l: (m := l)
    try:
        pass
    except E as e:
        del e
    import os.path, sys as s2
    from m import t
    def inner():
        u = 1
    class C:
        v = 1
    match p:
        case [aa, *bb]:
            pass
        case {**cc}:
            pass
    h: int
    h2: int = 2
    G += 1
"""


def _scope() -> FunctionScope:
    (function,) = cst.parse_module(textwrap.dedent(SOURCE)).body
    assert isinstance(function, cst.FunctionDef)
    return function_scope(function)


def test_every_binding_form_of_the_function_itself_in_source_order() -> None:
    scope = _scope()
    assert [(b.name, b.kind.value) for b in scope.bindings] == [
        ("a", "parameter"),
        ("b", "parameter"),
        ("c", "parameter"),
        ("d", "parameter"),
        ("x", "assign"),
        ("y", "assign"),
        ("i", "for"),
        ("j", "for"),
        ("k", "for"),
        ("w", "with"),
        ("n", "walrus"),  # a walrus in a comprehension binds in the function
        ("e", "except"),
        ("e", "delete"),
        ("os", "import"),
        ("s2", "import"),
        ("t", "import"),
        ("inner", "definition"),
        ("C", "definition"),
        ("aa", "match"),
        ("bb", "match"),
        ("cc", "match"),
        ("h2", "annotated"),
        ("G", "augmented"),
    ]


def test_other_scopes_and_declarations() -> None:
    scope = _scope()
    # comprehension targets, lambda parameters and walruses, nested bodies: other scopes
    for name in ("q", "l", "m", "u", "v", "h"):
        assert not scope.is_local(name), name
    assert scope.globals == frozenset({"G"}) and not scope.is_local("G")
    assert scope.is_local("e") and [b.kind for b in scope.bound("e")] == [BindingKind.EXCEPT]
    assert scope.parameters() == ("a", "b", "c", "d")


def _function(source: str) -> cst.FunctionDef:
    (function,) = cst.parse_module(textwrap.dedent(source)).body
    assert isinstance(function, cst.FunctionDef)
    return function


def _statements(function: cst.FunctionDef) -> list[cst.BaseSmallStatement]:
    assert isinstance(function.body, cst.IndentedBlock)
    found: list[cst.BaseSmallStatement] = []
    for line in function.body.body:
        assert isinstance(line, cst.SimpleStatementLine)
        found.extend(line.body)
    return found


def test_bindings_that_precede_a_node_in_source_order() -> None:
    function = _function(
        """
        def f(key):
            key = key + 1
            other = key
            key = 2
            use(key)
        """
    )
    scope = function_scope(function)
    first, second, third, use = _statements(function)
    assert [b.kind for b in scope.preceding("key", first)] == [BindingKind.PARAMETER]
    assert isinstance(first, cst.Assign)
    # what a statement contains sees the statement's own binding; the statement does not
    assert [b.node for b in scope.preceding("key", first.value)] == [
        scope.bindings[0].node,
        first,
    ]
    assert [b.node for b in scope.preceding("key", second)][-1] is first
    assert [b.node for b in scope.preceding("key", use)][-1] is third
    assert scope.preceding("other", second) == ()


def _chain_at(source: str, wanted: type[cst.CSTNode]) -> ScopeChain:
    """The chain around the first node of type ``wanted``, found with its ancestors."""
    module = cst.parse_module(textwrap.dedent(source))
    builder = ScopeBuilder()
    path: list[cst.CSTNode] = []

    def search(node: cst.CSTNode) -> ScopeChain | None:
        if isinstance(node, wanted):
            return ScopeChain.enclosing(node, path, builder.function_scope)
        path.append(node)
        for child in node.children:
            found = search(child)
            if found is not None:
                return found
        path.pop()
        return None

    chain = search(module)
    assert chain is not None
    return chain


def test_scope_chain_of_a_write_inside_a_lambda_in_a_comprehension() -> None:
    chain = _chain_at(
        """
        def outer(user_id):
            key = user_id
            def inner(items):
                global G
                [(lambda x: stored.append((c, x, key, G, y)))(c) for c in items]
            key = "later"
            y = 1
        """,
        cst.Attribute,  # ``stored.append``: inside the lambda
    )
    assert [type(frame.node).__name__ for frame in chain.frames] == [
        "Lambda",
        "ListComp",
        "FunctionDef",
        "FunctionDef",
    ]
    lambda_parameter = chain.resolve("x")
    assert lambda_parameter is not None and lambda_parameter.frame == 0
    assert lambda_parameter.binding is not None
    assert lambda_parameter.binding.kind is BindingKind.PARAMETER
    comprehension = chain.resolve("c")
    assert comprehension == Resolved(1, None)
    closure = chain.resolve("key")  # outer's key as it is where inner is defined
    assert closure is not None and closure.frame == 3 and closure.binding is not None
    assert isinstance(closure.binding.node, cst.Assign)
    assert cst.Module(body=()).code_for_node(closure.binding.node.value) == "user_id"
    assert chain.resolve("G") is None  # declared global in inner
    assert chain.resolve("stored") is None  # a module-level name
    later = chain.resolve("y")  # local to outer, but bound after inner's def
    assert later == Resolved(3, None)


def test_the_first_iterable_of_a_comprehension_is_read_outside_it() -> None:
    chain = _chain_at(
        """
        def f(c):
            return [c for c in c.items]
        """,
        cst.Attribute,  # ``c.items``: the first iterable, evaluated in f
    )
    assert [type(frame.node).__name__ for frame in chain.frames] == ["FunctionDef"]
    resolved = chain.resolve("c")
    assert resolved is not None and resolved.binding is not None
    assert resolved.binding.kind is BindingKind.PARAMETER
