"""ISO601-ISO603: request bleed beyond the doc examples, positive and hard negative."""

from __future__ import annotations

from pathlib import Path

import pytest

from isolint.config import Settings
from isolint.diagnostics import Diagnostic
from isolint.facts import PackedFacts
from isolint.project import ProjectIndex
from isolint.rule import Example
from isolint.runner import LintOptions, lint_source
from isolint.testing import lint_example
from isolint.walk import Walker
from isolint.rules import load_rules

RULES = load_rules()


def lint(
    code: str,
    *codes: str,
    files: tuple[tuple[str, str], ...] = (),
    config: tuple[tuple[str, object], ...] = (),
    path: str = "app/service.py",
) -> list[Diagnostic]:
    example = Example(code=code, path=path, files=files, config=config)
    found = lint_example(example, RULES, list(codes))
    return sorted((d for d in found if d.code in codes), key=lambda d: (d.path, d.span.line))


def lines(found: list[Diagnostic]) -> list[tuple[str, str, int]]:
    return [(d.code, d.path, d.span.line) for d in found]


# -- ISO601: request data stored on a process-wide object ---------------------------------------

_META = """
class SingletonMeta(type):
    _instances = {}

    def __call__(cls, *args, **kwargs):
        if cls not in cls._instances:
            cls._instances[cls] = super().__call__(*args, **kwargs)
        return cls._instances[cls]
"""

_SINGLETON_BASE = """
class Singleton:
    _instance = None

    def __new__(cls, *args, **kwargs):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance
"""


def test_class_using_a_caching_metaclass_from_another_module() -> None:
    code = """
    from app.meta import SingletonMeta

    class ToolRegistry(metaclass=SingletonMeta):
        def __init__(self, session=None):
            self.session = session  # runs once: the metaclass returns the cached instance
            self.enabled = {}

        def enable(self, user_id, tool):
            self.enabled.setdefault(user_id, set()).add(tool)
    """
    found = lint(code, "ISO601", files=(("app/meta.py", _META),))
    assert lines(found) == [("ISO601", "app/service.py", 9)]
    message = found[0].message
    assert "`user_id`" in message and "`self.enabled`" in message and "`ToolRegistry`" in message
    assert "instance-caching metaclass `app.meta.SingletonMeta`" in message
    assert "app/meta.py" in message and "`cls._instances[cls]`" in message


def test_singleton_inherited_from_a_base_in_another_module_reinitialises() -> None:
    code = """
    from app.base import Singleton

    class Dispatcher(Singleton):
        def __init__(self, websocket=None):
            self.websocket = websocket

        def bind(self, current_user):
            self.current_user = current_user
    """
    found = lint(code, "ISO601", files=(("app/base.py", _SINGLETON_BASE),))
    # ``Dispatcher()`` re-runs ``__init__`` on the cached instance: the constructor store counts.
    assert lines(found) == [("ISO601", "app/service.py", 5), ("ISO601", "app/service.py", 8)]
    assert "`websocket`" in found[0].message and "`current_user`" in found[1].message
    for finding in found:
        assert "inherits from `app.base.Singleton`" in finding.message
        assert "caches its own instance in `_instance` in `__new__`" in finding.message
        assert "app/base.py" in finding.message


def test_borg_constructor_and_derived_local_key() -> None:
    code = """
    class RunState:
        _shared = {}

        def __init__(self, thread_id):
            self.__dict__ = self._shared
            self.thread_id = thread_id

        def cache(self, user_id, run_id, result):
            key = f"{user_id}:{run_id}"
            self.results = {key: result}
    """
    found = lint(code, "ISO601")
    assert lines(found) == [("ISO601", "app/service.py", 6), ("ISO601", "app/service.py", 10)]
    assert "`thread_id`" in found[0].message
    assert "share one `__dict__`" in found[0].message
    assert "`key` (from `user_id`)" in found[1].message and "`self.results`" in found[1].message


