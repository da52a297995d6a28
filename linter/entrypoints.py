"""Recognise where requests, users' tasks and startup code begin, per framework (one source).

Per file, from the syntax and the file's imports: decorators (``@app.post("/items")``,
``@shared_task``, ``@click.command()``), registrations (``path("items/", views.items)``,
``app.add_url_rule(...)``, ``FastAPI(lifespan=...)``, ``atexit.register(fn)``) and, in the global
phase, framework base classes (``APIView``, ``MethodView``, ``graphene.ObjectType``,
``AppConfig.ready``). Everything here is a pure function of nodes or strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from isolint.imports import ImportTable, dotted_name

REQUEST = "request"
STARTUP = "startup"

_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
# Flask/FastAPI/Starlette hooks that run inside a request.
_REQUEST_HOOKS = frozenset(
    {
        "exception_handler",
        "errorhandler",
        "app_errorhandler",
        "before_request",
        "after_request",
        "teardown_request",
        "teardown_appcontext",
        "before_app_request",
        "after_app_request",
        "context_processor",
        "url_value_preprocessor",
        "url_defaults",
    }
)
_STARTUP_HOOKS = frozenset({"before_first_request", "before_serving", "after_serving"})
# Django view decorators: only ever applied to views.
_DJANGO_VIEW_DECORATORS = frozenset(
    {
        "api_view",
        "login_required",
        "require_http_methods",
        "require_GET",
        "require_POST",
        "require_safe",
        "csrf_exempt",
        "permission_required",
        "staff_member_required",
    }
)
_SLACK_LISTENERS = frozenset({"message", "action", "view", "shortcut", "block_action"})
# Signals (Celery, Django, Flask, SQLAlchemy events) that fire while a process starts or stops.
_STARTUP_SIGNALS = frozenset(
    {
        "worker_process_init",
        "worker_init",
        "worker_ready",
        "celeryd_init",
        "celeryd_after_setup",
        "setup_logging",
        "after_setup_logger",
        "after_setup_task_logger",
        "beat_init",
        "worker_shutdown",
        "worker_shutting_down",
        "worker_process_shutdown",
        "import_modules",
        "on_after_configure",
        "on_after_finalize",
        "on_configure",
        "post_migrate",
        "pre_migrate",
        "class_prepared",
        "mapper_configured",
        "after_configured",
        "before_configured",
        "instrument_class",
        "class_instrument",
        "attribute_instrument",
        "before_mapper_configured",
    }
)
_TASK_DECORATORS = frozenset({"task", "shared_task", "periodic_task", "actor", "job", "db_task"})
_BARE_TASK_DECORATORS = frozenset({"shared_task", "periodic_task", "actor"})
_STARTUP_FUNCTION_NAMES = frozenset(
    {"lifespan", "create_app", "make_app", "create_application", "app_factory"}
)
_FRAMEWORK_PACKAGES = frozenset(
    {
        "django",
        "rest_framework",
        "flask",
        "flask_restful",
        "flask_restx",
        "starlette",
        "fastapi",
        "aiohttp",
        "graphene",
        "graphene_django",
        "strawberry",
        "socketio",
        "channels",
        "celery",
        "tornado",
        "sanic",
        "falcon",
        "dramatiq",
    }
)
# Base classes whose (public) methods a framework calls per request or per task.
_REQUEST_BASES = frozenset(
    {
        "View",
        "APIView",
        "GenericAPIView",
        "ViewSet",
        "GenericViewSet",
        "ModelViewSet",
        "ReadOnlyModelViewSet",
        "ViewSetMixin",
        "ListAPIView",
        "CreateAPIView",
        "RetrieveAPIView",
        "DestroyAPIView",
        "UpdateAPIView",
        "ListCreateAPIView",
        "RetrieveUpdateAPIView",
        "RetrieveDestroyAPIView",
        "RetrieveUpdateDestroyAPIView",
        "TemplateView",
        "RedirectView",
        "FormView",
        "ListView",
        "DetailView",
        "CreateView",
        "UpdateView",
        "DeleteView",
        "MethodView",
        "Resource",
        "HTTPEndpoint",
        "WebSocketEndpoint",
        "BaseHTTPMiddleware",
        "ObjectType",
        "Mutation",
        "Interface",
        "Subscription",
        "ClientIDMutation",
        "Namespace",
        "AsyncNamespace",
        "WebsocketConsumer",
        "AsyncWebsocketConsumer",
        "JsonWebsocketConsumer",
        "AsyncJsonWebsocketConsumer",
        "AsyncConsumer",
        "SyncConsumer",
        "Task",
        "MiddlewareMixin",
        "RequestHandler",
        "HTTPMethodView",
    }
)
_STRAWBERRY_CLASS_DECORATORS = frozenset({"type", "interface", "input"})
_ROUTE_CLASSES = frozenset({"Route", "WebSocketRoute", "APIRoute", "APIWebSocketRoute"})
_AIOHTTP_ADDERS = frozenset(
    {"add_get", "add_post", "add_put", "add_patch", "add_delete", "add_view"}
)
_RQ_ENQUEUE = frozenset({"enqueue", "enqueue_call", "enqueue_at", "enqueue_in", "schedule"})
_DJANGO_URLS = frozenset({"path", "re_path", "url"})
# Calls that run a callable (or a coroutine) in the background, beside the requests: stdlib and
# framework spawners by name, and project helpers named like them (``create_permanent_task(fn)``).
BACKGROUND = "background task"
_SPAWN_CLASSES = frozenset({"Thread", "Timer"})  # not ``Process``: its state is its own
_SPAWN_NAME = re.compile(
    r"(?:^|_)(?:tasks?|threads?|spawn|jobs?|background|submit|start_soon|ensure_future"
    r"|run_in_executor|to_thread|run_coroutine_threadsafe)(?:$|_)"
)
_SPAWN_CORO = re.compile(r"(?:^|_)(?:task|spawn|ensure_future|run_coroutine_threadsafe)$")
_SPAWN_KEYWORDS = frozenset({"target", "function", "func", "fn", "coro", "coroutine", "job"})


@dataclass(frozen=True)
class Found:
    """One recognised entry point or startup root, before it is attached to a function."""

    kind: str  # REQUEST | STARTUP
    label: str


@dataclass(frozen=True)
class Registered:
    """A registration call naming its handler: ``target`` is the handler as written."""

    target: str
    kind: str
    label: str


def string_value(node: cst.SimpleString) -> str | bytes:
    """``node.evaluated_value``, read off the source when the literal has no escapes (LibCST
    evaluates with ``ast.literal_eval``: a compile per string, costly on a hot path)."""
    value = node.value
    if "\\" in value or "\r" in value or value[0] not in "'\"":
        return node.evaluated_value  # escapes, or a prefix (``b``, ``r``, ``u``, ``f``)
    quote = 3 if len(value) >= 6 and value[:3] in ('"""', "'''") else 1
    return value[quote:-quote]


