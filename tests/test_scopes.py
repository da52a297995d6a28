"""The shared binding/scope model (``isolint.scopes``): what a function binds, Python's way."""

from __future__ import annotations

import textwrap

import libcst as cst

from isolint.scopes import BindingKind, FunctionScope, function_scope

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
