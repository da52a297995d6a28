"""Lazily cached constants and one-way latches (ISO103, ISO105, ISO202): the same value for every
user is not shared user state; the twins that carry request data or change stay reported."""

from __future__ import annotations

from isolint.rule import Example
from isolint.rules import load_rules
from isolint.testing import lint_example


def _found(code: str, select: str) -> list[str]:
    example = Example(code=code, path="app/cache.py")
    return sorted(
        f"{d.code}:{d.span.line}"
        for d in lint_example(example, load_rules(), [select])
        if d.code == select
    )


STRIPE_KEY = """
import asyncio
import httpx

_stripe_publishable_key_cache: str | None = None
_stripe_key_lock = asyncio.Lock()

async def get_stripe_publishable_key():
    global _stripe_publishable_key_cache
    if _stripe_publishable_key_cache:
        return _stripe_publishable_key_cache
    async with _stripe_key_lock:
        if _stripe_publishable_key_cache:
            return _stripe_publishable_key_cache
        if KEY_OVERRIDE:
            key = KEY_OVERRIDE.strip()
            _stripe_publishable_key_cache = key
            return key
        async with httpx.AsyncClient() as client:
            response = await client.get(KEY_URL)
            key = response.text.strip()
            _stripe_publishable_key_cache = key
            return key
"""


def test_key_fetched_once_is_a_constant() -> None:
    # onyx ee/onyx/server/billing/api.py:441 and tenants/billing_api.py:245
    assert _found(STRIPE_KEY, "ISO202") == []


def test_value_from_a_parameter_is_reported() -> None:
    code = STRIPE_KEY.replace("get_stripe_publishable_key():", "get_stripe_publishable_key(tenant):")
    code = code.replace("key = KEY_OVERRIDE.strip()", "key = tenant.key")
    assert _found(code, "ISO202") == ["ISO202:8"]


def test_value_from_a_request_scoped_name_is_reported() -> None:
    code = STRIPE_KEY.replace("response.text.strip()", "response.text.strip() + request.host")
    assert _found(code, "ISO202") == ["ISO202:8"]


def test_undeclared_or_mutable_type_is_reported() -> None:
    assert _found(STRIPE_KEY.replace(": str | None = None", " = None"), "ISO202") == ["ISO202:8"]
    assert _found(STRIPE_KEY.replace("str | None", "dict | None"), "ISO202") == ["ISO202:8"]


def test_rebinding_outside_the_unset_guard_is_reported() -> None:
    code = STRIPE_KEY + "\ndef rotate(new):\n    global _stripe_publishable_key_cache\n    _stripe_publishable_key_cache = new\n"
    assert _found(code, "ISO202") == ["ISO202:25"]


LATCH = """
_instance_id_resolved = False

def add_instance_tags(event):
    global _instance_id_resolved
    if _instance_id_resolved:
        return event
    set_tag("instance_id", get_instance_id())
    _instance_id_resolved = True
    return event
"""


def test_one_way_latch_is_not_reported() -> None:
    # onyx configs/sentry.py:27 and utils/logger.py:120
    assert _found(LATCH, "ISO202") == []


def test_latch_that_is_reset_is_reported() -> None:
    code = LATCH + "\ndef reset():\n    global _instance_id_resolved\n    _instance_id_resolved = False\n"
    assert _found(code, "ISO202") == ["ISO202:12", "ISO202:4"]


def test_latch_read_as_a_switch_elsewhere_is_reported() -> None:
    code = LATCH + "\ndef handle(request):\n    if _instance_id_resolved:\n        log(request)\n"
    assert _found(code, "ISO202") == ["ISO202:4"]


def test_latch_read_as_the_guard_of_its_setter_is_not_reported() -> None:
    # onyx utils/logger.py:120: `if not _third_party_log_levels_capped: cap_...()` elsewhere
    code = """
_capped = False

def cap_levels():
    global _capped
    _capped = True
    set_levels()

def setup_logger(name):
    if not _capped:
        cap_levels()
    return get_logger(name)
"""
    assert _found(code, "ISO202") == []


def test_latch_bound_to_a_computed_value_is_reported() -> None:
    # onyx server/manage/get_state.py:204: `_HAS_USERS_LATCHED = has_users` stays reported
    code = LATCH.replace(
        "_instance_id_resolved = True", "found = count_users() > 0\n    _instance_id_resolved = found"
    )
    assert _found(code, "ISO202") == ["ISO202:4"]


SHARD_SPECS = """
import threading

_SHARD_SPECS: dict[str, ShardSpec] | None = None
_SPECS_LOCK = threading.Lock()

def get_shard_specs():
    global _SHARD_SPECS
    if _SHARD_SPECS is None:
        with _SPECS_LOCK:
            if _SHARD_SPECS is None:
                _SHARD_SPECS = _parse_shard_specs()
    return _SHARD_SPECS
"""