def _string_arg(call: cst.Call, position: int = 0, keyword: str | None = None) -> str | None:
    value = _arg(call, position, keyword)
    if isinstance(value, cst.SimpleString):
        text = string_value(value)
        return text if isinstance(text, str) else None
    return None


def _arg(call: cst.Call, position: int, keyword: str | None = None) -> cst.BaseExpression | None:
    index = 0
    for arg in call.args:
        if arg.keyword is not None:
            if keyword is not None and arg.keyword.value == keyword:
                return arg.value
            continue
        if arg.star:
            return None
        if index == position:
            return arg.value
        index += 1
    return None


def _methods(call: cst.Call, default: str) -> str:
    value = _arg(call, -1, "methods")
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        names = [
            el.value.evaluated_value.upper()
            for el in value.elements
            if isinstance(el.value, cst.SimpleString) and isinstance(el.value.evaluated_value, str)
        ]
        if names:
            return ",".join(names)
    return default


def _name_of(expr: cst.BaseExpression, imports: ImportTable) -> str:
    return imports.qualified_name(expr) or dotted_name(expr) or ""


def decorator_entry(decorator: cst.Decorator, imports: ImportTable) -> Found | None:
    """What a function decorator says about when the function runs (None: nothing known)."""
    expr = decorator.decorator
    call = expr if isinstance(expr, cst.Call) else None
    func = call.func if call is not None else expr
    name = _name_of(func, imports)
    if not name:
        return None
    head, _, last = name.rpartition(".")
    package = name.split(".", 1)[0]
    path = _string_arg(call, 0, "path") if call is not None else None
    is_path = path is not None and (path.startswith("/") or path == "")
    if call is not None and is_path and last in _HTTP_VERBS and head:
        return Found(REQUEST, f"{last.upper()} {path or '/'}")
    if call is not None and last in ("route", "api_route") and head and path is not None:
        return Found(REQUEST, f"{_methods(call, 'GET')} {path or '/'}")
    if last in ("websocket", "websocket_route") and head:
        return Found(REQUEST, f"WEBSOCKET {path or ''}".rstrip())
    if last == "middleware" and head and call is not None:
        return Found(REQUEST, "HTTP middleware")
    if last in _REQUEST_HOOKS and head:
        return Found(REQUEST, f"`{last}` hook")
    if last == "on_event" and call is not None:
        return Found(STARTUP, f"`on_event({_string_arg(call) or ''!r})` hook")
    if last in _STARTUP_HOOKS:
        return Found(STARTUP, f"`{last}` hook")
    if last == "register" and name == "atexit.register":
        return Found(STARTUP, "`atexit` hook")
    if last in _TASK_DECORATORS and (head or last in _BARE_TASK_DECORATORS):
        return Found(REQUEST, _task_label(last, package))
    if last in _DJANGO_VIEW_DECORATORS:
        return Found(REQUEST, "Django view" if last != "api_view" else "DRF `api_view`")
    if last == "receiver" and call is not None:
        signal = _name_of(_arg(call, 0) or cst.Name("_"), imports).rsplit(".", 1)[-1]
        kind = STARTUP if signal in _STARTUP_SIGNALS else REQUEST
        return Found(kind, f"`{signal}` signal receiver")
    if last == "connect" and head:
        signal = head.rsplit(".", 1)[-1]
        kind = STARTUP if signal in _STARTUP_SIGNALS else REQUEST
        return Found(kind, f"`{signal}` signal receiver")
    if last == "listens_for" and call is not None:
        event = _string_arg(call, 1) or ""
        kind = STARTUP if event in _STARTUP_SIGNALS else REQUEST
        return Found(kind, f"`{event}` event listener")
    if package == "strawberry" and last in ("field", "mutation", "subscription"):
        return Found(REQUEST, "GraphQL resolver")
    if last == "field" and head and call is not None and path is not None:
        return Found(REQUEST, f"GraphQL resolver `{path}`")
    if package == "chainlit" and last.startswith(("on_", "action_callback", "set_")):
        return Found(REQUEST, f"Chainlit `{last}` handler")
    if last == "event" and head:
        return Found(REQUEST, f"`{head.rsplit('.', 1)[-1]}.event` handler")
    if last == "on" and head and call is not None:
        return Found(REQUEST, f"event `{_string_arg(call) or '?'}` handler")
    if last == "command" and head and path is not None and path.startswith("/"):
        return Found(REQUEST, f"Slack command `{path}`")
    if last in _SLACK_LISTENERS and head and call is not None:
        return Found(REQUEST, f"`{last}` listener")
    if last in ("command", "group") and (head or package in ("click", "typer")):
        return Found(STARTUP, "CLI command")
    return None


