"""ISO101: a class that caches its own instance, so every caller gets the same object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from isolint.api import Candidate, Example, ProjectFinding, ProjectIndex, Rule, dotted_name
from isolint.rules._singleton_patterns import (
    Method,
    assignments,
    class_methods,
    is_name,
    iter_small_statements,
    looks_like_metaclass,
)
from isolint.rules._sites import state_changing_methods
from isolint.rules._state import is_stateless_class


@dataclass(frozen=True)
class UnchangedSingleton:
    """ISO101's candidate: class ``cls`` of ``module`` caches its own instance, but neither its
    methods nor a re-run ``__init__`` change that instance; the index says whether its bases
    carry state. ``message`` is the finding it becomes if they may."""

    module: str
    cls: str
    message: str


class SelfCachingSingleton(Rule):
    """
    ## What it does
    Finds classes that keep their own instance on the class to hand it out again: a `__new__`
    that stores the instance it creates in `cls._instance` (or `cls.__instance`, or
    `cls._instances[cls]`) and returns it, and methods such as `get_instance()` / `instance()`
    that store a new instance of the class on the class (`cls._instance = cls()`), with or
    without a lock and double-checked locking. A method that stores `self` on the class
    (`type(self).current = self`) is reported too.

    ## Why is this bad?
    The cached object lives as long as the process and is shared by every request it serves.
    Whatever one user's request stores on it (the current user, a database session, a tenant,
    a half-built result) is what the next user's request reads: one user's data reaches another
    user. Tests suffer the same way, as state leaks from one test into the next. Drop the cache:
    create the object per request (or once at startup, holding no per-user state) and pass it
    to the code that needs it, so each request's state lives and dies with that request.

    ## Known problems
    Only the class's own name, `cls`, `type(self)` and `self.__class__` are recognised as
    references to the class; an instance stored through an alias, or built by a factory
    classmethod (`cls._instance = cls.from_env()`), is not reported. Metaclasses are left to
    ISO102, and enumerations (whose members are shared constants by design) are skipped.

    Not reported: a class whose code shows its shared instance is built once and never
    changed. Its `__init__` (re-run on the cached instance at every `Cls(...)` when `__new__`
    caches) does its work only under a run-once guard (`if not hasattr(self, "encoder"):`), no
    method of it changes its state (no method outside the setup ones assigns or mutates
    `self.*` or a class attribute, also through `setattr` or `heapq`/`bisect`), and every base
    is a project class of that kind or a known stateless one (`ABC`, `Protocol`). A tokenizer
    cached per model name is such a class; a library base may hold state isolint cannot see,
    so it is reported. A class with no `__init__` guard is reported as the pattern it is.

    ## Options
    None.
    """

    code: ClassVar[str] = "ISO101"
    name: ClassVar[str] = "self-caching-singleton"
    summary: ClassVar[str] = "Class caches its own instance and returns it to every caller"
    message: ClassVar[str] = (
        "Class `{cls}` caches its own instance in `{attribute}` (in `{method}`): every request "
        "in the process gets the same object, so state one user's request leaves on it is read "
        "by the next user's; create an instance per request and pass it in (dependency "
        "injection), or keep per-request state in a `ContextVar`"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        class Database:
            _instance = None

            def __new__(cls, *args, **kwargs):
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
                return cls._instance
        """,
        """
        import threading

        class Cart:
            _instance = None
            _lock = threading.Lock()

            @classmethod
            def get_instance(cls):
                if cls._instance is None:
                    with cls._lock:
                        if cls._instance is None:
                            cls._instance = cls()
                return cls._instance
        """,
        """
        class UserContext:
            __instance = None

            @staticmethod
            def instance():
                if UserContext.__instance is None:
                    UserContext.__instance = UserContext()
                return UserContext.__instance
        """,
        """
        class Singleton:
            _instances = {}

            def __new__(cls, *args, **kwargs):
                if cls not in cls._instances:
                    cls._instances[cls] = super().__new__(cls)
                return cls._instances[cls]
        """,
        """
        class Tokenizer:
            _instances = {}

            def __new__(cls, model_name):
                if model_name not in cls._instances:
                    cls._instances[model_name] = super().__new__(cls)
                return cls._instances[model_name]

            def __init__(self, model_name):
                self.encoder = load_encoder(model_name)
                self.calls = 0

            def encode(self, text):
                return self.encoder.encode(text)
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        import time

        class Report:
            _instance = None  # legacy attribute, never handed out

            def __new__(cls, *args, **kwargs):
                report = super().__new__(cls)
                report.created_at = time.monotonic()
                return report
        """,
        """
        class Cart:
            _created = 0

            @classmethod
            def create(cls, user_id):
                cls._created += 1
                return cls(user_id)

            def __init__(self, user_id):
                self.user_id = user_id
                self.items = []
        """,
        """
        class Plugin:
            registry = {}

            def __init_subclass__(cls, **kwargs):
                super().__init_subclass__(**kwargs)
                Plugin.registry[cls.__name__] = cls

            def __init__(self):
                self._instance = self.__class__.__name__
        """,
        """
        from abc import ABC, abstractmethod

        class BaseTokenizer(ABC):
            @abstractmethod
            def encode(self, text): ...

        class TiktokenTokenizer(BaseTokenizer):
            _instances = {}

            def __new__(cls, model_name):
                if model_name not in cls._instances:
                    cls._instances[model_name] = super().__new__(cls)
                return cls._instances[model_name]

            def __init__(self, model_name):
                if not hasattr(self, "encoder"):
                    self.encoder = load_encoder(model_name)

            def encode(self, text):
                return self.encoder.encode(text)
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        class Database:
            def __init__(self, url):
                self.url = url

        def get_database(request):
            return Database(request.app.config["DATABASE_URL"])  # one per request, passed in
        """,
        """
        class Cart:
            def __init__(self, user_id):
                self.user_id = user_id
                self.items = []

        def add_to_cart(request, item):
            cart = Cart(request.user.id)  # a fresh cart for this request only
            cart.items.append(item)
            return cart
        """,
    )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if looks_like_metaclass(node, self.context.imports) or self._is_enum(node):
            return
        class_name = node.name.value
        for func in class_methods(node):
            attribute = _cached_attribute(Method.of(func, class_name))
            if attribute is not None:
                sites = state_changing_methods(node, self.context.scope_name())
                if not sites and _init_runs_once(node) and self.context.at_module_level():
                    message = self.message.format(
                        cls=class_name, attribute=attribute, method=func.name.value
                    )
                    payload = UnchangedSingleton(
                        self.context.info.module_name, class_name, message
                    )
                    self.add_candidate(node.name, payload)
                    return
                self.report(
                    node.name,
                    sites=sites,
                    cls=class_name,
                    attribute=attribute,
                    method=func.name.value,
                )
                return

    payload = UnchangedSingleton

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            singleton = candidate.payload_as(UnchangedSingleton)
            if not is_stateless_class(index, singleton.module, singleton.cls):
                yield ProjectFinding(candidate, singleton.message)

    def _is_enum(self, node: cst.ClassDef) -> bool:
        """Enum members are shared constants by design (``_value2member_map_`` aliases)."""
        for base in node.bases:
            qualified = self.context.imports.qualified_name(base.value) or ""
            name = dotted_name(base.value) or ""
            if qualified.startswith("enum.") or name.endswith(("Enum", "Flag")):
                return True
        return False