def test_module_level_instance_of_a_subclass_through_a_module_alias() -> None:
    files = (
        ("app/base.py", "class Store:\n    def put(self, request):\n        self.last = request\n"),
        ("app/stores.py", "from app.base import Store\n\n\nclass UserStore(Store):\n    pass\n"),
    )
    code = """
    import app.stores as stores

    store = stores.UserStore()
    """
    found = lint(code, "ISO601", files=files, path="app/main.py")
    assert lines(found) == [("ISO601", "app/base.py", 3)]
    message = found[0].message
    assert "`request`" in message and "`self.last`" in message and "`Store`" in message
    assert "module-level instance `store` of its subclass `UserStore` in app/main.py" in message


def test_class_state_is_process_wide_in_any_class() -> None:
    code = """
    class Presence:
        def __init__(self, user):
            self.user = user
            type(self).online[user.id] = user.name

        @staticmethod
        def forget_all():
            Presence.online.clear()

        @classmethod
        def current(cls, request):
            cls.last_request = request
    """
    found = lint(code, "ISO601")
    # ``self.user = user`` in a per-request object is fine; the class attributes are not.
    assert lines(found) == [("ISO601", "app/service.py", 4), ("ISO601", "app/service.py", 12)]
    assert "`type(self).online`" in found[0].message
    assert "a class attribute" in found[0].message
    assert "`cls.last_request`" in found[1].message and "`request`" in found[1].message


def test_request_scoped_types_and_names_are_configurable() -> None:
    code = """
    from app.context import UserExecutionContext

    class Hub:
        def __init__(self):
            self.contexts = []
            self.tokens = []

        def join(self, ctx: "UserExecutionContext", api_token):
            self.contexts.append(ctx)
            self.tokens.append(api_token)

    hub = Hub()
    """
    config = (
        ("request-scoped-types", ["app.context.UserExecutionContext"]),
        ("request-scoped-names", ["api_token"]),
    )
    found = lint(code, "ISO601", config=config)
    assert lines(found) == [("ISO601", "app/service.py", 9), ("ISO601", "app/service.py", 10)]
    assert "`ctx` (a `app.context.UserExecutionContext`)" in found[0].message
    assert "`api_token`" in found[1].message
    assert "module-level instance `hub` in app/service.py" in found[1].message


def test_iso601_negative_per_request_object_and_constructor_of_shared_instance() -> None:
    code = """
    class CartService:
        def __init__(self, session):
            self.session = session  # a module-level instance is built once, at import
            self.items = []

        def add(self, user_id, item):
            self.items.append(item)

    class Cart:
        def __init__(self):
            self.by_user = {}

        def add(self, user_id, session):
            self.by_user[user_id] = session

    def handle(user_id, session):
        cart = Cart()
        cart.add(user_id, session)
        return cart

    service = CartService(session=None)
    """
    assert lint(code, "ISO601") == []


def test_iso601_negative_thread_local_contextvar_and_metaclass_constructor() -> None:
    code = """
    import threading
    from contextvars import ContextVar

    from app.meta import SingletonMeta

    class Tracker(metaclass=SingletonMeta):
        def __init__(self, user=None):
            self.user = user  # a caching metaclass runs ``__init__`` once
            self._local = threading.local()
            self._current = ContextVar("current")

        def begin(self, user_id, session):
            self._local.user_id = user_id
            self._local.sessions = [session]
            self._current.set(session)
    """
    assert lint(code, "ISO601", files=(("app/meta.py", _META),)) == []


def test_iso601_negative_reads_logging_counters_and_removals() -> None:
    code = """
    import logging
    import time

    class Manager:
        _instance = None

        def __new__(cls):
            if cls._instance is None:
                cls._instance = super().__new__(cls)
            return cls._instance

        def touch(self, user_id, websocket):
            if user_id in self._known:
                logging.getLogger(__name__).info("user %s", user_id)
            self._log.info("socket %s", websocket)
            self.count += 1
            self.last_seen = time.time()
            self.sockets.pop(user_id, None)
            self.sockets.get(user_id)
            return self.sockets[user_id]
    """
    assert lint(code, "ISO601") == []