def _task_label(last: str, package: str) -> str:
    if last == "actor":
        return "Dramatiq actor"
    if last == "job":
        return "RQ job"
    if package == "huey" or last == "db_task":
        return "Huey task"
    return "Celery task"


def class_decorator_entry(decorator: cst.Decorator, imports: ImportTable) -> str | None:
    """A class decorator that makes every method an entry point (``@strawberry.type``)."""
    expr = decorator.decorator
    func = expr.func if isinstance(expr, cst.Call) else expr
    name = _name_of(func, imports)
    package, _, last = name.rpartition(".")
    if package.split(".", 1)[0] == "strawberry" and last in _STRAWBERRY_CLASS_DECORATORS:
        return f"@{name}"
    return None


def function_name_entry(name: str, module_level: bool) -> Found | None:
    """A startup root recognised by name alone (``lifespan``, ``create_app``)."""
    if module_level and name in _STARTUP_FUNCTION_NAMES:
        label = "FastAPI lifespan" if name == "lifespan" else "app factory"
        return Found(STARTUP, label)
    return None


def _handler(expr: cst.BaseExpression | None) -> str | None:
    """A handler argument as written: ``views.index``; ``ItemView.as_view()`` -> ``ItemView``."""
    if expr is None:
        return None
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value == "as_view":
            return dotted_name(func.value)
        return None
    return dotted_name(expr)


def _handlers(expr: cst.BaseExpression | None) -> list[str]:
    if isinstance(expr, (cst.List, cst.Tuple)):
        return [h for el in expr.elements if (h := _handler(el.value)) is not None]
    found = _handler(expr)
    return [found] if found is not None else []


# The last names of the calls ``registrations`` looks at (besides aiohttp's): every other call is
# decided by one set lookup.
_REGISTERING = frozenset(
    {
        "add_api_route",
        "add_api_websocket_route",
        "add_websocket_route",
        "add_route",
        "add_url_rule",
        "Depends",
        "Security",
        "FastAPI",
        "Starlette",
        "Quart",
        "Application",
        "add_event_handler",
        "add_exception_handler",
        "register",
        "connect",
        "on",
        "cron",
    }
    | _AIOHTTP_ADDERS
    | _ROUTE_CLASSES
    | _DJANGO_URLS
    | _RQ_ENQUEUE
)


