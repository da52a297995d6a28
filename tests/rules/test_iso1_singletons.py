"""ISO101-ISO105: singleton shapes beyond the doc examples, positive and hard negative."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from isolint.config import Settings
from isolint.facts import ClassFacts, PackedFacts
from isolint.rule import Example
from isolint.runner import LintOptions, lint_source
from isolint.testing import lint_example
from isolint.walk import Walker
from isolint.rules import load_rules
from isolint.rules._singleton_patterns import lazy_initializations, lazy_initialized_globals

RULES = load_rules()
ISO1 = ("ISO101", "ISO102", "ISO103", "ISO104", "ISO105")


def findings(
    code: str, *codes: str, files: tuple[tuple[str, str], ...] = ()
) -> list[tuple[str, int]]:
    """(code, line) of every finding of ``codes`` (default: ISO101-ISO105), sorted."""
    selected = codes or ISO1
    found = lint_example(Example(code=code, files=files), RULES, list(selected))
    return sorted((d.code, d.span.line) for d in found if d.code in selected)


# -- ISO101: a class caching its own instance ----------------------------------------------------


def test_double_checked_locking_in_new_is_reported_at_the_class_line() -> None:
    code = """
    import threading

    class Config:
        _instance = None
        _lock = threading.Lock()

        def __new__(cls):
            if cls._instance is None:
                with cls._lock:
                    if cls._instance is None:
                        cls._instance = super().__new__(cls)
            return cls._instance
    """
    assert findings(code, "ISO101") == [("ISO101", 3)]


def test_name_mangled_instance_in_new() -> None:
    code = """
    class Tracker:
        __instance = None

        def __new__(cls, *args, **kwargs):
            if not cls.__instance:
                cls.__instance = object.__new__(cls)
            return cls.__instance
    """
    assert findings(code, "ISO101") == [("ISO101", 1)]


def test_instance_staticmethod_and_message() -> None:
    code = """
    class Clock:
        _current = None

        @staticmethod
        def instance():
            if Clock._current is None:
                Clock._current = Clock()
            return Clock._current
    """
    found = lint_example(Example(code=code), RULES, ["ISO101"])
    assert [(d.code, d.span.line, d.span.column) for d in found] == [("ISO101", 1, 7)]
    assert "`Clock`" in found[0].message and "`_current`" in found[0].message
    assert "`instance`" in found[0].message


def test_instance_stored_through_a_local_name_and_setattr() -> None:
    code = """
    class A:
        def __new__(cls):
            existing = cls.__dict__.get("_one")
            if existing is None:
                existing = super().__new__(cls)
                setattr(cls, "_one", existing)
            return existing

    class B:
        @classmethod
        def shared(cls):
            return cls._pool.setdefault(cls, cls())

    class C:
        def __init__(self):
            type(self).current = self
    """
    assert findings(code, "ISO101") == [("ISO101", 1), ("ISO101", 9), ("ISO101", 14)]


def test_nested_class_inside_a_function_is_reported() -> None:
    code = """
    def build():
        class Local:
            _instance = None

            @classmethod
            def get(cls):
                if cls._instance is None:
                    cls._instance = cls()
                return cls._instance

        return Local
    """
    assert findings(code, "ISO101") == [("ISO101", 2)]


def test_iso101_hard_negatives() -> None:
    code = """
    class Factory:
        @classmethod
        def create(cls, *args):
            instance = cls(*args)
            instance.ready = True
            return instance

    class Counted:
        _count = 0

        def __new__(cls):
            cls._count += 1
            return super().__new__(cls)

    class Clients:
        _client = None

        @classmethod
        def client(cls):
            if cls._client is None:
                cls._client = HttpClient()
            return cls._client

    class Node:
        def attach(self, parent):
            self.parent = parent
            parent.children = self

    class ModelMeta(type):
        def __new__(mcs, name, bases, namespace):
            mcs._last = super().__new__(mcs, name, bases, namespace)
            return mcs._last
    """
    assert findings(code, "ISO101") == []


def test_enum_member_aliases_and_canonical_values_are_not_singletons() -> None:
    code = """
    from enum import Enum

    class SortKey(str, Enum):
        CALLS = "calls", "ncalls"

        def __new__(cls, *values):
            member = str.__new__(cls, values[0])
            member._value_ = values[0]
            for alias in values[1:]:
                cls._value2member_map_[alias] = member
            return member

    class Zone:
        def __new__(cls, offset=None):
            if offset is None:
                return cls.utc
            return super().__new__(cls)
    """
    assert findings(code, "ISO101") == []


# -- ISO102: a caching metaclass and the classes that use it -------------------------------------


def test_metaclass_and_its_users_are_reported() -> None:
    code = """
    class SingletonMeta(type):
        _instances = {}

        def __call__(cls, *args, **kwargs):
            if cls not in cls._instances:
                cls._instances[cls] = super().__call__(*args, **kwargs)
            return cls._instances[cls]

    class Cache(metaclass=SingletonMeta):
        pass

    class Plain:
        pass

    def factory():
        class Inner(metaclass=SingletonMeta):
            pass
        return Inner
    """
    assert findings(code, "ISO102") == [("ISO102", 1), ("ISO102", 9), ("ISO102", 16)]


def test_metaclass_with_lock_setdefault_and_type_call() -> None:
    code = """
    import abc
    import threading

    class LockedMeta(abc.ABCMeta):
        _lock = threading.Lock()

        def __call__(cls, *args, **kwargs):
            with LockedMeta._lock:
                return cls._store.setdefault(cls, type.__call__(cls, *args, **kwargs))

    class Unusual:
        def __call__(cls, *args, **kwargs):
            if "instance" not in cls.__dict__:
                setattr(cls, "instance", super().__call__(*args, **kwargs))
            return cls.instance

    class Service(metaclass=Unusual):
        pass
    """
    assert findings(code, "ISO102") == [("ISO102", 4), ("ISO102", 11), ("ISO102", 17)]


def test_iso102_hard_negatives() -> None:
    code = """
    class LoggingMeta(type):
        def __call__(cls, *args, **kwargs):
            instance = super().__call__(*args, **kwargs)
            instance.log = []
            return instance

    class Memo:
        def __call__(self, value):
            self._last = super().__call__(value)
            return self._last

    class Uses(metaclass=LoggingMeta):
        pass

    class ImportedMeta(metaclass=abc.ABCMeta):
        pass
    """
    assert findings(code, "ISO102") == []


# -- ISO103: the lazy module-level getter --------------------------------------------------------


def test_walrus_getter_variants() -> None:
    code = """
    _a = None
    _b = None

    def get_a():
        global _a
        return _a if _a is not None else (_a := Client())

    def get_b():
        global _b
        if (_b := _b or Pool()) is None:
            raise RuntimeError
        return _b
    """
    assert findings(code, "ISO103") == [("ISO103", 4), ("ISO103", 8)]


def test_try_except_name_error_getter() -> None:
    code = """
    def get_engine():
        global _engine
        try:
            _engine
        except (NameError, AttributeError):
            _engine = create_engine("sqlite://")
        return _engine
    """
    assert findings(code, "ISO103") == [("ISO103", 1)]


def test_early_return_flag_and_elif_variants() -> None:
    code = """
    _client = None
    _ready = False
    _conn = None

    async def client():
        global _client
        if _client is not None:
            return _client
        _client = await Client.connect()
        return _client

    def registry():
        global _registry, _ready
        if not _ready:
            _registry = Registry()
            _ready = True
        return _registry

    def conn(reset=False):
        global _conn
        if reset:
            pass
        elif _conn is None:
            _conn = connect()
        return _conn
    """
    assert findings(code, "ISO103") == [("ISO103", 5), ("ISO103", 12), ("ISO103", 19)]


def test_iso103_hard_negatives() -> None:
    code = """
    _client = None
    _count = 0

    def set_client(client):
        global _client
        _client = client

    def bump():
        global _count
        _count += 1

    def reconnect():
        global _client
        if _client is not None:
            _client.close()
            _client = Client()

    def reset():
        global _client
        if _client is None:
            _client = None

    def outer():
        def inner():
            global _client
            return _client
        return inner

    def configure(args):
        global verbose, context
        verbose = args.verbose
        if not verbose:
            context = make_context()
    """
    assert findings(code, "ISO103") == []


def test_lazily_built_immutable_values_are_not_reported() -> None:
    code = """
    import logging

    _pattern = None
    _logger = None
    _version = None

    def pattern():
        global _pattern
        if _pattern is None:
            import re
            _pattern = re.compile("[a-z]+")
        return _pattern

    def logger():
        global _logger
        if _logger is None:
            _logger = logging.getLogger(__name__)
        return _logger

    def version():
        global _version
        if _version is None:
            _version = tuple(int(part) for part in "1.2".split("."))
        return _version
    """
    assert findings(code, "ISO103") == []


def test_lazy_initializations_records_the_created_value() -> None:
    func = cst.parse_module(
        "def f():\n    global _x, _ready\n    if not _ready:\n        _x = X()\n"
        "        _ready = True\n    return _x\n"
    ).body[0]
    assert isinstance(func, cst.FunctionDef)
    (init,) = lazy_initializations(func)
    assert init.name == "_x" and init.guards == {"_ready"}
    assert isinstance(init.value, cst.Call) and isinstance(init.statement, cst.Assign)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    global x\n    if x is None:\n        x = X()\n", {"x"}),
        ("def f():\n    global x\n    if not x: x = {}\n", {"x"}),
        ("def f():\n    global x\n    x = x or X()\n", {"x"}),
        ('def f():\n    global x\n    if "x" not in globals():\n        x = X()\n', {"x"}),
        (
            "def f():\n    global x, ok\n    if not ok:\n        x = X()\n        ok = 1\n",
            {"x", "ok"},
        ),
        ("def f():\n    global x\n    x = X()\n", set()),
        ("def f():\n    global x\n    if x is None:\n        x = 1\n", set()),
        ("def f():\n    if x is None:\n        x = X()\n", set()),
        (
            "def f():\n    global x\n    def g():\n        if x is None:\n            x = X()\n",
            set(),
        ),
    ],
)
def test_lazy_initialized_globals(source: str, expected: set[str]) -> None:
    func = cst.parse_module(source).body[0]
    assert isinstance(func, cst.FunctionDef)
    assert lazy_initialized_globals(func) == expected


# -- ISO104: Borg / shared state -----------------------------------------------------------------


def test_borg_variants() -> None:
    code = """
    class ViaType:
        _state = {}

        def __init__(self):
            self.__dict__ = type(self)._state

    class ViaDunderClass:
        _state = {}

        def __init__(self):
            self.__dict__ = self.__class__._state

    class ViaSetattr:
        _state = {}

        def __new__(cls):
            obj = super().__new__(cls)
            object.__setattr__(obj, "__dict__", cls._state)
            return obj
    """
    assert findings(code, "ISO104") == [("ISO104", 1), ("ISO104", 7), ("ISO104", 13)]


def test_borg_nested_in_a_function() -> None:
    code = """
    def make():
        class Borg:
            _shared_state = {}

            def __init__(self):
                self.__dict__ = Borg._shared_state

        return Borg
    """
    assert findings(code, "ISO104") == [("ISO104", 2)]


def test_iso104_hard_negatives() -> None:
    code = """
    _shared = {}

    class Copying:
        def __copy__(self):
            clone = Copying.__new__(Copying)
            clone.__dict__ = self.__dict__.copy()
            return clone

    class Restores:
        def __setstate__(self, state):
            self.__dict__ = state

    class Shadowed:
        def __init__(self):
            _shared = {}
            self.__dict__ = _shared

    class Fresh:
        def __init__(self):
            self.__dict__ = {}

    def not_a_method(obj):
        obj.__dict__ = _shared
    """
    assert findings(code, "ISO104") == []


# -- ISO105: zero-argument cached factories ------------------------------------------------------


def test_aliased_lru_cache_import_and_cache_from_functools() -> None:
    code = """
    from functools import cache, lru_cache as memo

    @memo()
    def get_client():
        return api.Client(timeout=3)

    @cache
    def get_store():
        store = _Store()
        return store
    """
    found = lint_example(Example(code=code), RULES, ["ISO105"])
    assert [(d.code, d.span.line) for d in found] == [("ISO105", 4), ("ISO105", 8)]
    assert all(d.severity.value == "warning" for d in found)
    assert "`@memo()`" in found[0].message and "`Client`" in found[0].message


def test_class_defined_later_in_the_module_counts() -> None:
    code = """
    import functools

    @functools.lru_cache(None)
    def tracker():
        return event_tracker()

    class event_tracker:
        def track(self, event):
            self.last = event
    """
    assert findings(code, "ISO105") == [("ISO105", 4)]


def test_iso105_hard_negatives() -> None:
    code = """
    import functools
    from functools import cache, lru_cache
    from decimal import Decimal

    @lru_cache(maxsize=0)
    def uncached():
        return Client()

    @cache
    def rate():
        return Decimal("0.2")

    @functools.cache
    def greeting():
        return "hello"

    @lru_cache
    def limits():
        return {"max": 10}

    class Repo:
        @lru_cache
        def session(self):
            return Session()

        @classmethod
        @cache
        def default(cls):
            return cls()

    def make():
        @cache
        def inner():
            return Client()
        return inner()

    def lru_cache_lookalike():
        return Client()
    """
    assert findings(code, "ISO105") == []


def test_locally_shadowed_lru_cache_is_not_functools() -> None:
    code = """
    from mylib import lru_cache

    @lru_cache
    def get_client():
        return Client()
    """
    assert findings(code, "ISO105") == []


# -- the family together ---------------------------------------------------------------------


def test_each_shape_is_reported_by_its_own_rule_only() -> None:
    code = """
    from functools import lru_cache

    class One:
        _it = None

        def __new__(cls):
            if cls._it is None:
                cls._it = super().__new__(cls)
            return cls._it

    class Meta(type):
        _i = {}

        def __call__(cls):
            if cls not in cls._i:
                cls._i[cls] = super().__call__()
            return cls._i[cls]

    _x = None

    def get_x():
        global _x
        if _x is None:
            _x = Stateful()
        return _x

    class Borg:
        _s = {}

        def __init__(self):
            self.__dict__ = self._s

    @lru_cache
    def get_one():
        return Stateful()

    class Stateful:
        def put(self, item):
            self.item = item
    """
    assert findings(code) == [
        ("ISO101", 3),
        ("ISO102", 11),
        ("ISO103", 21),
        ("ISO104", 27),
        ("ISO105", 34),
    ]


# -- only state that can change (issue 13 item 6) -------------------------------------------------

_STATELESS = """
class FakeHasher:
    def __init__(self, salt="x"):
        self.salt = salt

    def hash(self, text):
        return self.salt + text