def test_iso601_negative_instance_in_a_test_module_does_not_make_the_class_shared() -> None:
    code = """
    class Sessions:
        def remember(self, user_id, session):
            self.by_user = {user_id: session}
    """
    files = (("tests/test_sessions.py", "from app.service import Sessions\n\nS = Sessions()\n"),)
    assert lint(code, "ISO601", files=files) == []


def test_iso601_negative_nested_class_self_is_not_the_outer_instance() -> None:
    code = """
    class Factory:
        _instance = None

        def __new__(cls):
            if cls._instance is None:
                cls._instance = super().__new__(cls)
            return cls._instance

        def build(self):
            class PerUser:
                def bind(self, user_id):
                    self.user_id = user_id
            return PerUser()
    """
    assert lint(code, "ISO601") == []


# -- ISO601 through aliases: objects taken from process-wide ones ------------------------------

_PLUGINS = """
class Plugin:
    def __init__(self, slug):
        self.slug = slug
        self.configuration = {}
        self.users = []

plugins = {"slack": Plugin("slack")}
"""


def test_alias_of_a_registry_entry_in_another_module() -> None:
    code = """
    from app import plugins as registry
    from app.plugins import plugins

    def configure(slug, current_user):
        plugin = plugins.get(slug)
        plugin.configuration = current_user.settings
        other = registry.plugins[slug]
        other.users.append(current_user)
    """
    found = lint(code, "ISO601", files=(("app/plugins.py", _PLUGINS),))
    assert lines(found) == [("ISO601", "app/service.py", 6), ("ISO601", "app/service.py", 8)]
    assert "`plugin.configuration`" in found[0].message
    assert "`plugins.get(slug)` is taken from `plugins`" in found[0].message
    assert "app/plugins.py" in found[0].message and "copy.copy" in found[0].message


def test_alias_of_singleton_accessors_getters_and_module_instances() -> None:
    code = """
    from fastapi import FastAPI

    class Meta(type):
        _instances = {}

        def __call__(cls, *args, **kwargs):
            if cls not in cls._instances:
                cls._instances[cls] = super().__call__(*args, **kwargs)
            return cls._instances[cls]

    class Tracker(metaclass=Meta):
        pass

    class Manager:
        def __init__(self):
            self.by_user = {}

    manager = Manager()
    app = FastAPI()
    _cache = None

    def get_cache():
        global _cache
        if _cache is None:
            _cache = Manager()
        return _cache

    def login(current_user, user_id):
        tracker = Tracker()
        tracker.user = current_user
        manager.current_user = current_user
        app.state.user = current_user
        by_user = manager.by_user
        by_user["last"] = user_id
        cache = get_cache()
        cache.owner = user_id
    """
    found = lint(code, "ISO601")
    assert [d.span.line for d in found] == [30, 31, 32, 34, 36]
    assert "`Tracker()` returns `Tracker`'s one instance" in found[0].message
    assert "`manager` is a module-level instance of `app.service.Manager`" in found[1].message
    assert "`app` is a module-level `FastAPI(...)` object" in found[2].message
    assert "`get_cache()` creates it once" in found[4].message


