"""Pure detectors of singleton idioms over LibCST nodes, shared by the ISO1 rules and ISO202."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import cast

import libcst as cst

from isolint.api import ImportTable, dotted_name

# Standard-library metaclasses a project metaclass commonly derives from (besides ``type``).
_KNOWN_METACLASSES = frozenset(
    {"builtins.type", "abc.ABCMeta", "enum.EnumMeta", "enum.EnumType", "typing._ProtocolMeta"}
)
_METACLASS_SUFFIXES = ("Meta", "Metaclass", "MetaClass")
# Builtins and library callables whose results are immutable values (or process-wide by design,
# like loggers): sharing one of them cannot carry one user's state to another.
_IMMUTABLE_BUILTINS = frozenset(
    {
        "bool",
        "bytes",
        "chr",
        "complex",
        "float",
        "frozenset",
        "hash",
        "int",
        "len",
        "object",
        "ord",
        "range",
        "repr",
        "str",
        "tuple",
    }
)
IMMUTABLE_FACTORIES = frozenset(
    {
        "decimal.Decimal",
        "fractions.Fraction",
        "ipaddress.IPv4Address",
        "ipaddress.IPv4Network",
        "ipaddress.IPv6Address",
        "ipaddress.IPv6Network",
        "logging.getLogger",
        "os.environ.get",
        "os.getenv",
        "pathlib.Path",
        "pathlib.PosixPath",
        "pathlib.PurePath",
        "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
        "pathlib.WindowsPath",
        "re.compile",
        "string.Template",
        "struct.Struct",
        "types.MappingProxyType",
        "uuid.UUID",
        "zoneinfo.ZoneInfo",
    }
)
_IMPLICIT_CLASSMETHODS = frozenset({"__init_subclass__", "__class_getitem__"})

Statement = cst.BaseStatement | cst.BaseSmallStatement


# --- walking a function body without entering nested scopes ----------------------------------


def _suite_items(suite: cst.BaseSuite) -> Sequence[Statement]:
    body: Sequence[Statement] = suite.body  # IndentedBlock: statements; one-liner: small ones
    return body


def _child_suites(statement: cst.BaseCompoundStatement) -> Iterator[cst.BaseSuite]:
    """The suites directly nested in a compound statement (``elif`` chains included)."""
    if isinstance(statement, cst.Match):
        for case in statement.cases:
            yield case.body
        return
    yield statement.body
    if isinstance(statement, (cst.Try, cst.TryStar)):
        for handler in statement.handlers:
            yield handler.body
        if statement.finalbody is not None:
            yield statement.finalbody.body
    orelse = getattr(statement, "orelse", None)
    while isinstance(orelse, cst.If):
        yield orelse.body
        orelse = orelse.orelse
    if isinstance(orelse, cst.Else):
        yield orelse.body


# LibCST's statement classes, to tell them by exact type (isinstance() against its ABC-based
# classes is slow: this runs on every statement of every method of every class).
_SMALL_STATEMENTS: frozenset[type] = frozenset(
    c for c in vars(cst).values() if isinstance(c, type) and issubclass(c, cst.BaseSmallStatement)
)
_COMPOUND_STATEMENTS: frozenset[type] = frozenset(
    c
    for c in vars(cst).values()
    if isinstance(c, type)
    and issubclass(c, cst.BaseCompoundStatement)
    and not issubclass(c, (cst.FunctionDef, cst.ClassDef))
)


def iter_small_statements(suite: cst.BaseSuite) -> Iterator[cst.BaseSmallStatement]:
    """Every simple statement of ``suite`` in source order, skipping nested defs and classes."""
    stack: list[Statement] = list(reversed(_suite_items(suite)))
    while stack:
        item = stack.pop()
        item_type = type(item)
        if item_type is cst.SimpleStatementLine:
            yield from cast(cst.SimpleStatementLine, item).body
        elif item_type in _SMALL_STATEMENTS:
            yield cast(cst.BaseSmallStatement, item)
        elif item_type in _COMPOUND_STATEMENTS:
            _push_suites(cast(cst.BaseCompoundStatement, item), stack)
        elif isinstance(item, cst.SimpleStatementLine):  # not a class of LibCST's own
            yield from item.body
        elif isinstance(item, cst.BaseSmallStatement):
            yield item
        elif isinstance(item, (cst.FunctionDef, cst.ClassDef)):
            continue
        elif isinstance(item, cst.BaseCompoundStatement):
            _push_suites(item, stack)


def _push_suites(item: cst.BaseCompoundStatement, stack: list[Statement]) -> None:
    """Push the statements of ``item``'s suites onto ``stack``, the first on top."""
    nested: list[Statement] = []
    for child in _child_suites(item):
        nested.extend(_suite_items(child))
    stack.extend(reversed(nested))


