"""ISO201-ISO203: module-level and class-level mutable state beyond the doc examples."""

from __future__ import annotations

import pytest

from isolint.rule import Example
from isolint.testing import lint_example
from isolint.rules import load_rules

RULES = load_rules()
ISO2 = ("ISO201", "ISO202", "ISO203")


def findings(code: str, *codes: str) -> list[tuple[str, int]]:
    """(code, line) of every finding of ``codes`` (default: ISO201-ISO203), sorted."""
    selected = codes or ISO2
    found = lint_example(Example(code=code), RULES, list(selected))
    return sorted((d.code, d.span.line) for d in found if d.code in selected)


def messages(code: str, rule: str) -> list[str]:
    return [d.message for d in lint_example(Example(code=code), RULES, [rule]) if d.code == rule]


# -- ISO201: module-level container mutated at run time --------------------------------------------


def test_del_item_in_a_function_is_reported_at_the_assignment() -> None:
    code = """
    import os

    # sessions by token
    _SESSIONS: dict[str, str] = {}

    def logout(token):
        del _SESSIONS[token]
    """
    assert findings(code) == [("ISO201", 4)]


def test_message_names_the_symbol_and_the_first_mutating_function() -> None:
    code = """
    _SEEN = set()

    def lookup(user):
        return user in _SEEN

    def remember(user):
        _SEEN.add(user)

    def forget(user):
        _SEEN.discard(user)
    """
    [message] = messages(code, "ISO201")
    assert "`_SEEN`" in message
    assert "`remember()`" in message
    assert "ContextVar" in message


def test_aliased_library_constructor_is_seen_through_the_import() -> None:
    code = """
    from collections import defaultdict as dd, OrderedDict
    import weakref as wr

    _BY_USER = dd(list)
    _RECENT = OrderedDict()
    _LIVE = wr.WeakValueDictionary()

    def track(user, event):
        _BY_USER[user].append(event)
        _RECENT.move_to_end(user)
        _LIVE[user] = event
    """
    assert findings(code) == [("ISO201", 4), ("ISO201", 5), ("ISO201", 6)]


def test_augmented_item_assignment_and_nested_function_are_run_time() -> None:
    code = """
    HITS = {}
    LOG = [x for x in range(3)]

    def counter(path):
        HITS[path] += 1

    def make_handler():
        def handler(request):
            LOG.extend(request.lines)
        return handler
    """
    assert findings(code) == [("ISO201", 1), ("ISO201", 2)]


def test_global_declared_in_the_enclosing_function_reaches_the_module_name() -> None:
    code = """
    _QUEUE = []

    def outer():
        global _QUEUE

        def inner(item):
            _QUEUE.append(item)
        return inner
    """
    assert findings(code, "ISO201") == [("ISO201", 1)]


def test_route_decorator_factory_used_only_at_import_time_is_a_registry() -> None:
    code = """
    _ROUTES = {}
    _PLUGINS = []

    def route(path):
        def decorate(fn):
            _ROUTES[path] = fn
            return fn
        return decorate

    @route("/users")
    def users(request):
        return _ROUTES

    class Plugin:
        def __init_subclass__(cls, **kwargs):
            _PLUGINS.append(cls)
    """
    assert findings(code, "ISO201") == []


def test_registry_function_also_called_at_run_time_is_reported() -> None:
    code = """
    _HANDLERS = {}

    def register(fn):
        _HANDLERS[fn.__name__] = fn
        return fn

    @register
    def on_login(user):
        return user

    def subscribe(fn):
        return register(fn)
    """
    assert findings(code, "ISO201") == [("ISO201", 1)]


def test_registry_function_passed_as_a_value_is_reported() -> None:
    code = """
    _LISTENERS = []

    def listen(fn):
        _LISTENERS.append(fn)
        return fn

    @listen
    def on_start():
        return None

    def on_request(callback=listen):
        return callback
    """
    assert findings(code, "ISO201") == [("ISO201", 1)]


def test_registry_called_at_module_level_is_import_time() -> None:
    code = """
    _CACHE = {}

    def _warm():
        _CACHE.update(a=1)

    _warm()
    """
    assert findings(code, "ISO201") == []