def _run_once_guard(test: cst.BaseExpression, receiver: str) -> bool:
    """``not hasattr(self, "x")``: true only while the instance is not set up yet."""
    if not (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)):
        return False
    call = test.expression
    return (
        isinstance(call, cst.Call)
        and dotted_name(call.func) == "hasattr"
        and len(call.args) == 2
        and dotted_name(call.args[0].value) == receiver
    )


def _init_runs_once(node: cst.ClassDef) -> bool:
    """True if the class's ``__init__`` sets the instance up once and never again: its body is
    a run-once guard (``if not hasattr(self, "encoder"):``), besides a docstring or ``pass``."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for statement in body:
        if not (isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__"):
            continue
        params = (*statement.params.posonly_params, *statement.params.params)
        if not params:
            return False
        receiver = params[0].name.value
        suite = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
        guarded = False
        for item in suite:
            if (
                isinstance(item, cst.If)
                and item.orelse is None
                and _run_once_guard(item.test, receiver)
            ):
                guarded = True
                continue
            if isinstance(item, cst.SimpleStatementLine) and all(
                isinstance(small, cst.Pass)
                or (isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString))
                for small in item.body
            ):
                continue
            return False
        return guarded
    return False


def _cached_attribute(method: Method) -> str | None:
    """The class attribute ``method`` caches an instance of the class in, if any."""
    instances: set[str] = set()  # local names bound to a fresh instance of the class
    for small in iter_small_statements(method.node.body):
        for target, value in assignments(small):
            if not _is_instance(value, method, instances):
                continue
            if isinstance(target, cst.Name):
                instances.add(target.value)
            elif (attribute := method.class_attribute(target)) is not None:
                return attribute
        # exact types: isinstance() is slow on LibCST's classes (every statement of every method)
        call = small.value if type(small) is cst.Return or type(small) is cst.Expr else None
        if call is not None and (attribute := _stored_by_call(call, method, instances)):
            return attribute
    return None


def _is_instance(value: cst.BaseExpression, method: Method, instances: set[str]) -> bool:
    """``cls(...)``, ``super().__new__(cls)``, ``self`` in an instance method, or a local of those."""
    if type(value) is cst.Await:
        value = value.expression
    if type(value) is cst.Name:
        return value.value in instances or value.value == method.self_name
    if type(value) is not cst.Call:
        return False
    func = value.func
    if isinstance(func, cst.Attribute) and func.attr.value == "__new__":
        return True
    return method.is_class_ref(func)


def _stored_by_call(expr: cst.BaseExpression, method: Method, instances: set[str]) -> str | None:
    """``setattr(cls, "attr", instance)`` or ``cls.attr.setdefault(key, instance)``."""
    if not isinstance(expr, cst.Call):
        return None
    args = [arg.value for arg in expr.args]
    func = expr.func
    if is_name(func, "setattr") and len(args) == 3:
        owner, attribute, value = args
        if (
            method.is_class_ref(owner)
            and isinstance(attribute, cst.SimpleString)
            and _is_instance(value, method, instances)
        ):
            evaluated = attribute.evaluated_value
            return evaluated if isinstance(evaluated, str) else None
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value == "setdefault"
        and len(args) == 2
        and _is_instance(args[1], method, instances)
    ):
        return method.class_attribute(func.value)
    return None
