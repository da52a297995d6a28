"""ISO201/ISO203: containers declared to hold only inert objects (class objects, library clients,
stateless project objects) are not shared user data; their stateful twins stay reported."""

from __future__ import annotations

import pytest

from isolint.rule import Example
from isolint.rules import load_rules
from isolint.testing import lint_example

TOKENIZERS = """
from abc import ABC, abstractmethod


class BaseTokenizer(ABC):
    @abstractmethod
    def encode(self, text): ...


class WordTokenizer(BaseTokenizer):
    def __init__(self, model):
        self.model = model

    def encode(self, text):
        return text.split()
"""
COUNTING = """

class CountingTokenizer(BaseTokenizer):
    def __init__(self):
        self.calls = 0

    def encode(self, text):
        self.calls += 1
        return text.split()
"""
RECORD = """
from dataclasses import dataclass


@dataclass
class PersistedUser:
    id: str
    email: str
"""


def _found(code: str, files: tuple[tuple[str, str], ...] = (), select: str = "ISO2") -> list[str]:
    example = Example(code=code, path="app/cache.py", files=files)
    return sorted(
        f"{d.code}:{d.span.line}"
        for d in lint_example(example, load_rules(), [select])
        if d.code in ("ISO201", "ISO203")
    )


SHARD_ENGINES = """
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_ASYNC_ENGINES: dict[str, AsyncEngine] = {}

def get_async_engine_for_shard(spec):
    engine = _ASYNC_ENGINES.get(spec.name)
    if engine is None:
        engine = create_async_engine(spec.url)
        _ASYNC_ENGINES[spec.name] = engine
    return engine
"""


def test_library_engines_keyed_by_shard_are_not_reported() -> None:
    # onyx db/engine/async_sql_engine.py:41: one engine per configured shard
    assert _found(SHARD_ENGINES) == []


def test_engines_changed_after_storing_are_reported() -> None:
    changed = SHARD_ENGINES.replace(
        "    return engine", "    engine.echo = spec.debug\n    return engine"
    )
    assert _found(changed) == ["ISO201:3"]


def test_engines_keyed_by_a_request_scoped_name_are_reported() -> None:
    keyed = SHARD_ENGINES.replace("(spec):", "(spec, tenant_id):").replace(
        "_ASYNC_ENGINES[spec.name] = engine", "_ASYNC_ENGINES[tenant_id] = engine"
    )
    assert _found(keyed) == ["ISO201:3"]


CLASS_CACHE = """
import importlib
from typing import Type

_connector_cache: dict[str, Type[object]] = {}

def load_connector_class(source):
    if source not in _connector_cache:
        module = importlib.import_module(f"connectors.{source}")
        _connector_cache[source] = getattr(module, "Connector")
    return _connector_cache[source]
"""


def test_cache_of_class_objects_is_not_reported() -> None:
    # onyx connectors/factory.py:37 and federated_connectors/factory.py:19
    assert _found(CLASS_CACHE) == []


def test_cache_of_values_is_reported() -> None:
    values = CLASS_CACHE.replace("Type[object]", "tuple[str, float]")
    assert _found(values) == ["ISO201:4"]


@pytest.mark.parametrize(
    "element",
    ["asyncio.Lock", "threading.Lock", "queue.Queue", "datetime.datetime", "str", "dict"],
)
def test_objects_that_change_by_use_and_values_are_data(element: str) -> None:
    code = (
        "import asyncio, datetime, queue, threading\n\n"
        f"_BY_KEY: dict[str, {element}] = {{}}\n\n"
        "def put(key, value):\n"
        "    _BY_KEY[key] = value\n"
    )
    assert _found(code) == ["ISO201:3"]


def test_undeclared_element_type_is_reported() -> None:
    assert _found("_CLIENTS: dict = {}\n\ndef put(key, client):\n    _CLIENTS[key] = client\n") == [
        "ISO201:1"
    ]


TOKENIZER_CACHE = """
from app.tokenizers import BaseTokenizer, WordTokenizer

_TOKENIZER_CACHE: dict[str, BaseTokenizer] = {}

def get_tokenizer(model):
    if model not in _TOKENIZER_CACHE:
        _TOKENIZER_CACHE[model] = WordTokenizer(model)
    return _TOKENIZER_CACHE[model]
"""