@pytest.mark.parametrize(
    "body",
    [
        "def f(_ITEMS):\n    _ITEMS.append(1)",
        "def f(*_ITEMS):\n    _ITEMS[0] = 1",
        "def f():\n    _ITEMS = []\n    _ITEMS.append(1)",
        "def f():\n    for _ITEMS in ([], []):\n        _ITEMS.append(1)",
        "def f():\n    with open('x') as _ITEMS:\n        _ITEMS.update(1)",
        "def f():\n    import _ITEMS\n    _ITEMS.clear()",
        "def f():\n    _ITEMS += [1]",
        "f = lambda _ITEMS: _ITEMS.append(1)",
        "def f():\n    _ITEMS = {}\n    def g():\n        _ITEMS.clear()\n    return g",
    ],
)
def test_local_names_shadowing_the_global_are_not_the_global(body: str) -> None:
    code = "_ITEMS = []\n\n" + body + "\n"
    assert findings(code, "ISO201") == []


def test_read_only_tables_and_immutable_or_context_state_are_clean() -> None:
    code = """
    from contextvars import ContextVar

    __all__ = ["lookup"]
    __all__.append("extra")
    MIME = {"json": "application/json"}
    ROLES = frozenset({"admin"})
    ORDER = ("a", "b")
    _user = ContextVar("user", default=None)
    _registry = {}
    _registry["x"] = 1

    def lookup(kind):
        copy = dict(MIME)
        copy["x"] = 1
        _user.set(kind)
        return MIME.get(kind), copy, sorted(ORDER), _registry.get(kind)

    class Table:
        MIME.setdefault("xml", "text/xml")
    """
    assert findings(code, "ISO201") == []


def test_tuple_unpacking_at_module_level_binds_each_name() -> None:
    code = """
    _A, _B = [], (1, 2)

    def f(x):
        _A.append(x)
        _B.count(x)
    """
    assert findings(code, "ISO201") == [("ISO201", 1)]


# -- ISO202: rebinding a global through `global` ---------------------------------------------------


def test_counter_with_augmented_assignment_is_reported_at_the_global_statement() -> None:
    code = """
    _count = 0
    _total = 0.0

    def record(amount):
        # counts requests
        global _count, _total
        _count += 1
        _total = _total + amount
    """
    assert findings(code, "ISO202") == [("ISO202", 6), ("ISO202", 6)]
    assert {m.split("`")[3] for m in messages(code, "ISO202")} == {"_count", "_total"}


def test_flag_set_in_a_method_and_walrus_rebinding_are_reported() -> None:
    code = """
    import re

    _debug = False
    _last_match = None

    class Toggle:
        def enable(self):
            global _debug
            _debug = True

    def find(text):
        global _last_match
        if (_last_match := re.search("x", text)) is not None:
            return _last_match
    """
    assert findings(code, "ISO202") == [("ISO202", 8), ("ISO202", 12)]


def test_lazy_getter_that_also_rebinds_per_call_elsewhere_is_reported() -> None:
    code = """
    _tenant = None

    def get_tenant():
        global _tenant
        if _tenant is None:
            _tenant = load_default()
        return _tenant

    def switch_tenant(name):
        global _tenant
        _tenant = load(name)
    """
    assert findings(code, "ISO202") == [("ISO202", 10)]


def test_lazy_getter_shapes_are_not_reported() -> None:
    code = """
    import threading

    _lock = threading.Lock()
    _client = None
    _pool = None

    def client():
        global _client
        if _client is None:
            with _lock:
                if _client is None:
                    _client = make_client()
        return _client

    def pool():
        global _pool
        if not _pool:
            _pool = make_pool()
        return _pool

    def engine():
        global _engine
        try:
            return _engine
        except NameError:
            _engine = make_engine()
            return _engine
    """
    assert findings(code, "ISO202") == []


def test_global_only_read_or_mutated_in_place_or_shadowed_is_not_iso202() -> None:
    code = """
    _EVENTS = []
    LIMIT = 10

    def push(event):
        global _EVENTS, LIMIT
        if len(_EVENTS) < LIMIT:
            _EVENTS.append(event)
        _EVENTS[0] = event
        _EVENTS += [event]

    def local_only():
        LIMIT = 5
        return LIMIT

    def nested():
        global LIMIT

        def inner():
            LIMIT = 3
            return LIMIT
        return inner
    """
    assert findings(code, "ISO202") == []
    # The in-place `+=` on the module-level list is ISO201's, not ISO202's.
    assert findings(code, "ISO201") == [("ISO201", 1)]


def test_del_and_for_target_rebind_the_global() -> None:
    code = """
    current = None

    def clear():
        global current
        del current

    def scan(items):
        global current
        for current in items:
            pass
    """
    assert findings(code, "ISO202") == [("ISO202", 4), ("ISO202", 8)]


# -- ISO203: mutable class attribute mutated by the methods ----------------------------------------