"""


def test_iso103_iso105_skip_project_classes_nothing_changes_after_construction() -> None:
    code = """
    from functools import lru_cache
    from app.hashing import FakeHasher

    _hasher = None

    def get_hasher():
        global _hasher
        if _hasher is None:
            _hasher = FakeHasher()
        return _hasher

    @lru_cache
    def cached_hasher():
        return FakeHasher()
    """
    files = (("app/hashing.py", _STATELESS),)
    assert findings(code, "ISO103", files=files) == []
    assert findings(code, "ISO105", files=files) == []


def test_mutation_through_functions_counts_as_state() -> None:
    stateful = """
    import bisect
    import heapq
    from heapq import heappush as push

    class Queue:
        def __init__(self):
            self._heap = []

        def put(self, item):
            push(self._heap, item)

    class Ranks:
        def __init__(self):
            self.scores = []

        def add(self, score):
            bisect.insort(self.scores, score)

    class Flags:
        def set(self, name):
            setattr(self, name, True)
    """
    code = """
    from functools import lru_cache
    from app.state import Flags, Queue, Ranks

    @lru_cache
    def queue():
        return Queue()

    @lru_cache
    def ranks():
        return Ranks()

    @lru_cache
    def flags():
        return Flags()

    queue_instance = Queue()
    """
    files = (("app/state.py", stateful),)
    assert findings(code, "ISO105", files=files) == [("ISO105", 5), ("ISO105", 9), ("ISO105", 13)]
    assert findings(code, "ISO106", files=files) == [("ISO106", 16)]


def test_third_party_classes_and_library_bases_are_still_reported() -> None:
    code = """
    from functools import lru_cache
    from redis import Redis
    from app.client import Client

    @lru_cache
    def redis():
        return Redis()

    @lru_cache
    def client():
        return Client()
    """
    client = "from httpx import Client as Base\n\nclass Client(Base):\n    pass\n"
    files = (("app/client.py", client),)
    assert findings(code, "ISO105", files=files) == [("ISO105", 6), ("ISO105", 10)]


# -- one source of singleton facts: what ISO101/102/104 report, the index records ----------------


def _classes(example: Example) -> list[ClassFacts]:
    """The ClassFacts the engine records for an example's files."""
    found: list[ClassFacts] = []
    for path, code in ((example.path, example.code), *example.files):
        source = textwrap.dedent(code).lstrip("\n").encode()
        result = lint_source(source, path, LintOptions.create(Settings(), ()), Walker())
        assert isinstance(result.facts, PackedFacts)
        found.extend(result.facts.unpack().classes)
    return found