def test_stateless_project_classes_are_not_reported() -> None:
    # onyx natural_language_processing/utils.py:98: tokenizers cached per model name
    assert _found(TOKENIZER_CACHE, (("app/tokenizers.py", TOKENIZERS),)) == []


def test_a_stateful_subclass_makes_the_declared_class_stateful() -> None:
    files = (("app/tokenizers.py", TOKENIZERS + COUNTING),)
    assert _found(TOKENIZER_CACHE, files) == ["ISO201:3"]


def test_records_of_user_data_are_reported() -> None:
    # chainlit discord/app.py:146: `Dict[int, PersistedUser]`, a dataclass per user
    code = (
        "from app.models import PersistedUser\n\n"
        "users_by_id: dict[int, PersistedUser] = {}\n\n"
        "def remember(key, user):\n"
        "    users_by_id[key] = user\n"
    )
    assert _found(code, (("app/models.py", RECORD),)) == ["ISO201:3"]


POOL = """
import httpx

class HttpxPool:
    _clients: dict[str, httpx.Client] = {}

    @classmethod
    def init_client(cls, name, **kwargs):
        if name not in cls._clients:
            cls._clients[name] = httpx.Client(**kwargs)

    @classmethod
    def get(cls, name):
        return cls._clients[name]
"""


def test_class_attribute_of_library_clients_is_not_reported() -> None:
    # onyx httpx/httpx_pool.py:17 and db/engine/shard_registry.py:275
    assert _found(POOL) == []


def test_class_attribute_of_changed_clients_is_reported() -> None:
    changed = POOL.replace(
        "return cls._clients[name]",
        "client = cls._clients[name]\n        client.cookies.clear()\n        return client",
    )
    assert _found(changed) == ["ISO203:4"]


MULTITON = """
class TiktokenTokenizer:
    _instances: dict[str, "TiktokenTokenizer"] = {}

    def __new__(cls, model_name):
        if model_name not in cls._instances:
            cls._instances[model_name] = super().__new__(cls)
        return cls._instances[model_name]

    def __init__(self, model_name):
        if not hasattr(self, "encoder"):
            self.encoder = model_name

    def encode(self, text):
        return text.split()
"""


def test_multiton_of_a_stateless_class_is_not_reported() -> None:
    # onyx natural_language_processing/utils.py:35
    assert _found(MULTITON) == []


def test_multiton_of_a_stateful_class_is_reported() -> None:
    stateful = MULTITON.replace(
        "return text.split()", "self.last = text\n        return text.split()"
    )
    assert _found(stateful) == ["ISO203:2"]


def _iso101(code: str, files: tuple[tuple[str, str], ...] = ()) -> list[str]:
    example = Example(code=code, path="app/tok.py", files=files)
    return [
        f"{d.code}:{d.span.line}"
        for d in lint_example(example, load_rules(), ["ISO101"])
        if d.code == "ISO101"
    ]


GUARDED = MULTITON.replace("class TiktokenTokenizer:", "class TiktokenTokenizer(Base):")


def test_self_caching_class_built_once_and_never_changed_is_not_reported() -> None:
    # onyx natural_language_processing/utils.py:34: tokenizer multiton, `if not hasattr(...)`
    base = "from abc import ABC\n\nclass Base(ABC):\n    def encode(self, text): ...\n"
    assert _iso101("from app.base import Base\n" + GUARDED, (("app/base.py", base),)) == []


def test_self_caching_class_with_a_stateful_base_is_reported() -> None:
    base = "class Base:\n    def count(self):\n        self.calls = getattr(self, 'calls', 0) + 1\n"
    assert _iso101("from app.base import Base\n" + GUARDED, (("app/base.py", base),)) == [
        "ISO101:3"
    ]


def test_self_caching_class_with_a_library_base_is_reported() -> None:
    assert _iso101("from tokenizers import Base\n" + GUARDED) == ["ISO101:3"]


def test_self_caching_class_whose_init_runs_every_call_is_reported() -> None:
    unguarded = MULTITON.replace(
        'if not hasattr(self, "encoder"):\n            self.encoder = model_name',
        "self.encoder = model_name",
    )
    assert unguarded != MULTITON
    assert _iso101(unguarded) == ["ISO101:1"]