def test_alias_negatives_copies_queries_own_entries_and_library_methods() -> None:
    code = """
    import copy
    import threading

    from app.plugins import Plugin, plugins
    from app.models import User, crud, db

    _local = threading.local()
    sessions = {}
    plugins["slack"].configuration = {"channel": "#general"}

    class Tracker:
        _instance = None

        @classmethod
        def get_instance(cls):
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def handle(slug, current_user, user_id, session):
        mine = copy.copy(plugins.get(slug))
        mine.configuration = current_user.settings
        fresh = Plugin(slug)
        fresh.configuration = current_user.settings
        own = sessions.get(user_id)
        own.websocket = session
        row = User.objects.get(pk=user_id)
        row.last_seen = current_user
        item = crud.get(db, user_id)
        item.owner = current_user
        db.session.add(current_user)
        _local.user = current_user
        tracker = Tracker()
        tracker.user = current_user
        plugin = plugins.get(slug)
        plugin = Plugin(slug)
        plugin.configuration = current_user.settings
    """
    models = """
    class Session:
        def add(self, item):
            self.items.append(item)

    class Db:
        def __init__(self):
            self.session = Session()

    class Crud:
        def get(self, db, id):
            return db.query(id)

    class User:
        objects = None

    db = Db()
    crud = Crud()
    """
    files = (("app/plugins.py", _PLUGINS), ("app/models.py", models))
    assert lint(code, "ISO601", files=files) == []
    assert lint("""
    from app.plugins import plugins

    def test_configure(current_user):
        plugins.get("slack").configuration = current_user
        plugin = plugins.get("slack")
        plugin.configuration = current_user
    """, "ISO601", files=files, path="tests/test_plugins.py") == []


# -- ISO602: request data in a module-level container -----------------------------------------


def test_iso602_closure_global_declaration_and_derived_key() -> None:
    code = """
    import collections

    _recent = collections.deque(maxlen=50)
    _registry = {}
    _cache = {}

    class Service:
        def handle(self, tenant_id, user_id):
            def remember():
                _recent.appendleft(tenant_id)
            remember()

    def register(websocket):
        global _registry
        _registry.update({id(websocket): websocket})

    def cache(user_id, thread_id, value):
        key = f"{user_id}:{thread_id}"
        _cache[key] = value
    """
    found = lint(code, "ISO602")
    assert lines(found) == [
        ("ISO602", "app/service.py", 10),
        ("ISO602", "app/service.py", 15),
        ("ISO602", "app/service.py", 19),
    ]
    assert "`tenant_id`" in found[0].message and "`_recent`" in found[0].message
    assert "`Service.handle.remember()`" in found[0].message
    assert "`websocket`" in found[1].message and "`_registry`" in found[1].message
    assert "`key` (from `user_id`)" in found[2].message and "`_cache`" in found[2].message


def test_iso602_chained_setdefault_is_one_finding_and_keys_count() -> None:
    code = """
    _by_user = {}

    def subscribe(user_id, callback):
        _by_user.setdefault(user_id, []).append(callback)
    """
    found = lint(code, "ISO602")
    assert lines(found) == [("ISO602", "app/service.py", 4)]
    assert "`user_id`" in found[0].message and "`_by_user`" in found[0].message


def test_iso602_attribute_of_a_stored_entry() -> None:
    code = """
    _connections = {}

    def rebind(user_id, websocket):
        _connections[user_id].socket = websocket
    """
    found = lint(code, "ISO602")
    assert lines(found) == [("ISO602", "app/service.py", 4)]
    assert "`websocket`" in found[0].message


def test_iso602_negative_shadowing_in_an_outer_function() -> None:
    code = """
    _sessions = {}

    def make():
        _sessions = {}

        def add(user_id, session):
            _sessions[user_id] = session

        return add
    """
    assert lint(code, "ISO602") == []