_FACT_OF = {
    "ISO101": lambda c: c.singleton_reason is not None and "caches its own" in c.singleton_reason,
    "ISO102": lambda c: c.call_cache is not None,
    "ISO104": lambda c: c.singleton_reason is not None and "`__dict__`" in c.singleton_reason,
}


@pytest.mark.parametrize(
    ("code", "index"),
    [
        (rule.code, index)
        for rule in RULES
        if rule.code in _FACT_OF
        for index in range(len(rule.examples("bad")))
    ],
)
def test_every_singleton_bad_example_records_the_fact_iso6_relies_on(code: str, index: int) -> None:
    """ISO601/ISO603 and the cross-module ISO102/ISO104 findings read the index's singleton facts:
    every shape ISO101/102/104 report must leave one (issue 14: the `hasattr` metaclass did not)."""
    rule = next(r for r in RULES if r.code == code)
    example = rule.examples("bad")[index]
    assert any(_FACT_OF[code](c) for c in _classes(example)), (code, index)


def test_hasattr_metaclass_user_gets_iso601() -> None:
    code = """
    class Singleton(type):
        def __call__(cls, *args, **kwargs):
            if not hasattr(cls, "_instance"):
                cls._instance = super().__call__(*args, **kwargs)
            return cls._instance

    class D(metaclass=Singleton):
        def bind(self, user_id):
            self.user_id = user_id
    """
    assert findings(code, "ISO601") == [("ISO601", 9)]