def registrations(
    call: cst.Call, imports: ImportTable, name: str | None = None
) -> list[Registered]:
    """Handlers registered by a call: routes, URL patterns, lifespans, hooks, queued jobs.
    ``name``: the callee's qualified (else dotted) name, if the caller has it."""
    if name is None:
        name = _name_of(call.func, imports)
    if not name:
        return []
    head, _, last = name.rpartition(".")
    package = name.split(".", 1)[0]
    if last not in _REGISTERING and package != "aiohttp":
        return []
    out: list[Registered] = []

    def add(expr: cst.BaseExpression | None, kind: str, label: str) -> None:
        out.extend(Registered(h, kind, label) for h in _handlers(expr))

    path = _string_arg(call, 0, "path")
    if last in ("add_api_route", "add_api_websocket_route", "add_websocket_route") and head:
        add(_arg(call, 1, "endpoint"), REQUEST, f"{_methods(call, 'GET')} {path or ''}".strip())
    elif last == "add_route" and head:
        first = _string_arg(call, 0)
        if first is not None and not first.startswith("/") and len(call.args) >= 3:
            add(_arg(call, 2, "handler"), REQUEST, f"{first} {_string_arg(call, 1) or ''}")
        else:
            add(_arg(call, 1, "endpoint"), REQUEST, f"{_methods(call, 'GET')} {path or ''}")
    elif last == "add_url_rule" and head:
        add(_arg(call, 2, "view_func"), REQUEST, f"{_methods(call, 'GET')} {path or ''}")
    elif last in _AIOHTTP_ADDERS and head:
        verb = last[4:].upper() if last != "add_view" else "VIEW"
        add(_arg(call, 1, "handler"), REQUEST, f"{verb} {path or ''}")
    elif package == "aiohttp" and last in _HTTP_VERBS | {"route", "view"}:
        add(_arg(call, 1, "handler"), REQUEST, f"{last.upper()} {path or ''}")
    elif last in _ROUTE_CLASSES and (package in ("starlette", "fastapi") or not head):
        add(_arg(call, 1, "endpoint"), REQUEST, f"{_methods(call, 'GET')} {path or ''}")
    elif last in _DJANGO_URLS and (package == "django" or not head):
        route = _string_arg(call, 0, "route") or _string_arg(call, 0, "regex") or ""
        add(_arg(call, 1, "view"), REQUEST, f"Django URL '{route}'")
    elif last in ("Depends", "Security") and (package == "fastapi" or not head):
        add(_arg(call, 0, "dependency"), REQUEST, "FastAPI dependency")
    elif last in ("FastAPI", "Starlette", "Quart", "Application"):
        add(_arg(call, -1, "lifespan"), STARTUP, "lifespan")
        add(_arg(call, -1, "on_startup"), STARTUP, "startup hook")
        add(_arg(call, -1, "on_shutdown"), STARTUP, "shutdown hook")
    elif last == "add_event_handler" and head:
        add(_arg(call, 1, "func"), STARTUP, f"`{_string_arg(call) or 'startup'}` handler")
    elif last == "add_exception_handler" and head:
        add(_arg(call, 1, "handler"), REQUEST, "exception handler")
    elif name == "atexit.register":
        add(_arg(call, 0), STARTUP, "`atexit` hook")
    elif last == "connect" and head:
        signal = head.rsplit(".", 1)[-1]
        kind = STARTUP if signal in _STARTUP_SIGNALS else REQUEST
        add(_arg(call, 0, "receiver"), kind, f"`{signal}` signal receiver")
    elif last == "on" and head and _string_arg(call) is not None and len(call.args) >= 2:
        add(_arg(call, 1, "handler"), REQUEST, f"event `{_string_arg(call)}` handler")
    elif last in _RQ_ENQUEUE and head:
        position = 1 if last in ("enqueue_at", "enqueue_in") else 0
        add(_arg(call, position, "func" if last != "enqueue" else "f"), REQUEST, "RQ job")
    elif last == "cron" and package == "arq":
        add(_arg(call, 0, "coroutine"), REQUEST, "arq cron job")
    return out