def test_iso602_a_local_holds_the_last_value_assigned_before_it_is_read() -> None:
    """Locals are resolved with the shared scope model (isolint.scopes): the binding in effect
    where the name is read, Python's way, not the last assignment the walk has seen."""
    code = """
    _cache = {}

    def copied_before_reassignment(user_id):
        key = user_id
        alias = key
        key = "all"
        _cache[alias] = 1

    def augmented(user_id):
        key = "user:"
        key += user_id
        _cache[key] = 1

    def rebound_by_a_loop(user_id, names):
        key = user_id
        for key in names:
            _cache[key] = 1

    def comprehension_variable(user_id, names):
        c = user_id
        _cache.update({c: 1 for c in names})

    def first_iterable_is_read_outside(user_id):
        c = [user_id]
        _cache.update({c: 1 for c in c})

    def lambda_parameter(user_id, names):
        key = user_id
        _cache.update(map(lambda key: (key, 1), names))

    def closure(user_id):
        key = user_id

        def store():
            _cache[key] = 1

        key = "all"
        return store
    """
    found = lint(code, "ISO602")
    assert lines(found) == [
        ("ISO602", "app/service.py", 7),
        ("ISO602", "app/service.py", 12),
        ("ISO602", "app/service.py", 25),
        ("ISO602", "app/service.py", 35),
    ]
    assert "`alias` (from `key`)" in found[0].message
    assert "`key` (from `user_id`)" in found[1].message
    assert "`c` (from `user_id`)" in found[2].message
    # a closure reads the outer local as it is where the inner function is defined
    assert "`key` (from `user_id`)" in found[3].message


def test_iso602_keyed_augmented_assignment_is_a_keyed_store() -> None:
    code = """
    from collections import Counter, defaultdict

    _hits = Counter()
    _bytes = defaultdict(int)
    _total = {"all": 0}

    def count(user_id, size):
        _hits[user_id] += 1
        _bytes[f"{user_id}:up"] += size
        _total["all"] += size
    """
    found = lint(code, "ISO602")
    assert [(d.code, d.span.line) for d in found] == [("ISO602", 8), ("ISO602", 9)]
    assert "`user_id`" in found[0].message and "`_hits`" in found[0].message


def test_iso601_keyed_augmented_assignment_on_a_singleton() -> None:
    code = """
    class Meter:
        _instance = None

        def __new__(cls):
            if cls._instance is None:
                cls._instance = super().__new__(cls)
                cls._instance.by_user = {}
                cls._instance.total = 0
            return cls._instance

        def add(self, user_id, n):
            self.by_user[user_id] += n
            self.total += n
    """
    assert [(d.code, d.span.line) for d in lint(code, "ISO601")] == [("ISO601", 12)]


def test_iso602_negative_counters_removals_import_time_and_non_containers() -> None:
    code = """
    import threading

    _hits = {}
    _sessions = {}
    _local = threading.local()
    _sessions["system"] = object()

    def count(role):
        _hits[role] += 1

    def logout(user_id):
        _sessions.pop(user_id, None)

    def login(user):
        _local.user = user
        _sessions["anonymous"] = None
    """
    assert lint(code, "ISO602") == []


def test_iso602_negative_in_tests_and_init_subclass() -> None:
    code = """
    _seen = []

    def test_login(user_id="alice"):
        _seen.append(user_id)
    """
    assert lint(code, "ISO602", path="tests/test_login.py") == []
    code = """
    _plugins = {}

    class Plugin:
        def __init_subclass__(cls, context=None, **kwargs):
            _plugins[cls.__name__] = context
    """
    assert lint(code, "ISO602") == []


# -- ISO603: framework dependencies handing out process-wide objects --------------------------

_WS = """
class ConnectionManager:
    def __init__(self):
        self.connections = {}

    def connect(self, user_id, websocket):
        self.connections[user_id] = websocket


manager = ConnectionManager()


def get_manager():
    return manager


def make_manager():
    return ConnectionManager()
"""

_CACHE = """
from functools import cache


class ResultCache:
    def __init__(self):
        self.results = {}

    def put(self, key, value):
        self.results[key] = value


@cache
def get_result_cache():
    return ResultCache()
"""