def test_metaclass_users_in_another_module() -> None:
    meta = """
    class Singleton(type):
        def __call__(cls, *args, **kwargs):
            if not hasattr(cls, "_instance"):
                cls._instance = super().__call__(*args, **kwargs)
            return cls._instance

    class Plain(type):
        pass
    """
    code = """
    from app import meta
    from app.meta import Plain, Singleton

    class A(metaclass=Singleton):
        pass

    class B(metaclass=meta.Singleton):
        pass

    class C(metaclass=Plain):
        pass
    """
    found = lint_example(Example(code=code, files=(("app/meta.py", meta),)), RULES, ["ISO102"])
    assert sorted((d.path, d.span.line) for d in found) == [
        ("app/meta.py", 1),
        ("app/service.py", 4),
        ("app/service.py", 7),
    ]
    message = next(d.message for d in found if d.span.line == 4)
    assert "`app.meta.Singleton` (app/meta.py)" in message and "(cls._instance)" in message


def test_borg_subclasses_in_any_module() -> None:
    base = """
    class Borg:
        _shared_state = {}

        def __init__(self):
            self.__dict__ = self._shared_state

    class Plain:
        _defaults = {}

        def __init__(self):
            self.__dict__ = dict(self._defaults)
    """
    code = """
    from app import base
    from app.base import Borg, Plain

    class A(Borg):
        pass

    class B(base.Borg):
        pass

    class C(A):
        pass

    class D(Plain):
        pass

    class E(object):
        pass
    """
    found = lint_example(Example(code=code, files=(("app/base.py", base),)), RULES, ["ISO104"])
    assert sorted((d.path, d.span.line) for d in found) == [
        ("app/base.py", 1),
        ("app/service.py", 4),
        ("app/service.py", 7),
        ("app/service.py", 10),
    ]
    message = next(d.message for d in found if d.span.line == 10)
    assert "inherited from the Borg `app.base.Borg` in app/base.py" in message