def spawned(call: cst.Call, imports: ImportTable, name: str | None = None) -> list[str]:
    """Callables a call starts in the background, as written: ``Thread(target=poll)``,
    ``executor.submit(fn)``, ``scheduler.add_job(fn)``, ``asyncio.create_task(poll())`` (the
    coroutine's function), ``create_permanent_task(watchdog)``. They run after startup, while
    requests are served, so what they reach is not startup-only. ``name``: the callee's
    qualified (else dotted) name, if the caller has it."""
    if name is None:
        name = _name_of(call.func, imports)
    last = name.rpartition(".")[2]
    if last in _SPAWN_CLASSES:
        values = [a.value for a in call.args if a.keyword and a.keyword.value in ("target",)]
        if last == "Timer":
            values.append(_arg(call, 1, "function") or cst.Name("None"))
    elif _SPAWN_NAME.search(last):
        values = [
            a.value
            for a in call.args
            if not a.star and (a.keyword is None or a.keyword.value in _SPAWN_KEYWORDS)
        ]
    else:
        return []
    out = []
    for value in values:
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call) and _SPAWN_CORO.search(last):
            value = value.func  # ``create_task(poll(queue))``: the coroutine runs ``poll``
        if isinstance(value, (cst.Name, cst.Attribute)):
            written = dotted_name(value)
            if written is not None and written != "None":
                out.append(written)
    return out


_JOB_CALLABLE_KEYS = frozenset({"func", "function", "callable", "job", "task", "target"})
_JOB_SCHEDULE_KEYS = frozenset(
    {"interval", "cron", "cron_string", "schedule", "trigger", "seconds", "minutes", "hours"}
)


def scheduled(mapping: cst.Dict) -> str | None:
    """The callable of a periodic job definition, as written: ``{"func": refresh, "interval":
    30}`` (rq-scheduler, APScheduler-style job tables); None for any other dict."""
    keys: dict[str, cst.BaseExpression] = {}
    for element in mapping.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
            key = string_value(element.key)
            if isinstance(key, str):
                keys[key] = element.value
    if not keys.keys() & _JOB_SCHEDULE_KEYS:
        return None
    for key in _JOB_CALLABLE_KEYS & keys.keys():
        value = keys[key]
        if isinstance(value, (cst.Name, cst.Attribute)):
            return dotted_name(value)
    return None


def class_entry(base: str) -> Found | None:
    """What deriving from ``base`` (qualified through imports) means for the class's methods."""
    package = base.split(".", 1)[0]
    last = base.rsplit(".", 1)[-1]
    if base.startswith("@"):
        return Found(REQUEST, "GraphQL type")
    if package not in _FRAMEWORK_PACKAGES:
        return None
    if last == "AppConfig":
        return Found(STARTUP, "Django `AppConfig.ready`")
    if last == "BaseCommand":
        return Found(STARTUP, "Django management command")
    if last in ("Middleware",) and package == "dramatiq":
        return Found(REQUEST, "Dramatiq middleware")
    if last in _REQUEST_BASES:
        return Found(REQUEST, _class_label(package, last))
    return None


def _class_label(package: str, last: str) -> str:
    if package in ("graphene", "graphene_django", "strawberry"):
        return "GraphQL resolver"
    if package == "celery":
        return "Celery task"
    if package in ("socketio", "channels"):
        return "websocket handler"
    return "view"


_STARTUP_METHODS = {
    "Django `AppConfig.ready`": frozenset({"ready"}),
    "Django management command": frozenset({"handle"}),
}
_DRAMATIQ_STARTUP = frozenset(
    {
        "before_worker_boot",
        "after_worker_boot",
        "before_worker_shutdown",
        "after_worker_shutdown",
        "after_process_boot",
        "before_process_stop",
    }
)


def entry_methods(found: Found, methods: tuple[str, ...]) -> list[tuple[str, Found]]:
    """The methods of a framework class that the framework calls, with their kind."""
    out: list[tuple[str, Found]] = []
    only = _STARTUP_METHODS.get(found.label)
    for method in methods:
        if only is not None:
            if method in only:
                out.append((method, found))
        elif found.label == "Dramatiq middleware" and method in _DRAMATIQ_STARTUP:
            out.append((method, Found(STARTUP, "Dramatiq boot hook")))
        elif (method == "__call__" or not method.startswith("__")) and method not in (
            "as_view",
            "ready",
        ):
            out.append((method, found))
    return out


def startup_module(path: str) -> str | None:
    """Files that only ever run as startup or maintenance code (migrations, Alembic)."""
    parts = path.split("/")
    if "migrations" in parts[:-1] or "alembic" in parts[:-1] or "versions" in parts[:-1]:
        return "migration script"
    if parts[-1] == "env.py" and len(parts) > 1 and parts[-2] in ("alembic", "migrations"):
        return "Alembic env.py"
    if "management" in parts and "commands" in parts:
        return "management command"
    return None