def module_function_names(module: cst.Module) -> frozenset[str]:
    """The names of the functions a module defines outside any class or function (at its top
    level or in its ``if``/``try``/``with``/loop/``match`` blocks)."""
    names: set[str] = set()
    pending: list[Statement] = list(module.body)
    while pending:
        statement = pending.pop()
        statement_type = type(statement)  # exact types first: isinstance() is slow on LibCST's
        if statement_type is cst.SimpleStatementLine or statement_type is cst.ClassDef:
            continue
        if statement_type is cst.FunctionDef:
            names.add(cast(cst.FunctionDef, statement).name.value)
        elif statement_type in _COMPOUND_STATEMENTS:
            for suite in _child_suites(cast(cst.BaseCompoundStatement, statement)):
                pending.extend(_suite_items(suite))
        elif isinstance(statement, cst.FunctionDef):  # not a class of LibCST's own
            names.add(statement.name.value)
        elif isinstance(statement, cst.BaseCompoundStatement) and not isinstance(
            statement, cst.ClassDef
        ):
            for suite in _child_suites(statement):
                pending.extend(_suite_items(suite))
    return frozenset(names)


def assignments(
    small: cst.BaseSmallStatement,
) -> Iterator[tuple[cst.BaseAssignTargetExpression | cst.BaseExpression, cst.BaseExpression]]:
    """``(target, value)`` for each target an ``=`` or annotated assignment binds."""
    if type(small) is cst.Assign:  # exact types: isinstance() is slow on LibCST's classes
        for target in small.targets:
            yield target.target, small.value
    elif type(small) is cst.AnnAssign and small.value is not None:
        yield small.target, small.value


# --- classes and methods ----------------------------------------------------------------------


def class_methods(node: cst.ClassDef) -> Iterator[cst.FunctionDef]:
    """The functions defined directly in a class body."""
    for statement in _suite_items(node.body):
        if type(statement) is cst.FunctionDef:  # exact type: isinstance() is slow on LibCST's
            yield statement
        elif type(statement) is not cst.SimpleStatementLine and isinstance(
            statement, cst.FunctionDef
        ):
            yield statement


def first_param(func: cst.FunctionDef) -> str | None:
    params = (*func.params.posonly_params, *func.params.params)
    return params[0].name.value if params else None


def has_decorator(func: cst.FunctionDef, name: str) -> bool:
    """True if ``func`` is decorated with the builtin (unqualified) decorator ``name``."""
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == name for d in func.decorators
    )


@dataclasses.dataclass(frozen=True)
class Method:
    """How a method refers to its class and its instance.

    ``class_refs`` are the plain names that denote the class inside the method (the class's own
    name, plus ``cls`` for class methods and ``__new__``); ``self_name`` names the instance.
    """

    node: cst.FunctionDef
    kind: str  # "new" | "class" | "static" | "instance"
    class_refs: frozenset[str]
    self_name: str | None

    @classmethod
    def of(cls, func: cst.FunctionDef, class_name: str) -> Method:
        first = first_param(func)
        own = frozenset({class_name})
        if func.name.value == "__new__":
            kind = "new"
        elif has_decorator(func, "staticmethod"):
            return cls(func, "static", own, None)
        elif has_decorator(func, "classmethod") or func.name.value in _IMPLICIT_CLASSMETHODS:
            kind = "class"
        else:
            return cls(func, "instance", own, first)
        return cls(func, kind, own | {first} if first else own, None)

    def is_class_ref(self, expr: cst.BaseExpression) -> bool:
        """``Cls``, ``cls``, ``type(self)`` or ``self.__class__``."""
        if isinstance(expr, cst.Name):
            return expr.value in self.class_refs
        if self.self_name is None:
            return False
        if isinstance(expr, cst.Attribute):
            return expr.attr.value == "__class__" and is_name(expr.value, self.self_name)
        if isinstance(expr, cst.Call) and len(expr.args) == 1:
            return is_name(expr.func, "type") and is_name(expr.args[0].value, self.self_name)
        return False

    def class_attribute(self, expr: cst.BaseExpression) -> str | None:
        """``attr`` for ``cls.attr`` or ``cls.attr[key]`` (any class reference), else None."""
        while isinstance(expr, cst.Subscript):
            expr = expr.value
        if isinstance(expr, cst.Attribute) and self.is_class_ref(expr.value):
            return expr.attr.value
        return None


