"""ISO203: a mutable container class attribute that the class's methods mutate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    Candidate,
    Example,
    ImportTable,
    Option,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
    dotted_name,
)
from isolint.rules._bleed import REQUEST_SCOPED_NAMES
from isolint.rules._constants import elements_change, inert_element_classes, request_data_flows
from isolint.rules._containers import (
    is_mutable_container,
    mutated_containers,
    subscript_root,
    target_elements,
)
from isolint.rules._state import inert_class

# Class decorators that turn annotated class attributes into per-instance fields.
_FIELD_DECORATORS = frozenset(
    {
        "attr.attrs",
        "attr.define",
        "attr.frozen",
        "attr.mutable",
        "attr.s",
        "attrs.define",
        "attrs.frozen",
        "attrs.mutable",
        "dataclasses.dataclass",
        "pydantic.dataclasses.dataclass",
    }
)
# Base classes whose class attributes are per-instance fields (ClassVar-annotated ones excepted).
_MODEL_BASE_SUFFIXES = (".BaseModel", ".BaseSettings")
_MODEL_BASES = frozenset({"sqlmodel.SQLModel"})
# Base classes whose class bodies declare members or types, not shared state.
_DECLARATIVE_BASES = frozenset(
    f"{module}.{name}"
    for module in ("enum", "typing", "typing_extensions")
    for name in (
        "Enum",
        "Flag",
        "IntEnum",
        "IntFlag",
        "StrEnum",
        "NamedTuple",
        "Protocol",
        "TypedDict",
    )
)
_CLASSVAR = frozenset({"typing.ClassVar", "typing_extensions.ClassVar"})
# Methods whose first parameter is the class, without a decorator saying so.
_IMPLICIT_CLASS_METHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
# Methods that run before any other method sees the instance.
_CONSTRUCTORS = frozenset({"__init__", "__post_init__"})


@dataclass
class _ClassState:
    """What the walk has learned about one class so far."""

    name: str
    # "plain"; "dataclass" (annotated attributes are fields); "model" (pydantic: every attribute
    # but a ClassVar is a field, annotated or not, as in pydantic v1); "declarative" (skipped).
    kind: str
    attributes: dict[str, tuple[cst.CSTNode, str]] = field(default_factory=dict)
    rebound_per_instance: set[str] = field(default_factory=set)
    # attribute -> (mutated through the instance?, method scope), in source order
    mutations: list[tuple[str, bool, str]] = field(default_factory=list)
    # attributes stored into under a key that is not the class (``cls._instances[user_id] = ..``)
    keyed: set[str] = field(default_factory=set)
    # attribute -> (function, mutating statement or call) for each mutation
    writes: dict[str, list[tuple[cst.FunctionDef | cst.Lambda, cst.CSTNode]]] = field(
        default_factory=dict
    )


@dataclass(frozen=True)
class ClassContainer:
    """ISO203's candidate: a container class attribute of ``module`` that the class's methods
    mutate but that is declared to hold only inert objects (``dict[str, httpx.Client]``): the
    element classes as written, for the project phase to check, and the finding (message,
    cause) it becomes if one of them carries state."""

    module: str
    element_classes: tuple[str, ...]
    message: str
    cause: str


@dataclass(frozen=True)
class _Method:
    """A function in a class body: its name and how its first parameter refers to the class."""

    name: str
    receiver: str | None
    receiver_is_class: bool


def _class_kind(node: cst.ClassDef, imports: ImportTable) -> str:
    for decorator in node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        if imports.qualified_name(expr) in _FIELD_DECORATORS:
            return "dataclass"
    kind = "plain"
    for base in node.bases:
        if base.keyword is not None:
            continue
        expr = base.value.value if isinstance(base.value, cst.Subscript) else base.value
        qualified = imports.qualified_name(expr)
        if qualified is None:
            continue
        if qualified in _DECLARATIVE_BASES:
            return "declarative"
        if qualified in _MODEL_BASES or qualified.endswith(_MODEL_BASE_SUFFIXES):
            kind = "model"
    return kind


def _method(function: cst.FunctionDef | cst.Lambda) -> _Method:
    params = function.params
    first = (*params.posonly_params, *params.params)
    receiver = first[0].name.value if first else None
    if isinstance(function, cst.Lambda):
        return _Method("<lambda>", receiver, receiver_is_class=False)
    name = function.name.value
    decorators = {
        d.decorator.value for d in function.decorators if isinstance(d.decorator, cst.Name)
    }
    if "staticmethod" in decorators:
        return _Method(name, None, receiver_is_class=False)
    is_class = "classmethod" in decorators or name in _IMPLICIT_CLASS_METHODS
    return _Method(name, receiver, receiver_is_class=is_class)


_INSTANCE_STORES = frozenset({"_instance", "__instance", "_instances", "__instances"})


def _is_metaclass(node: cst.ClassDef) -> bool:
    """A class deriving from ``type`` (or a ``*Meta`` base): its attributes are per class."""
    for base in node.bases:
        name = dotted_name(base.value) or ""
        last = name.rsplit(".", 1)[-1]
        if last == "type" or last.endswith(("Meta", "Metaclass")):
            return True
    return False


class MutableClassAttribute(Rule):
    """
    ## What it does
    Finds class attributes bound in the class body to a mutable container (a list, dict or set
    literal or comprehension, `dict()`, `defaultdict(list)`...) that the class's methods mutate
    through `self.attr`, `cls.attr`, `type(self).attr` or `ClassName.attr`: a mutating method
    call, item assignment or deletion, or augmented assignment.

    Not reported: attributes each instance rebinds in `__init__` (`self.items = []`) before
    mutating them through `self`; fields of dataclasses, attrs classes and pydantic models
    (unless annotated `ClassVar`); members of Enum, TypedDict, NamedTuple and Protocol classes;
    class attributes that are only read (lookup tables) or only filled in the class body; and
    registries filled by `__init_subclass__`, which runs when a subclass is defined.

    Not reported either: a container attribute declared to hold only inert objects (class
    objects, instances of a library class, or of a stateless project class that is not a
    record), that no request-scoped name flows into and whose stored objects the module never
    changes, as ISO201 decides for module-level containers (`_clients: dict[str,
    httpx.Client]` filled per base URL, a tokenizer multiton keyed by model name). Locks,
    queues and plain values are data and stay reported.

    One finding per root cause: module-level instances of the class (or of a subclass) that
    ISO106 reports are shown as related locations of this finding (`note: ISO106: ...`)
    instead of findings of their own, since the class attribute is what they share: moving it
    into `__init__` alone leaves such an instance process-wide, so the note says to create it
    per request as well.

    ## Why is this bad?
    The class body runs once, so a container bound there is one object shared by every
    instance the process creates. When each request builds its own instance — a service, a
    form, a basket — and a method appends to `self.items`, the item lands in the class's list:
    the next user's instance already holds the first user's data. Create the container per
    instance in `__init__` (or with `field(default_factory=list)` in a dataclass).

    ## Known problems
    Only this class's own methods are considered; a subclass or another module mutating the
    attribute, or a helper method called from `__init__` that rebinds it, is not seen.
    """

    code: ClassVar[str] = "ISO203"
    name: ClassVar[str] = "mutable-class-attribute"
    options: ClassVar[tuple[Option[Any], ...]] = (REQUEST_SCOPED_NAMES,)
    summary: ClassVar[str] = "Mutable class attribute mutated by the class's methods"
    message: ClassVar[str] = (
        "Class attribute `{owner}.{name}` is a mutable container mutated in `{function}()`: it is "
        "one object shared by every instance, so one user's data reaches another user's "
        "objects; create it per instance in `__init__` (or `field(default_factory=...)`)"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            class ShoppingCart:
                items = []

                def add(self, item):
                    self.items.append(item)
            """,
            expected_line=2,
            expected_message="`ShoppingCart.items` is a mutable container mutated in `ShoppingCart.add()`",
        ),
        Example(
            code="""
            from collections import defaultdict

            class RateLimiter:
                hits: dict[str, int] = defaultdict(int)

                @classmethod
                def hit(cls, user_id):
                    cls.hits[user_id] += 1
            """,
            expected_line=4,
            expected_message="`RateLimiter.hits` is a mutable container mutated in `RateLimiter.hit()`",
        ),
        Example(
            code="""
            class SessionRegistry:
                sessions = {}

                def __init__(self, user):
                    self.user = user

                def close(self, token):
                    del SessionRegistry.sessions[token]

                def open(self, token):
                    type(self).sessions[token] = self.user
            """,
            expected_line=2,
            expected_message="`SessionRegistry.sessions` is a mutable container mutated in `SessionRegistry.close()`",
        ),
        Example(
            code="""
            from dataclasses import dataclass, field
            from typing import ClassVar

            @dataclass
            class Job:
                tags: list[str] = field(default_factory=list)
                seen: ClassVar[set[str]] = set()

                def mark(self):
                    self.seen.add(self.tags[0])
            """,
            expected_line=7,
            expected_message="`Job.seen` is a mutable container mutated in `Job.mark()`",
        ),
        Example(
            # With ISO106 on, `plugins = PluginRegistry()` in app/main.py is a related location
            # of this finding, not a finding of its own.
            code="""
            class PluginRegistry:
                configs = {}

                def configure(self, slug, config):
                    self.configs[slug] = config
            """,
            files=(
                (
                    "app/main.py",
                    """
                    from app.service import PluginRegistry

                    plugins = PluginRegistry()
                    """,
                ),
            ),
            expected_line=2,
            expected_message="`PluginRegistry.configs` is a mutable container mutated in "
            "`PluginRegistry.configure()`",
        ),
        Example(
            code="""
            import threading

            class ProbeLocks:
                _locks: dict[str, threading.Lock] = {}

                @classmethod
                def for_model(cls, model):
                    return cls._locks.setdefault(model, threading.Lock())
            """,
            expected_line=4,
            expected_message="`ProbeLocks._locks` is a mutable container mutated in "
            "`ProbeLocks.for_model()`",
        ),
        Example(
            code="""
            import httpx

            class HttpxPool:
                _clients: dict[str, httpx.Client] = {}

                @classmethod
                def get(cls, name, token):
                    if name not in cls._clients:
                        cls._clients[name] = httpx.Client()
                    cls._clients[name].headers["Authorization"] = token
                    return cls._clients[name]
            """,
            expected_line=4,
            expected_message="`HttpxPool._clients` is a mutable container mutated in "
            "`HttpxPool.get()`",
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        import httpx

        class HttpxPool:
            _clients: dict[str, httpx.Client] = {}

            @classmethod
            def get(cls, name):
                if name not in cls._clients:
                    cls._clients[name] = httpx.Client()
                return cls._clients[name]
        """,
        """
        class Tokenizer:
            _instances: dict[str, "Tokenizer"] = {}

            def __new__(cls, model):
                if model not in cls._instances:
                    cls._instances[model] = super().__new__(cls)
                return cls._instances[model]

            def __init__(self, model):
                if not hasattr(self, "model"):
                    self.model = model

            def encode(self, text):
                return text.split()
        """,
        """
        class ShoppingCart:
            items = []

            def __init__(self):
                self.items = []

            def add(self, item):
                self.items.append(item)
        """,
        """
        from dataclasses import dataclass, field

        from pydantic import BaseModel

        @dataclass
        class Basket:
            items: list[str] = field(default_factory=list)

            def add(self, item):
                self.items.append(item)

        class Order(BaseModel):
            lines: list[str] = []

            def add(self, line):
                self.lines.append(line)
        """,
        """
        import enum

        class Color(enum.Enum):
            RED = [255, 0, 0]

            def darken(self):
                self.value[0] -= 10

        class Codes:
            TEXT = {200: "OK"}
            ALIASES = {}
            ALIASES["ok"] = 200

            def text(self, code):
                return self.TEXT.get(code, "?")
        """,
        """
        class Handler:
            routes = []

            @staticmethod
            def add(routes, route):
                routes.append(route)

            def extend(self):
                items = []
                items.append(self.routes[0])
                return items
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        class ShoppingCart:
            def __init__(self):
                self.items = []  # each cart its own list

            def add(self, item):
                self.items.append(item)
        """,
        """
        from dataclasses import dataclass, field

        @dataclass
        class Job:
            tags: list[str] = field(default_factory=list)
            seen: set[str] = field(default_factory=set)

            def mark(self):
                self.seen.add(self.tags[0])
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._classes: dict[int, _ClassState] = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes[id(node)] = _ClassState(
            node.name.value, _class_kind(node, self.context.imports)
        )

    def _body_class(self) -> _ClassState | None:
        """The class whose body is the innermost scope (not one of its methods)."""
        scopes = self.context.scopes
        if scopes and isinstance(scopes[-1][1], cst.ClassDef):
            return self._classes.get(id(scopes[-1][1]))
        return None

    def _method_class(self) -> tuple[_ClassState, _Method, str] | None:
        """The innermost class, the method of it we are in, and the current scope name."""
        scopes = self.context.scopes
        for index in range(len(scopes) - 1, -1, -1):
            owner = scopes[index][1]
            if not isinstance(owner, cst.ClassDef):
                continue
            if index + 1 == len(scopes):
                return None  # class body: runs once, at import time
            function = scopes[index + 1][1]
            state = self._classes.get(id(owner))
            if state is None or not isinstance(function, (cst.FunctionDef, cst.Lambda)):
                return None
            return state, _method(function), self.context.scope_name()
        return None

    # Class-body attributes.

    def visit_Assign(self, node: cst.Assign) -> None:
        state = self._body_class()
        if state is not None:
            # An unannotated attribute of a dataclass is a class attribute, not a field.
            if state.kind in ("plain", "dataclass") and is_mutable_container(
                node.value, self.context.imports
            ):
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        self._add_attribute(state, target.target.value, node)
            return
        self._mutation(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        state = self._body_class()
        if state is None:
            self._instance_rebinding(node.target)
            return
        if (
            isinstance(node.target, cst.Name)
            and node.value is not None
            and (state.kind == "plain" or (state.kind != "declarative" and self._is_classvar(node)))
            and is_mutable_container(node.value, self.context.imports)
        ):
            self._add_attribute(state, node.target.value, node)

    def _add_attribute(self, state: _ClassState, name: str, node: cst.CSTNode) -> None:
        if not (name.startswith("__") and name.endswith("__")):
            state.attributes.setdefault(name, (node, self.context.scope_name()))

    def _is_classvar(self, node: cst.AnnAssign) -> bool:
        annotation = node.annotation.annotation
        if isinstance(annotation, cst.Subscript):
            annotation = annotation.value
        return self.context.imports.qualified_name(annotation) in _CLASSVAR

    # Methods.

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._instance_rebinding(node.target)

    def _instance_rebinding(self, target: cst.BaseExpression) -> None:
        """Record ``self.attr = ...`` in a constructor: the instance gets its own object."""
        if not self._classes:
            return  # outside any class
        # the cheap test first: most targets are plain names
        attributes = [
            (element.value.value, element.attr.value)
            for element in target_elements(target)
            if type(element) is cst.Attribute and type(element.value) is cst.Name
        ]
        if not attributes:
            return
        found = self._method_class()
        if found is None:
            return
        state, method, _ = found
        if method.name not in _CONSTRUCTORS or method.receiver is None:
            return
        for receiver, attribute in attributes:
            if receiver == method.receiver:
                state.rebound_per_instance.add(attribute)

    def visit_Call(self, node: cst.Call) -> None:
        self._mutation(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._mutation(node)

    def visit_Del(self, node: cst.Del) -> None:
        self._mutation(node)

    def _mutation(self, node: cst.CSTNode) -> None:
        if not self._classes:
            return  # outside any class
        found = None
        for expr in mutated_containers(node):
            root = subscript_root(expr)
            if not isinstance(root, cst.Attribute):
                continue
            found = found or self._method_class()
            if found is None:
                return
            state, method, scope = found
            if method.name == "__init_subclass__":
                return  # runs when a subclass is defined: an import-time plugin registry
            via = self._receiver(root.value, state, method)
            if via is not None:
                state.mutations.append((root.attr.value, via == "instance", scope))
                function = self.context.enclosing_function()
                if function is not None:
                    state.writes.setdefault(root.attr.value, []).append((function, node))
                keyed = isinstance(node, cst.Assign) and not self._class_keyed(
                    expr, node, state, method
                )
                if keyed:
                    state.keyed.add(root.attr.value)

    def _inert_elements(
        self, node: cst.CSTNode, state: _ClassState, name: str
    ) -> tuple[str, ...] | None:
        """The element classes of a container attribute declared to hold only inert objects
        (see ``inert_element_classes``) that no request-scoped name flows into and that the
        module never changes an element of; None when it may hold data."""
        if not isinstance(node, cst.AnnAssign):
            return None
        classes = inert_element_classes(node.annotation.annotation, self.context.imports)
        names = self.context.option(REQUEST_SCOPED_NAMES)
        if classes is None or any(
            request_data_flows(function, write, names, parameters=False)
            for function, write in state.writes.get(name, ())
        ):
            return None
        spellings = {f"{receiver}.{name}" for receiver in ("self", "cls", state.name)}
        if elements_change(self.context.module, spellings):
            return None
        return classes

    payload = ClassContainer

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            container = candidate.payload_as(ClassContainer)
            if not all(
                inert_class(index, container.module, written)
                for written in container.element_classes
            ):
                yield ProjectFinding(candidate, container.message, causes=(container.cause,))

    @staticmethod
    def _class_keyed(
        container: cst.BaseExpression, node: cst.Assign, state: _ClassState, method: _Method
    ) -> bool:
        """Every ``container[key] = ...`` of ``node`` is keyed by the class itself (``cls``,
        ``type(self)``, the class name, or a metaclass's receiver): one instance per class."""
        for target in node.targets:
            for element in target_elements(target.target):
                if not isinstance(element, cst.Subscript) or element.value is not container:
                    continue
                first = element.slice[0].slice
                key = first.value if isinstance(first, cst.Index) else None
                if key is None:
                    return False
                if isinstance(key, cst.Name) and key.value in (method.receiver, state.name):
                    continue
                if MutableClassAttribute._receiver(key, state, method) != "class":
                    return False
        return True

    @staticmethod
    def _receiver(expr: cst.BaseExpression, state: _ClassState, method: _Method) -> str | None:
        """``instance`` for ``self``, ``class`` for ``cls`` / ``ClassName`` / ``type(self)``."""
        if isinstance(expr, cst.Name):
            if expr.value == method.receiver:
                return "class" if method.receiver_is_class else "instance"
            return "class" if expr.value == state.name else None
        if method.receiver is None or method.receiver_is_class:
            return None
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Name)
            and expr.func.value == "type"
            and len(expr.args) == 1
        ):
            instance = expr.args[0].value
        elif isinstance(expr, cst.Attribute) and expr.attr.value == "__class__":
            instance = expr.value
        else:
            return None
        is_self = isinstance(instance, cst.Name) and instance.value == method.receiver
        return "class" if is_self else None

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        state = self._classes.pop(id(original_node), None)
        if state is None or not state.attributes:
            return
        reported: set[str] = set()
        metaclass = _is_metaclass(original_node)
        for name, via_instance, function in state.mutations:
            if name in reported or name not in state.attributes:
                continue
            if (metaclass or name in _INSTANCE_STORES) and name not in state.keyed:
                continue  # a singleton's own instance cache: ISO101/ISO102 report the class
            if via_instance and name in state.rebound_per_instance:
                continue
            reported.add(name)
            node, scope = state.attributes[name]
            sites = [where for other, _, where in state.mutations if other == name]
            cause = f"{self.context.info.module_name}.{scope}"  # ISO106's instances fold in here
            inert = self._inert_elements(node, state, name)
            if inert == ():
                continue  # class objects only: code, not data
            if inert is not None:  # the project phase checks the element classes
                message = self.message.format(owner=scope, name=name, function=function)
                payload = ClassContainer(self.context.info.module_name, inert, message, cause)
                self.add_candidate(node, payload, scope=scope, sites=sites)
                continue
            self.report(
                node,
                scope=scope,
                sites=sites,
                causes=(cause,),
                owner=scope,
                name=name,
                function=function,
            )