def test_mutation_through_the_class_name_is_reported_at_the_class_attribute() -> None:
    code = """
    class Registry:
        # every user
        users = {}

        def add(self, user):
            Registry.users[user.id] = user
    """
    assert findings(code, "ISO203") == [("ISO203", 3)]
    [message] = messages(code, "ISO203")
    assert "`Registry.users`" in message
    assert "`Registry.add()`" in message


def test_self_mutation_with_augmented_assignment_and_del_item() -> None:
    code = """
    from collections import deque

    class Inbox:
        queue = deque()
        tags: list[str] = []
        seen = set()

        def receive(self, message):
            self.queue.appendleft(message)
            self.tags += [message.tag]

        def drop(self, key):
            del self.seen[key]
    """
    assert findings(code, "ISO203") == [("ISO203", 4), ("ISO203", 5), ("ISO203", 6)]


def test_nested_class_and_closure_in_a_method_are_attributed_to_their_class() -> None:
    code = """
    class Outer:
        log = []

        class Inner:
            cache = {}

            def put(self, key, value):
                self.cache[key] = value

        def handler(self):
            def callback(event):
                self.log.append(event)
            return callback
    """
    assert findings(code, "ISO203") == [("ISO203", 2), ("ISO203", 5)]


def test_instance_rebinding_in_init_but_class_mutation_through_cls_is_reported() -> None:
    code = """
    class Pool:
        free = []

        def __init__(self):
            self.free = []

        def put(self, conn):
            self.free.append(conn)

        @classmethod
        def reset(cls):
            cls.free.clear()
    """
    assert findings(code, "ISO203") == [("ISO203", 2)]


def test_class_attribute_filled_only_in_the_class_body_is_clean() -> None:
    code = """
    class Codes:
        NAMES = {}
        NAMES[200] = "OK"
        ORDER = []
        ORDER.extend([1, 2])

        def name(self, code):
            return self.NAMES.get(code)
    """
    assert findings(code, "ISO203") == []


def test_enum_pydantic_typed_dict_and_protocol_are_clean() -> None:
    code = """
    from enum import IntEnum
    from typing import NamedTuple, Protocol, TypedDict

    import pydantic
    from pydantic_settings import BaseSettings

    class Level(IntEnum):
        LOW = 1
        _aliases = {}

        def alias(self, name):
            self._aliases[name] = self

    class User(pydantic.BaseModel):
        roles: list[str] = []
        groups = []

        def grant(self, role):
            self.roles.append(role)
            self.groups.append(role)

    class Settings(BaseSettings):
        hosts: list[str] = ["a"]

        def add(self, host):
            self.hosts.append(host)

    class Point(NamedTuple):
        tags: list = []

        def tag(self, t):
            self.tags.append(t)

    class Movie(TypedDict):
        cast: list

    class Sink(Protocol):
        buffer: list = []

        def write(self, data):
            self.buffer.append(data)
    """
    assert findings(code, "ISO203") == []


def test_dataclass_field_is_clean_but_unannotated_dataclass_attribute_is_shared() -> None:
    code = """
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Cart:
        items: list[str] = dataclasses.field(default_factory=list)
        registry = {}

        def add(self, item):
            self.items.append(item)
            self.registry[item] = self
    """
    assert findings(code, "ISO203") == [("ISO203", 6)]


def test_classvar_of_a_pydantic_model_is_shared() -> None:
    code = """
    from typing import ClassVar

    from pydantic import BaseModel

    class Account(BaseModel):
        owners: list[str] = []
        instances: ClassVar[list["Account"]] = []

        def model_post_init(self, context):
            self.owners.append("x")
            self.instances.append(self)
    """
    assert findings(code, "ISO203") == [("ISO203", 7)]


def test_staticmethod_and_lookup_tables_are_clean() -> None:
    code = """
    class Formatter:
        UNITS = {"k": 1000}
        plugins = []

        @staticmethod
        def add(plugins, plugin):
            plugins.append(plugin)

        def scale(self, unit):
            units = dict(self.UNITS)
            units["m"] = 10**6
            return self.UNITS[unit]

        def __init_subclass__(cls, **kwargs):
            Formatter.plugins.append(cls)
    """
    assert findings(code, "ISO203") == []


def test_well_known_cache_types_are_containers() -> None:
    code = """
    import weakref
    from cachetools import LRUCache, TTLCache

    _profiles = TTLCache(maxsize=1024, ttl=60)
    _sessions = weakref.WeakValueDictionary()

    class Store:
        cache = LRUCache(maxsize=10)

        def remember(self, user_id, value):
            self.cache[user_id] = value

    def load(user_id):
        _profiles[user_id] = fetch(user_id)
        _sessions[user_id] = open_session(user_id)
    """
    assert findings(code, "ISO201", "ISO203") == [("ISO201", 4), ("ISO201", 5), ("ISO203", 8)]