def looks_like_metaclass(node: cst.ClassDef, imports: ImportTable) -> bool:
    """True if a base is ``type``, a standard metaclass, or a name ending in ``Meta``."""
    for base in node.bases:
        if is_name(base.value, "type") and "type" not in imports.bindings:
            return True
        if imports.qualified_name(base.value) in _KNOWN_METACLASSES:
            return True
        name = dotted_name(base.value)
        if name is not None and name.rsplit(".", 1)[-1].endswith(_METACLASS_SUFFIXES):
            return True
    return False


def makes_immutable(expr: cst.BaseExpression, imports: ImportTable) -> bool:
    """True if ``expr`` calls a builtin or library factory of immutable values (``re.compile``)."""
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if not isinstance(expr, cst.Call):
        return False
    func = expr.func
    if isinstance(func, cst.Name) and func.value not in imports.bindings:
        return func.value in _IMMUTABLE_BUILTINS
    # a function-local `import re` is not in the (module-level) table: fall back to the spelling
    qualified = imports.qualified_name(func) or dotted_name(func)
    return qualified in IMMUTABLE_FACTORIES


# --- small expression predicates ----------------------------------------------------------------


def is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _is_none(expr: cst.BaseExpression) -> bool:
    return is_name(expr, "None")


def creates_object(expr: cst.BaseExpression) -> bool:
    """A call (possibly awaited) or a container display: something that makes a new object."""
    if isinstance(expr, cst.Await):
        expr = expr.expression
    return isinstance(
        expr, (cst.Call, cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)
    )


def unset_polarity(test: cst.BaseExpression, name: str) -> bool | None:
    """Whether ``test`` being true means ``name`` is unset (True) or set (False).

    Understands ``name``, ``not name``, ``name is None``, ``name is not None``, ``== None``,
    ``"name" not in globals()`` and ``and``/``or`` combinations; None if ``test`` does not check
    ``name``.
    """
    if isinstance(test, cst.Name):
        return False if test.value == name else None
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = unset_polarity(test.expression, name)
        return None if inner is None else not inner
    if isinstance(test, cst.BooleanOperation):
        first = unset_polarity(test.left, name)
        return first if first is not None else unset_polarity(test.right, name)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left, comparison = test.left, test.comparisons[0]
        right, operator = comparison.comparator, comparison.operator
        if (is_name(left, name) and _is_none(right)) or (_is_none(left) and is_name(right, name)):
            if isinstance(operator, (cst.Is, cst.Equal)):
                return True
            if isinstance(operator, (cst.IsNot, cst.NotEqual)):
                return False
        if (
            isinstance(left, cst.SimpleString)
            and left.evaluated_value == name
            and isinstance(right, cst.Call)
            and is_name(right.func, "globals")
        ):
            if isinstance(operator, cst.NotIn):
                return True
            if isinstance(operator, cst.In):
                return False
    return None


# --- ISO103: the lazy module-level getter --------------------------------------------------------


def declared_globals(func: cst.FunctionDef) -> frozenset[str]:
    """Names a ``global`` statement of ``func`` itself (not of nested functions) declares."""
    names: set[str] = set()
    for small in iter_small_statements(func.body):
        if isinstance(small, cst.Global):
            names.update(item.name.value for item in small.names)
    return frozenset(names)


@dataclasses.dataclass(frozen=True)
class LazyInit:
    """One lazy initialisation: ``statement`` binds the new object ``value`` to global ``name``.

    ``statement`` is the ``Assign``/``AnnAssign`` or the ``NamedExpr``; ``guards`` are the
    declared globals the binding is guarded on (``{"_x"}`` for ``if _x is None: _x = X()``).
    """

    name: str
    value: cst.BaseExpression
    statement: cst.CSTNode
    guards: frozenset[str]