def test_iso603_getter_returning_a_module_level_instance_by_keyword() -> None:
    code = """
    from fastapi import Depends

    from app.ws import get_manager

    def dependency(manager=Depends(dependency=get_manager, use_cache=True)):
        return manager
    """
    found = lint(code, "ISO603", files=(("app/ws.py", _WS),))
    assert lines(found) == [("ISO603", "app/service.py", 5)]
    message = found[0].message
    assert "`Depends(dependency=get_manager, use_cache=True)`" in message
    assert "`app.ws.ConnectionManager`" in message
    assert "`get_manager()` returns the module-level `manager`, app/ws.py" in message
    assert found[0].severity.value == "warning"


def test_iso603_cached_provider_called_in_an_api_route_and_security() -> None:
    code = """
    import fastapi

    from app import cache

    router = fastapi.APIRouter()

    @router.api_route("/results", methods=["GET", "POST"])
    async def results(request):
        store = cache.get_result_cache()
        await request.json()
        return store

    def secured(store=fastapi.Security(cache.get_result_cache)):
        return store
    """
    files = (("app/cache.py", _CACHE), ("app/__init__.py", ""))
    found = lint(code, "ISO603", files=files)
    assert lines(found) == [("ISO603", "app/service.py", 9), ("ISO603", "app/service.py", 13)]
    assert "`cache.get_result_cache()` in route handler `results`" in found[0].message
    assert "cached with `@functools.cache`, app/cache.py" in found[0].message
    assert "`app.cache.ResultCache`" in found[1].message


def test_iso603_lazy_getter_in_annotated_websocket_parameter() -> None:
    code = """
    from typing import Annotated

    from fastapi import Depends, FastAPI, WebSocket

    from app.bus import EventBus, get_bus

    app = FastAPI()

    @app.websocket("/events")
    async def events(websocket: WebSocket, bus: Annotated[EventBus, Depends(get_bus)]):
        await websocket.accept()
    """
    bus = """
    class EventBus:
        def __init__(self):
            self.listeners = []

        def listen(self, websocket):
            self.listeners.append(websocket)

    _bus = None

    def get_bus():
        global _bus
        if _bus is None:
            _bus = EventBus()
        return _bus
    """
    found = lint(code, "ISO603", files=(("app/bus.py", bus),))
    assert lines(found) == [("ISO603", "app/service.py", 10)]
    assert "module global `_bus`" in found[0].message and "`app.bus.EventBus`" in found[0].message


def test_iso603_negative_new_object_per_call_and_immutable_shared_object() -> None:
    code = """
    from fastapi import Depends, FastAPI

    from app.ws import make_manager

    app = FastAPI()
    _config = None

    class Config:
        def __init__(self):
            self.debug = False

    def get_config():
        global _config
        if _config is None:
            _config = Config()
        return _config

    @app.get("/")
    def index(manager=Depends(make_manager), config=Depends(get_config)):
        return get_config().debug
    """
    assert lint(code, "ISO603", files=(("app/ws.py", _WS),)) == []


def test_iso603_negative_getter_outside_handlers_parameters_and_tests() -> None:
    code = """
    from fastapi import FastAPI, WebSocket

    from app.ws import get_manager

    app = FastAPI()

    def broadcast_all():
        return get_manager()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, get_manager=None):
        await websocket.accept()
        get_manager()
    """
    assert lint(code, "ISO603", files=(("app/ws.py", _WS),)) == []
    test_code = """
    from fastapi import Depends

    from app.ws import get_manager

    def override(manager=Depends(get_manager)):
        return manager
    """
    assert lint(test_code, "ISO603", files=(("app/ws.py", _WS),), path="tests/test_ws.py") == []


def test_iso603_negative_generator_dependency_and_getter_with_arguments() -> None:
    code = """
    from fastapi import Depends

    from app.ws import ConnectionManager

    def get_session():
        session = ConnectionManager()
        yield session

    def get_for_user(user_id):
        return ConnectionManager()

    def route(session=Depends(get_session), mine=Depends(get_for_user)):
        return session, mine
    """
    assert lint(code, "ISO603", files=(("app/ws.py", _WS),)) == []