def test_keyed_multiton_instances_are_reported_but_singleton_stores_are_not() -> None:
    code = """
    class Workspace:
        _instances = {}

        @classmethod
        def for_user(cls, user_id):
            if user_id not in cls._instances:
                cls._instances[user_id] = cls(user_id)
            return cls._instances[user_id]

    class Singleton:
        _instances = {}

        def __new__(cls):
            if cls not in cls._instances:
                cls._instances[cls] = super().__new__(cls)
            return cls._instances[cls]

    class PerUserMeta(type):
        _instances = {}

        def __call__(cls, user_id):
            key = (cls, user_id)
            if key not in cls._instances:
                cls._instances[key] = super().__call__(user_id)
            return cls._instances[key]

    class SingletonMeta(type):
        _instances = {}

        def __call__(cls, *args):
            if cls not in cls._instances:
                cls._instances[cls] = super().__call__(*args)
            return cls._instances[cls]
    """
    assert findings(code, "ISO203") == [("ISO203", 2), ("ISO203", 19)]


def test_iso205_contextvar_default_mutated_in_place_names_the_sites() -> None:
    code = """
    from contextvars import ContextVar

    buffer = ContextVar("buffer", default=SessionBuffer())
    labels = ContextVar("labels", default=frozenset())
    scoped = ContextVar("scoped", default=[])

    def record(message):
        held = buffer.get()
        held.add(message)
        held.count += 1

    def start():
        scoped.set([])

    def use():
        scoped.get().append(1)
        return labels.get()
    """
    example = Example(code=code)
    found = [d for d in lint_example(example, RULES, ["ISO205"]) if d.code == "ISO205"]
    assert [(d.span.line, [r.line for r in d.related]) for d in found] == [(3, [9, 10])]
    assert "`buffer`" in found[0].message and "SessionBuffer()" in found[0].message


# -- ISO203 + ISO106 on one registry: one finding, the instances as related locations -----------

_REGISTRY = """
class PluginRegistry:
    configs = {}

    def configure(self, slug, config):
        self.configs[slug] = config

plugins = PluginRegistry()
"""
_USERS = (
    (
        "app/main.py",
        """
        from app.service import PluginRegistry

        class AdminRegistry(PluginRegistry):
            pass

        admin = AdminRegistry()
        """,
    ),
)


def test_class_attribute_finding_keeps_the_module_level_instances_as_related() -> None:
    example = Example(code=_REGISTRY, files=_USERS)
    found = lint_example(example, RULES, ["ISO106", "ISO203"])
    assert [(d.code, d.path, d.span.line) for d in found] == [("ISO203", "app/service.py", 2)]
    related = [(r.path, r.line) for r in found[0].related]
    assert related == [("app/main.py", 6), ("app/service.py", 7)]
    notes = [r.note for r in found[0].related]
    assert notes[1].startswith("ISO106: `plugins` is a process-wide instance of ")
    assert "create it per request as well" in notes[1]


def test_instances_are_reported_alone_without_the_class_attribute_finding() -> None:
    example = Example(code=_REGISTRY, files=_USERS)
    alone = lint_example(example, RULES, ["ISO106"])
    assert sorted((d.path, d.span.line) for d in alone) == [
        ("app/main.py", 6),
        ("app/service.py", 7),
    ]
    suppressed = Example(
        code=_REGISTRY.replace("configs = {}", "configs = {}  # noqa: ISO203"), files=_USERS
    )
    both = lint_example(suppressed, RULES, ["ISO106", "ISO203"])
    assert sorted((d.code, d.path, d.span.line) for d in both) == [
        ("ISO106", "app/main.py", 6),
        ("ISO106", "app/service.py", 7),
    ]
    assert all(not d.related for d in both)


def test_an_instance_of_another_stateful_class_is_not_folded() -> None:
    code = """
    class PluginRegistry:
        configs = {}

        def configure(self, slug, config):
            self.configs[slug] = config

    class Tracker:
        def __init__(self):
            self.seen = []

        def track(self, user_id):
            self.seen.append(user_id)

    tracker = Tracker()
    """
    found = lint_example(Example(code=code), RULES, ["ISO106", "ISO203"])
    assert sorted((d.code, d.span.line, len(d.related)) for d in found) == [
        ("ISO106", 14, 0),
        ("ISO203", 2, 0),
    ]