def test_configuration_table_parsed_once_is_a_constant() -> None:
    # onyx db/engine/shard_registry.py:173 and shard_routing.py:76
    assert _found(SHARD_SPECS, "ISO103") == []


def test_table_changed_in_the_module_is_reported() -> None:
    code = SHARD_SPECS + "\ndef add(name, spec):\n    get_shard_specs()[name] = spec\n    _SHARD_SPECS[name] = spec\n"
    assert _found(code, "ISO103") == ["ISO103:6"]


def test_table_built_from_a_parameter_is_reported() -> None:
    code = SHARD_SPECS.replace("get_shard_specs():", "get_shard_specs(tenant_id):").replace(
        "_parse_shard_specs()", "_parse_shard_specs(tenant_id)"
    )
    assert _found(code, "ISO103") == ["ISO103:6"]


CONFIG = """
import os
from functools import lru_cache

from pydantic import BaseModel

class ExternalEndpointConfig(BaseModel):
    endpoint_url: str
    api_key: str | None = None
    timeout_seconds: float
{methods}
@lru_cache(maxsize=1)
def get_document_push_config():
    return ExternalEndpointConfig(endpoint_url=os.environ["URL"], timeout_seconds=5.0)
"""


def test_cached_pydantic_config_is_not_reported() -> None:
    # onyx indexing/document_push.py:78
    assert _found(CONFIG.format(methods=""), "ISO105") == []


def test_cached_pydantic_model_that_changes_itself_is_reported() -> None:
    methods = "\n    def touch(self, user):\n        self.api_key = user.key\n"
    assert _found(CONFIG.format(methods=methods), "ISO105") == ["ISO105:15"]


BASE = """
from abc import ABC, abstractmethod


class BaseDataLayer(ABC):
    @abstractmethod
    async def get_user(self, identifier): ...
"""
POSTGRES = """
import asyncpg

from app.base import BaseDataLayer


class PostgresDataLayer(BaseDataLayer):
    def __init__(self, database_url):
        self.database_url = database_url
        self.pool = None

    async def connect(self):
        if not self.pool:
            self.pool = await asyncpg.create_pool(self.database_url)

    async def cleanup(self):
        if self.pool:
            await self.pool.close()
            self.pool = None

    async def get_user(self, identifier):
        await self.connect()
        return await self.pool.fetchrow("SELECT * FROM users WHERE id = $1", identifier)
"""
GETTER = """
import os
from typing import Optional

from app.base import BaseDataLayer

_data_layer: Optional[BaseDataLayer] = None
_data_layer_initialized = False


def get_data_layer():
    global _data_layer, _data_layer_initialized
    if not _data_layer_initialized:
        if _data_layer:
            warn("set manually")
        elif database_url := os.environ.get("DATABASE_URL"):
            from app.postgres import PostgresDataLayer

            _data_layer = PostgresDataLayer(database_url=database_url)
        _data_layer_initialized = True
    return _data_layer
"""


def _found_files(files: tuple[tuple[str, str], ...]) -> list[str]:
    example = Example(code=GETTER, path="app/data.py", files=files)
    return sorted(
        f"{d.code}:{d.span.line}"
        for d in lint_example(example, load_rules(), ["ISO103"])
        if d.code == "ISO103"
    )


def test_data_layer_with_a_lazily_created_pool_is_a_constant() -> None:
    # chainlit data/__init__.py:14: the only later state is a pool built from the database URL
    assert _found_files((("app/base.py", BASE), ("app/postgres.py", POSTGRES))) == []


def test_data_layer_remembering_a_caller_value_is_reported() -> None:
    remembering = POSTGRES + (
        "\n    async def set_current_user(self, user):\n        if not self.user:\n"
        "            self.user = user\n"
    )
    assert _found_files((("app/base.py", BASE), ("app/postgres.py", remembering))) == ["ISO103:10"]


def test_pool_built_from_a_method_argument_is_reported() -> None:
    changed = POSTGRES.replace("async def connect(self):", "async def connect(self, url):").replace(
        "create_pool(self.database_url)", "create_pool(url)"
    )
    assert _found_files((("app/base.py", BASE), ("app/postgres.py", changed))) == ["ISO103:10"]


def test_cached_pydantic_model_with_a_mutable_field_is_reported() -> None:
    # fixtures/example_project chatapp/config.py: `feature_flags: dict[str, bool] = {}`
    code = CONFIG.format(methods="    feature_flags: dict[str, bool] = {}\n")
    assert _found(code, "ISO105") == ["ISO105:13"]