def lazy_initializations(func: cst.FunctionDef) -> tuple[LazyInit, ...]:
    """Where ``func`` lazily creates module globals: empty unless ``func`` is a lazy getter.

    A binding counts when ``func`` declares the name ``global`` and binds a new object to it (a
    call, possibly awaited, or a container display) only on a path where a global is known to be
    unset: ``if _x is None: _x = Manager()``, ``if not _x``, the double-checked form under a
    lock, an early ``if _x is not None: return _x``, ``_x = _x or Manager()``,
    ``return _x or (_x := Manager())``, ``try: return _x`` / ``except NameError: _x = ...``.
    The guard may be another global if it is a flag set under its own guard
    (``if not _ready: _x = X(); _ready = True``). Plain rebinding (``_x = value``,
    ``_count += 1``, ``if _x is None: _x = 0``) is not a lazy initialisation.
    """
    return _lazy_scan(func)[0]


def lazy_initialized_globals(func: cst.FunctionDef) -> frozenset[str]:
    """The globals taking part in ``func``'s lazy initialisations (see ``lazy_initializations``).

    The lazily created names, plus the globals used as their "already done" flags
    (``_ready`` in ``if not _ready: _x = X(); _ready = True``). Empty if ``func`` is not a lazy
    getter. ISO202 can use it to leave the lazy-getter shape to ISO103.
    """
    inits, flags = _lazy_scan(func)
    guards = frozenset[str]().union(*(init.guards for init in inits))
    return frozenset(init.name for init in inits) | (guards & flags)


def set_once_bindings(func: cst.FunctionDef) -> dict[str, int]:
    """The declared globals that ``func`` binds only where they are known to be unset
    (``if not _key: ... _key = fetched``, under the same guards as ``lazy_initializations``),
    each with the number of such bindings (the caller compares it with every rebinding it
    sees: ``for``/``with`` targets are not counted here)."""
    names = declared_globals(func)
    if not names:
        return {}
    scan = _LazyScan(names)
    scan.block(_suite_items(func.body), frozenset())
    counts: dict[str, int] = {}
    for name, unset in scan.bindings:
        counts[name] = counts.get(name, 0) + 1 if unset and counts.get(name, 0) >= 0 else -1
    return {name: count for name, count in counts.items() if count > 0}


def _lazy_scan(func: cst.FunctionDef) -> tuple[tuple[LazyInit, ...], frozenset[str]]:
    """The accepted lazy initialisations of ``func``, and the globals it binds while unset."""
    names = declared_globals(func)
    if not names:
        return (), frozenset()
    scan = _LazyScan(names)
    scan.block(_suite_items(func.body), frozenset())
    flags = frozenset(scan.flags)
    inits = tuple(init for init in scan.inits if init.name in init.guards or init.guards & flags)
    return inits, flags