# -- facts: what the per-file pass records for the index ---------------------------------------


def _facts(tmp_path: Path, code: str) -> ProjectIndex:
    target = tmp_path / "app" / "mod.py"
    target.parent.mkdir(parents=True)
    target.write_text(code, encoding="utf-8")
    options = LintOptions.create(Settings(), ())
    result = lint_source(target.read_bytes(), "app/mod.py", options, Walker())
    assert isinstance(result.facts, PackedFacts)
    return ProjectIndex([result.facts])


def test_shared_instance_and_singleton_facts(tmp_path: Path) -> None:
    code = (
        "import functools\n"
        "class A:\n"
        "    _i = None\n"
        "    @staticmethod\n"
        "    def instance():\n"
        "        if A._i is None:\n"
        "            A._i = A()\n"
        "        return A._i\n"
        "a = A()\n"
        "def get_b():\n"
        "    global _b\n"
        "    return _b or (_b := A())\n"
        "@functools.lru_cache(maxsize=1)\n"
        "def get_c():\n"
        "    c = A()\n"
        "    return c\n"
        "def get_a():\n"
        "    return a\n"
        "def local_a():\n"
        "    a = 1\n"
        "    return a\n"
    )
    facts = _facts(tmp_path, code).module("app.mod")
    assert facts is not None
    (cls,) = facts.classes
    assert cls.singleton_reason == "caches its own instance in `_i` in `instance`"
    assert not cls.init_per_call
    shared = [(s.kind, s.value, s.name, s.function, s.returned) for s in facts.shared_instances]
    assert shared == [
        ("module", "A", "a", None, False),
        ("global", "A", "_b", "get_b", True),
        ("cached", "A", "functools.lru_cache", "get_c", True),
        ("alias", "a", "", "get_a", True),
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("    def __init__(self):\n        self.x = 1\n", None),
        ("    def set(self, v):\n        type(self).current = self\n", "`current` in `set`"),
        ("    def __new__(cls):\n        o = object.__new__(cls)\n        cls._o = o\n", "`_o`"),
        ("    def __init__(self):\n        self.__dict__ = K._state\n", "`__dict__`"),
    ],
    ids=["plain", "stores-self-on-class", "new-through-local", "borg"],
)
def test_singleton_reason_facts(tmp_path: Path, body: str, reason: str | None) -> None:
    facts = _facts(tmp_path, f"class K:\n    _state = {{}}\n{body}").module("app.mod")
    assert facts is not None
    found = facts.classes[0].singleton_reason
    assert found is None if reason is None else (found is not None and reason in found)


FOLDED = '''\
from collections import defaultdict
from fastapi import APIRouter

router = APIRouter()
_hits = defaultdict(int)


@router.post("/hit")
def hit(user_id: str) -> int:
    _hits[user_id] += 1
    return _hits[user_id]
'''


def test_iso602_writes_fold_into_the_iso201_finding_on_their_container(tmp_path: Path) -> None:
    import json

    from tests.conftest import run_isolint

    (tmp_path / "app").mkdir()
    (tmp_path / "app/routes.py").write_text(FOLDED, encoding="utf-8")
    both = json.loads(run_isolint("check", "--no-cache", "--format", "json", ".", cwd=tmp_path).stdout)
    assert [(d["code"], d["line"]) for d in both["diagnostics"]] == [("ISO201", 5)]
    notes = [(r["line"], r["note"]) for r in both["diagnostics"][0]["related"]]
    assert (10, "ISO602: request-scoped `user_id` is written into `_hits` here, in `hit()`") in notes
    alone = json.loads(
        run_isolint(
            "check", "--no-cache", "--format", "json", "--select", "ISO602", ".", cwd=tmp_path
        ).stdout
    )
    assert [(d["code"], d["line"]) for d in alone["diagnostics"]] == [("ISO602", 10)]