def test_borg_subclass_in_the_same_module() -> None:
    code = """
    class Borg:
        _shared_state = {}

        def __init__(self):
            self.__dict__ = self._shared_state

    class Child(Borg):
        def set_user(self, user_id):
            self.user_id = user_id
    """
    assert findings(code, "ISO104") == [("ISO104", 1), ("ISO104", 7)]


def test_module_level_instance_folds_into_its_class_attribute_finding() -> None:
    """ISO106 + ISO203 on one registry: one finding (ISO203's), the instance related; a class
    with per-instance state only is still ISO106's own finding."""
    code = """
    class Counter:
        hits = {}

        def hit(self, user_id):
            self.hits[user_id] = self.hits.get(user_id, 0) + 1

    class Sessions:
        def __init__(self):
            self.by_user = {}

        def add(self, user_id, session):
            self.by_user[user_id] = session

    counter = Counter()
    sessions = Sessions()
    """
    found = lint_example(Example(code=code), RULES, ["ISO106", "ISO203"])
    assert sorted((d.code, d.span.line) for d in found) == [("ISO106", 15), ("ISO203", 2)]
    root = next(d for d in found if d.code == "ISO203")
    assert [(r.line, r.note.split(":")[0]) for r in root.related] == [(14, "ISO106")]
    assert findings(code, "ISO106") == [("ISO106", 14), ("ISO106", 15)]