class _LazyScan:
    """One pass over a function body tracking which declared globals are known to be unset."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self.inits: list[LazyInit] = []
        self.flags: set[str] = set()  # globals bound while known unset: "already done" flags
        self.bindings: list[tuple[str, bool]] = []  # (global, bound while it is known unset?)

    def bind(
        self,
        name: str,
        value: cst.BaseExpression,
        statement: cst.CSTNode,
        unset: frozenset[str],
    ) -> None:
        """Record a binding of declared global ``name`` made while ``unset`` are unset."""
        self.bindings.append((name, name in unset))
        if name in unset:
            self.flags.add(name)
        if unset and creates_object(value):
            self.inits.append(LazyInit(name, value, statement, unset))
        elif (created := self.lazy_value(value, name)) is not None:
            self.inits.append(LazyInit(name, created, statement, unset | {name}))

    def branches(self, test: cst.BaseExpression) -> tuple[frozenset[str], frozenset[str]]:
        """Names known unset when ``test`` is true, and when it is false."""
        when_true: set[str] = set()
        when_false: set[str] = set()
        for name in self.names:
            polarity = unset_polarity(test, name)
            if polarity is True:
                when_true.add(name)
            elif polarity is False:
                when_false.add(name)
        return frozenset(when_true), frozenset(when_false)

    def block(self, items: Sequence[Statement], unset: frozenset[str]) -> None:
        for item in items:
            if isinstance(item, cst.SimpleStatementLine):
                for small in item.body:
                    self.small(small, unset)
            elif isinstance(item, cst.BaseSmallStatement):
                self.small(item, unset)
            elif isinstance(item, (cst.FunctionDef, cst.ClassDef)):
                continue
            elif isinstance(item, (cst.If, cst.While)):
                unset = self.conditional(item, unset)
            elif isinstance(item, (cst.Try, cst.TryStar)):
                self.block(_suite_items(item.body), unset)
                read = self.names & _names_in(item.body)
                for handler in item.handlers:
                    extra = read if _catches_name_error(handler) else frozenset()
                    self.block(_suite_items(handler.body), unset | extra)
                if item.orelse is not None:
                    self.block(_suite_items(item.orelse.body), unset)
                if item.finalbody is not None:
                    self.block(_suite_items(item.finalbody.body), unset)
            elif isinstance(item, cst.BaseCompoundStatement):
                for suite in _child_suites(item):
                    self.block(_suite_items(suite), unset)

    def conditional(self, item: cst.If | cst.While, unset: frozenset[str]) -> frozenset[str]:
        """Scan an ``if``/``elif``/``else`` chain or a ``while``; return what is unset after it."""
        self.expression(item.test, unset)
        when_true, when_false = self.branches(item.test)
        self.block(_suite_items(item.body), unset | when_true)
        orelse = item.orelse
        if isinstance(orelse, cst.If):
            self.conditional(orelse, unset | when_false)
        elif isinstance(orelse, cst.Else):
            self.block(_suite_items(orelse.body), unset | when_false)
        if isinstance(item, cst.If) and orelse is None and _exits(item.body):
            return unset | when_false  # `if _x is not None: return _x` guards what follows
        return unset

    def small(self, small: cst.BaseSmallStatement, unset: frozenset[str]) -> None:
        for target, value in assignments(small):
            if isinstance(target, cst.Name) and target.value in self.names:
                self.bind(target.value, value, small, unset)
        checked = getattr(small, "value", None)
        if isinstance(checked, cst.BaseExpression):
            self.expression(checked, unset)

    def lazy_value(self, value: cst.BaseExpression, name: str) -> cst.BaseExpression | None:
        """``New()`` in ``name or New()`` / ``name if name is not None else New()`` (or mirrored)."""
        created: cst.BaseExpression | None = None
        if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
            if unset_polarity(value.left, name) is False:
                created = value.right
        elif isinstance(value, cst.IfExp):
            polarity = unset_polarity(value.test, name)
            if polarity is False and is_name(value.body, name):
                created = value.orelse
            elif polarity is True and is_name(value.orelse, name):
                created = value.body
        return created if created is not None and creates_object(created) else None

    def expression(self, expr: cst.CSTNode, unset: frozenset[str]) -> None:
        """Find walrus initialisations, following ``or``/``and``/``if else`` short-circuits."""
        if isinstance(expr, cst.Lambda):
            return
        if isinstance(expr, cst.NamedExpr) and isinstance(expr.target, cst.Name):
            if expr.target.value in self.names:
                self.bind(expr.target.value, expr.value, expr, unset)
            self.expression(expr.value, unset)
            return
        if isinstance(expr, cst.BooleanOperation):
            self.expression(expr.left, unset)
            when_true, when_false = self.branches(expr.left)
            is_or = isinstance(expr.operator, cst.Or)
            self.expression(expr.right, unset | (when_false if is_or else when_true))
            return
        if isinstance(expr, cst.IfExp):
            self.expression(expr.test, unset)
            when_true, when_false = self.branches(expr.test)
            self.expression(expr.body, unset | when_true)
            self.expression(expr.orelse, unset | when_false)
            return
        for child in _children(expr):
            self.expression(child, unset)


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, cst.CSTNode))


def _names_in(node: cst.CSTNode) -> frozenset[str]:
    """Every plain name used under ``node`` (nested scopes included: it is only a filter)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            found.add(current.value)
        else:
            stack.extend(_children(current))
    return frozenset(found)


def _catches_name_error(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    kind = handler.type
    if kind is None:
        return False
    options = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
    return any(is_name(option, "NameError") for option in options)


def _exits(suite: cst.BaseSuite) -> bool:
    """True if the suite ends in ``return`` or ``raise``."""
    items = _suite_items(suite)
    if not items:
        return False
    last = items[-1]
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1]
    return isinstance(last, (cst.Return, cst.Raise))
