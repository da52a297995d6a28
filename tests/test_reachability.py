"""Request-path analysis: entry points per framework, the call graph, reachability classes."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest

from isolint.callgraph import CallGraph, build_graph
from isolint.config import Settings
from isolint.diagnostics import Diagnostic, Severity, Span
from isolint.entrypoints import REQUEST, STARTUP, class_entry, decorator_entry, registrations
from isolint.facts import PackedFacts
from isolint.imports import ImportTable
from isolint.project import ProjectIndex
from isolint.reachability import Reachability
from isolint.runner import LintOptions, lint_many
from tests.conftest import Completed


def _imports(source: str) -> ImportTable:
    table = ImportTable("app.views", False)
    for statement in cst.parse_module(textwrap.dedent(source)).body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    table.add(small)
    return table


def _decorated(source: str) -> tuple[cst.Decorator, ImportTable]:
    module = cst.parse_module(textwrap.dedent(source))
    function = module.body[-1]
    assert isinstance(function, cst.FunctionDef)
    return function.decorators[0], _imports(source)


@pytest.mark.parametrize(
    ("source", "kind", "label"),
    [
        ("@app.post('/items')\ndef f(): ...", REQUEST, "POST /items"),
        ("@router.get('')\ndef f(): ...", REQUEST, "GET /"),
        ("@bp.route('/x', methods=['PUT'])\ndef f(): ...", REQUEST, "PUT /x"),
        ("@app.websocket('/ws')\ndef f(): ...", REQUEST, "WEBSOCKET /ws"),
        ("@app.before_request\ndef f(): ...", REQUEST, "`before_request` hook"),
        ("@app.on_event('startup')\ndef f(): ...", STARTUP, "`on_event('startup')` hook"),
        ("from celery import shared_task\n@shared_task\ndef f(): ...", REQUEST, "Celery task"),
        ("@celery_app.task(bind=True)\ndef f(): ...", REQUEST, "Celery task"),
        ("import dramatiq\n@dramatiq.actor\ndef f(): ...", REQUEST, "Dramatiq actor"),
        ("from rq.decorators import job\n@job('q')\ndef f(): ...", REQUEST, "RQ job"),
        (
            "from rest_framework.decorators import api_view\n@api_view(['GET'])\ndef f(): ...",
            REQUEST,
            "DRF `api_view`",
        ),
        (
            (
                "from celery.signals import worker_process_init\n"
                "@worker_process_init.connect\ndef f(**kw): ..."
            ),
            STARTUP,
            "`worker_process_init` signal receiver",
        ),
        (
            "from celery.signals import task_prerun\n@task_prerun.connect\ndef f(**kw): ...",
            REQUEST,
            "`task_prerun` signal receiver",
        ),
        ("import atexit\n@atexit.register\ndef f(): ...", STARTUP, "`atexit` hook"),
        ("import click\n@click.command()\ndef f(): ...", STARTUP, "CLI command"),
        ("@app.cli.command('seed')\ndef f(): ...", STARTUP, "CLI command"),
        ("@cli.command()\ndef f(): ...", STARTUP, "CLI command"),
        ("@sio.on('message')\ndef f(): ...", REQUEST, "event `message` handler"),
        ("@sio.event\ndef f(): ...", REQUEST, "`sio.event` handler"),
        ("@bolt.command('/echo')\ndef f(): ...", REQUEST, "Slack command `/echo`"),
        ("import strawberry\n@strawberry.field\ndef f(): ...", REQUEST, "GraphQL resolver"),
        (
            (
                "from sqlalchemy import event\n@event.listens_for(Mapper, 'mapper_configured')\n"
                "def f(*a): ..."
            ),
            STARTUP,
            "`mapper_configured` event listener",
        ),
    ],
)
def test_decorator_entry_points(source: str, kind: str, label: str) -> None:
    decorator, imports = _decorated(source)
    found = decorator_entry(decorator, imports)
    assert found is not None
    assert (found.kind, found.label) == (kind, label)


@pytest.mark.parametrize(
    "source",
    [
        "@functools.lru_cache\ndef f(): ...",
        "@property\ndef f(self): ...",
        "@pytest.fixture\ndef f(): ...",
        "@cache.get\ndef f(): ...",  # no path: not a route
        "@task\ndef f(): ...",  # a bare name from nowhere: not known to be a task
    ],
)
def test_other_decorators_are_not_entry_points(source: str) -> None:
    decorator, imports = _decorated(source)
    assert decorator_entry(decorator, imports) is None


@pytest.mark.parametrize(
    ("source", "targets", "kind"),
    [
        ("from django.urls import path\npath('o/', views.create)", ["views.create"], REQUEST),
        (
            "from django.urls import re_path\nre_path(r'^o/$', OrderView.as_view())",
            ["OrderView"],
            REQUEST,
        ),
        ("app.add_url_rule('/s', view_func=StatsView.as_view('s'))", ["StatsView"], REQUEST),
        ("app.add_api_route('/x', handler, methods=['POST'])", ["handler"], REQUEST),
        ("from starlette.routing import Route\nRoute('/x', endpoint=home)", ["home"], REQUEST),
        ("app.router.add_get('/x', handle)", ["handle"], REQUEST),
        ("q.enqueue(send_email, user_id)", ["send_email"], REQUEST),
        ("from fastapi import FastAPI\nFastAPI(lifespan=lifespan)", ["lifespan"], STARTUP),
        ("app.add_event_handler('startup', connect)", ["connect"], STARTUP),
        ("import atexit\natexit.register(close)", ["close"], STARTUP),
        (
            "from django.db.models.signals import post_save\npost_save.connect(on_save)",
            ["on_save"],
            REQUEST,
        ),
    ],
)
def test_registrations(source: str, targets: list[str], kind: str) -> None:
    module = cst.parse_module(textwrap.dedent(source))
    statement = module.body[-1]
    assert isinstance(statement, cst.SimpleStatementLine)
    expr = statement.body[0]
    assert isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call)
    found = registrations(expr.value, _imports(source))
    assert [r.target for r in found] == targets
    assert {r.kind for r in found} == {kind}


@pytest.mark.parametrize(
    ("base", "kind"),
    [
        ("rest_framework.views.APIView", REQUEST),
        ("rest_framework.viewsets.ModelViewSet", REQUEST),
        ("django.views.generic.View", REQUEST),
        ("flask.views.MethodView", REQUEST),
        ("starlette.endpoints.HTTPEndpoint", REQUEST),
        ("graphene.ObjectType", REQUEST),
        ("socketio.AsyncNamespace", REQUEST),
        ("django.apps.AppConfig", STARTUP),
        ("django.core.management.base.BaseCommand", STARTUP),
        ("@strawberry.type", REQUEST),
    ],
)
def test_framework_base_classes(base: str, kind: str) -> None:
    found = class_entry(base)
    assert found is not None and found.kind == kind


def test_unrelated_base_classes() -> None:
    assert class_entry("pydantic.BaseModel") is None
    assert class_entry("app.views.View") is None  # a project class: resolved transitively


# -- the graph and the classes, on real files -------------------------------------------------
def _graph(root: Path, files: dict[str, str], settings: Settings | None = None) -> CallGraph:
    for relpath, source in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    settings = settings or Settings()
    items = [(relpath, str(root / relpath)) for relpath in sorted(files)]
    results = lint_many(items, LintOptions.create(settings, ()))
    facts = [r.facts for r in results if isinstance(r.facts, PackedFacts)]
    return build_graph(facts, ProjectIndex(facts, settings), settings)


_APP = {
    "app/__init__.py": "",
    "app/main.py": """
        from fastapi import Depends, FastAPI
        from app import store
        from app.clients import Client

        def get_repo():
            return store.Repo()

        async def lifespan(app):
            store.warm()
            yield

        app = FastAPI(lifespan=lifespan)

        @app.post("/items")
        async def create(repo=Depends(get_repo)):
            repo.save(1)
            client = Client()
            client.send()
            store.helper_for(1)()
    """,
    "app/store.py": """
        _registry = {}

        class Repo:
            def save(self, item):
                self._write(item)

            def _write(self, item):
                pass

        def warm():
            pass

        def helper_for(key):
            def helper():
                pass
            return helper

        def never_called():
            pass
    """,
    "app/clients.py": """
        class Client:
            def send(self):
                pass
    """,
}


def test_request_paths_and_classes(tmp_path: Path) -> None:
    reach = Reachability(_graph(tmp_path, _APP))
    save = reach.classify("app.store.Repo._write")
    assert save.kind == REQUEST
    assert save.path == ("app.main.create", "app.store.Repo.save", "app.store.Repo._write")
    assert save.root is not None and save.root.label == "POST /items"
    assert reach.classify("app.main.get_repo").kind == REQUEST  # Depends(get_repo)
    assert reach.classify("app.clients.Client.send").kind == REQUEST  # a local instance
    assert reach.classify("app.store.helper_for.helper").kind == REQUEST  # nested def
    assert reach.classify("app.store.warm").kind == STARTUP  # only the lifespan
    assert reach.classify("app.main.<module>").kind == STARTUP
    assert reach.classify("app.store.never_called").kind == "unknown"


def _diagnostic(sites: tuple[str, ...], code: str = "ISO201") -> Diagnostic:
    return Diagnostic(
        path="app/store.py",
        span=Span(1, 1, 1, 2),
        code=code,
        name="x",
        severity=Severity.ERROR,
        message="Shared",
        fingerprint="f",
        sites=sites,
    )


def test_decide_keeps_request_findings_with_their_path(tmp_path: Path) -> None:
    reach = Reachability(_graph(tmp_path, _APP))
    kept = reach.decide(_diagnostic(("app.store.Repo._write",)), report_unreached=False)
    assert kept is not None
    assert kept.message.endswith(
        "; reached from POST /items (app/main.py:16) via create -> Repo.save -> Repo._write"
    )
    assert [r.note for r in kept.related] == [
        "entry point POST /items: `create`",
        "calls `Repo.save`",
        "calls `Repo._write`",
    ]
    assert reach.decide(_diagnostic(("app.store.warm",)), report_unreached=True) is None
    unreached = _diagnostic(("app.store.never_called",))
    assert reach.decide(unreached, report_unreached=False) is None
    assert reach.decide(unreached, report_unreached=True) == unreached
    unclassified = _diagnostic(())
    assert reach.decide(unclassified, report_unreached=False) == unclassified
    other_family = _diagnostic(("app.store.warm",), code="ISO401")
    assert reach.decide(other_family, report_unreached=False) == other_family


def test_without_entry_points_only_startup_is_dropped(tmp_path: Path) -> None:
    files = {
        "lib/__init__.py": "",
        "lib/core.py": "def setup():\n    pass\n\ndef api():\n    pass\n\nsetup()\n",
    }
    reach = Reachability(_graph(tmp_path, files))
    assert not reach.has_entry_points
    assert reach.decide(_diagnostic(("lib.core.setup",)), report_unreached=False) is None
    kept = _diagnostic(("lib.core.api",))
    assert reach.decide(kept, report_unreached=False) == kept


def test_configured_entry_points(tmp_path: Path) -> None:
    files = {
        "svc/__init__.py": "",
        "svc/handlers.py": """
            def on_message(event):
                record(event)

            def record(event):
                pass

            @consumer("orders")
            def on_order(event):
                pass
        """,
    }
    settings = Settings(entry_points=("svc.handlers.on_*", "@consumer"))
    reach = Reachability(_graph(tmp_path, files, settings))
    assert reach.classify("svc.handlers.record").kind == REQUEST
    assert reach.classify("svc.handlers.on_order").kind == REQUEST


def test_django_urls_and_class_views(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/urls.py": """
            from django.urls import path
            from shop import views
            urlpatterns = [path("a/", views.index), path("b/", views.Items.as_view())]
        """,
        "shop/views.py": """
            from django.views import View

            class Base(View):
                def helper(self):
                    pass

            class Items(Base):
                def get(self, request):
                    self.helper()

            def index(request):
                pass
        """,
        "shop/apps.py": """
            from django.apps import AppConfig

            class ShopConfig(AppConfig):
                def ready(self):
                    pass
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    index = reach.classify("shop.views.index")
    assert index.kind == REQUEST and index.root is not None
    assert index.root.label == "Django URL 'a/'"
    assert reach.classify("shop.views.Base.helper").kind == REQUEST
    assert reach.classify("shop.apps.ShopConfig.ready").kind == STARTUP


# -- a few CLI runs ---------------------------------------------------------------------------
def test_cli_notice_without_entry_points(
    make_project: Callable[..., Path], isolint: Callable[..., Completed]
) -> None:
    root = make_project(
        {"lib/__init__.py": "", "lib/core.py": "_seen = []\n\ndef add(x):\n    _seen.append(x)\n"}
    )
    out = isolint("check", "--no-cache", "--select", "ISO201", ".", cwd=root)
    assert out.returncode == 1
    assert out.stderr.count("no request entry point") == 1
    assert "entry-points" in out.stderr


def test_cli_report_unreached_and_json_related(
    make_project: Callable[..., Path], isolint: Callable[..., Completed]
) -> None:
    files = {
        "app/__init__.py": "",
        "app/api.py": (
            "from fastapi import APIRouter\nfrom app import state\nrouter = APIRouter()\n\n"
            "@router.get('/x')\ndef x():\n    state.add(1)\n"
        ),
        "app/state.py": (
            "_seen = []\n_other = []\n\ndef add(v):\n    _seen.append(v)\n\n"
            "def unused(v):\n    _other.append(v)\n"
        ),
    }
    root = make_project(files)
    out = isolint("check", "--no-cache", "--select", "ISO201", "--format", "json", ".", cwd=root)
    found = json.loads(out.stdout)["diagnostics"]
    assert [(d["line"], d["related"][0]["note"]) for d in found] == [(1, "entry point GET /x: `x`")]
    (root / "pyproject.toml").write_text("[tool.isolint]\nreport-unreached = true\n")
    out = isolint("check", "--no-cache", "--select", "ISO201", "--format", "json", ".", cwd=root)
    assert [d["line"] for d in json.loads(out.stdout)["diagnostics"]] == [1, 2]
    (root / "pyproject.toml").write_text("[tool.isolint]\nreport-unreached = 'yes'\n")
    out = isolint("check", "--no-cache", ".", cwd=root)
    assert out.returncode == 2 and "report-unreached" in out.stderr


# -- resolution fixes found on the audit projects (docs/precision.md) -------------------------
def test_overrides_run_where_the_base_method_is_called(tmp_path: Path) -> None:
    files = {
        "pay/__init__.py": "",
        "pay/base.py": """
            class Wallet:
                async def pay(self, invoice):
                    raise NotImplementedError

                async def status(self):
                    pass
        """,
        "pay/remote.py": """
            from pay.base import Wallet

            try:
                import sdk
            except ImportError:
                class RemoteWallet:  # stand-in when the SDK is missing: same name, no base
                    def __init__(self):
                        pass
            else:
                class RemoteWallet(Wallet):
                    async def pay(self, invoice):
                        return await self._wait(invoice)

                    async def _wait(self, invoice):
                        pass

            class IdleWallet(Wallet):
                async def status(self):
                    pass
        """,
        "pay/api.py": """
            from fastapi import APIRouter
            from pay.base import Wallet

            router = APIRouter()
            source: Wallet = Wallet()

            @router.post("/pay")
            async def pay(invoice: str):
                await source.pay(invoice)
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    wait = reach.classify("pay.remote.RemoteWallet._wait")
    assert wait.kind == REQUEST
    assert wait.path[-3:] == (
        "pay.base.Wallet.pay",
        "pay.remote.RemoteWallet.pay",
        "pay.remote.RemoteWallet._wait",
    )
    # an override of a method no request calls stays unreached
    assert reach.classify("pay.remote.IdleWallet.status").kind == "unknown"


def test_background_tasks_started_at_startup_are_entry_points(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/tasks.py": """
            import asyncio
            import threading

            def create_permanent_task(func):
                return asyncio.create_task(func())

            _source = None

            async def watchdog():
                switch()

            def switch():
                global _source
                _source = object()

            def poll():
                pass

            def configure():
                pass

            def startup():
                create_permanent_task(watchdog)
                threading.Thread(target=poll, daemon=True).start()
                configure()
        """,
        "app/main.py": """
            from fastapi import FastAPI
            from app.tasks import startup

            app = FastAPI(on_startup=[startup])
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    switched = reach.classify("app.tasks.switch")
    assert switched.kind == REQUEST
    assert switched.root is not None and switched.root.label == "background task"
    assert reach.classify("app.tasks.poll").kind == REQUEST
    assert reach.classify("app.tasks.configure").kind == STARTUP  # called, not spawned


def test_a_package_name_shadows_its_submodule_of_that_name(tmp_path: Path) -> None:
    # ``from kit.session import session`` in kit/__init__.py: ``kit.session`` is the instance
    files = {
        "kit/__init__.py": "from kit.session import session\n",
        "kit/session.py": """
            _store = {}

            class Session:
                def get(self, key):
                    return _store.setdefault(key, {})

            session = Session()
        """,
        "app/__init__.py": "",
        "app/handlers.py": """
            import kit
            from fastapi import APIRouter

            router = APIRouter()

            @router.get("/me")
            def me():
                return kit.session.get("me")
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    assert reach.classify("kit.session.Session.get").kind == REQUEST


def test_test_code_reached_only_from_test_code_is_unreached(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/store.py": "def add():\n    pass\n",
        "app/api.py": (
            "from fastapi import APIRouter\nfrom app import store\nrouter = APIRouter()\n\n"
            "@router.get('/x')\ndef x():\n    store.add()\n"
        ),
        "cypress/e2e/chat/main.py": (
            "from fastapi import APIRouter\nrouter = APIRouter()\n_seen = []\n\n"
            "@router.get('/y')\ndef y():\n    _seen.append(1)\n"
        ),
    }
    reach = Reachability(_graph(tmp_path, files))
    e2e = dataclasses.replace(
        _diagnostic(("cypress.e2e.chat.main.y",)), path="cypress/e2e/chat/main.py"
    )
    assert reach.classify("cypress.e2e.chat.main.y").kind == REQUEST  # still an entry point
    assert reach.decide(e2e, report_unreached=False) is None
    assert reach.decide(e2e, report_unreached=True) == e2e  # as unreached code
    product = _diagnostic(("app.store.add",))
    assert reach.decide(product, report_unreached=False) is not None


def test_findings_in_a_main_block_are_script_state(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/connector.py": """
            class Connector:
                def load(self):
                    pass

            if __name__ == "__main__":
                connector = Connector()
                # a comment at the top level does not end the block
                connector.load()

            shared = Connector()
        """,
    }
    graph = _graph(tmp_path, files)
    reach = Reachability(graph)
    assert graph.scripts == {"app/connector.py": ((6, 10),)}
    script = dataclasses.replace(_diagnostic(()), path="app/connector.py", span=Span(7, 5, 7, 6))
    assert reach.decide(script, report_unreached=True) is None
    module = dataclasses.replace(script, span=Span(11, 1, 11, 2))
    assert reach.decide(module, report_unreached=True) == module


def test_a_function_patched_onto_a_library_class_runs_where_that_method_is_called(
    tmp_path: Path,
) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/patch.py": """
            from django.contrib.sites.models import SiteManager

            _cache = {}

            def new_get_current(self, request=None):
                return _cache.setdefault(request.get_host(), object())

            def patch():
                SiteManager.get_current = new_get_current

            patch()
        """,
        "shop/views.py": """
            from django.contrib.sites.models import Site
            from rest_framework.decorators import api_view

            @api_view(["GET"])
            def home(request):
                return Site.objects.get_current(request)
        """,
        "shop/other.py": """
            class Handler:
                def __init__(self, fn):
                    self.get_current = fn  # one instance's attribute: not a patch
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    patched = reach.classify("shop.patch.new_get_current")
    assert patched.kind == REQUEST
    assert patched.path == ("shop.views.home", "shop.patch.new_get_current")
    assert reach.classify("shop.patch.patch").kind == STARTUP


def test_shared_instance_is_reported_where_its_state_changes(
    make_project: Callable[..., Path], isolint: Callable[..., Completed]
) -> None:
    # the proxy's state changes only in initialize() (a startup hook); read per request
    files = {
        "app/__init__.py": "",
        "app/telemetry.py": """
            class TracerProxy:
                def __init__(self):
                    self._tracer = None

                def initialize(self, tracer):
                    self._tracer = tracer

                def span(self, name):
                    return self._tracer.start(name)

            class Counter:
                def __init__(self):
                    self.hits = {}

                def hit(self, user):
                    self.hits[user] = self.hits.get(user, 0) + 1

            tracer = TracerProxy()
            counter = Counter()
        """,
        "app/main.py": """
            from fastapi import FastAPI
            from app.telemetry import counter, tracer

            async def lifespan(app):
                tracer.initialize(object())
                yield

            app = FastAPI(lifespan=lifespan)

            @app.get("/items")
            def items(user: str):
                tracer.span("items")
                counter.hit(user)
        """,
    }
    root = make_project({k: textwrap.dedent(v) for k, v in files.items()})
    out = isolint("check", "--no-cache", "--select", "ISO106", "--format", "json", ".", cwd=root)
    found = json.loads(out.stdout)["diagnostics"]
    assert [(d["path"], d["line"]) for d in found] == [("app/telemetry.py", 19)]
    assert "via items -> Counter.hit" in found[0]["message"]


def test_an_instance_made_in_a_main_block_is_not_shared_state(
    make_project: Callable[..., Path], isolint: Callable[..., Completed]
) -> None:
    bot = """
        import threading

        class Bot:
            def __init__(self):
                self.tenant_id = None

            def handle(self, tenant_id):
                self.tenant_id = tenant_id

        def run(bot):
            bot.handle("t1")

        {binding}
    """
    script = 'if __name__ == "__main__":\n            bot = Bot()\n            run(bot)'
    files = {
        "app/__init__.py": "",
        "app/script.py": textwrap.dedent(bot.format(binding=script)),
        "app/served.py": textwrap.dedent(bot.format(binding="bot = Bot()")),
        "app/api.py": textwrap.dedent("""
            from fastapi import APIRouter
            from app import script, served

            router = APIRouter()

            @router.post("/t/{tenant_id}")
            def use(tenant_id: str):
                served.bot.handle(tenant_id)
                script.run(script.Bot())
        """),
    }
    root = make_project(files)
    out = isolint("check", "--no-cache", "--select", "ISO1,ISO6", "--format", "json", ".", cwd=root)
    found = {(d["path"], d["code"]) for d in json.loads(out.stdout)["diagnostics"]}
    assert found == {("app/served.py", "ISO106"), ("app/served.py", "ISO601")}


def test_a_typed_attribute_narrowed_by_isinstance_reaches_the_subclass_methods(
    tmp_path: Path,
) -> None:
    files = {
        "conn/__init__.py": "",
        "conn/base.py": """
            class BaseConnector:
                pass

            class PollConnector(BaseConnector):
                def poll(self):
                    raise NotImplementedError
        """,
        "conn/wiki.py": """
            from conn.base import BaseConnector, PollConnector

            _names = {}

            class WikiConnector(PollConnector):
                def poll(self):
                    return _lookup("id")

            class FileConnector(BaseConnector):
                def load(self):
                    pass

            def _lookup(key):
                return _names.setdefault(key, key)
        """,
        "conn/runner.py": """
            from celery import shared_task
            from conn.base import BaseConnector, PollConnector

            class Runner:
                def __init__(self, connector: BaseConnector):
                    self.connector = connector

                def run(self):
                    if isinstance(self.connector, PollConnector):
                        poll = self.connector.poll  # a local bound to the method
                        return poll()
                    return self.connector.load()

            @shared_task
            def index(connector):
                Runner(connector).run()
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    assert reach.classify("conn.wiki._lookup").kind == REQUEST
    assert reach.classify("conn.wiki.FileConnector.load").kind == REQUEST  # only a subclass has it


def test_periodic_job_tables_are_entry_points(tmp_path: Path) -> None:
    files = {
        "jobs/__init__.py": "",
        "jobs/schedule.py": """
            from datetime import timedelta

            _seen = {}

            def refresh_queries():
                _seen["last"] = 1

            def helper():
                pass

            def periodic_job_definitions():
                return [
                    {"func": refresh_queries, "timeout": 600, "interval": 30},
                    {"func": helper, "result_ttl": 600},  # no schedule key: not a job table
                ]
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    job = reach.classify("jobs.schedule.refresh_queries")
    assert job.kind == REQUEST and job.root is not None and job.root.label == "scheduled job"
    assert reach.classify("jobs.schedule.helper").kind == "unknown"


def test_an_unreached_symptom_of_a_reported_root_cause_is_a_related_location(
    make_project: Callable[..., Path], isolint: Callable[..., Completed]
) -> None:
    files = {
        "app/__init__.py": "",
        "app/store.py": (
            "_by_user = {}\n\n"
            "def add(user_id):\n    _by_user[user_id] = 1\n\n"
            "def clear(user_id):  # public API: no caller in the project\n"
            "    _by_user[user_id] = 0\n"
        ),
        "app/api.py": (
            "from fastapi import APIRouter\nfrom app import store\nrouter = APIRouter()\n\n"
            "@router.post('/u/{user_id}')\ndef add(user_id: str):\n    store.add(user_id)\n"
        ),
    }
    root = make_project(files)
    out = isolint("check", "--no-cache", "--select", "ISO2,ISO6", "--format", "json", ".", cwd=root)
    found = json.loads(out.stdout)["diagnostics"]
    assert [(d["line"], d["code"]) for d in found] == [(1, "ISO201")]
    notes = {(r["line"], r["note"].split(":")[0]) for r in found[0]["related"]}
    assert {(4, "ISO602"), (7, "ISO602")} <= notes


def test_functions_named_by_strings_are_called(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/versioned.py": """
            import importlib

            def fetch_versioned_implementation(module, attribute):
                return getattr(importlib.import_module("ee." + module), attribute)
        """,
        "app/access.py": "def get_permissions(space):\n    return []\n",
        "ee/__init__.py": "",
        "ee/app/__init__.py": "",
        "ee/app/access.py": (
            "_cache = {}\n\ndef get_permissions(space):\n    return _cache.setdefault(space, [])\n"
        ),
        "app/tasks.py": """
            from celery import shared_task
            from app.versioned import fetch_versioned_implementation

            @shared_task
            def sync(space):
                fetch_versioned_implementation("app.access", "get_permissions")(space)
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    assert reach.classify("ee.app.access.get_permissions").kind == REQUEST
    assert reach.classify("app.access.get_permissions").kind == REQUEST


def test_paths_from_product_entry_points_come_before_test_apps(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/store.py": "def add():\n    pass\n",
        "app/api.py": (
            "from fastapi import APIRouter\nfrom app import store\nrouter = APIRouter()\n\n"
            "def step():\n    store.add()\n\n"
            "@router.get('/x')\ndef x():\n    step()\n"
        ),
        "cypress/e2e/chat/main.py": (
            "from fastapi import APIRouter\nfrom app import store\nrouter = APIRouter()\n\n"
            "@router.get('/y')\ndef y():\n    store.add()\n"
        ),
    }
    reach = Reachability(_graph(tmp_path, files)).classify("app.store.add")
    assert reach.path == ("app.api.x", "app.api.step", "app.store.add")  # longer, but product


def test_functions_listed_in_a_functions_tuples_run_later(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/drive.py": """
            from celery import shared_task

            _folders = {}

            def run_in_parallel(calls):
                return [fn(*args) for fn, args in calls]

            class Drive:
                def convert(self, item):
                    return _folders.setdefault(item, item)

                def batch(self, items):
                    calls = [(self.convert, (item,)) for item in items]
                    return run_in_parallel(calls)

            @shared_task
            def index(items):
                Drive().batch(items)

            def unused():
                pass

            HANDLERS = [unused]  # a module-level registry is not a call
        """,
    }
    reach = Reachability(_graph(tmp_path, files))
    assert reach.classify("app.drive.Drive.convert").kind == REQUEST
    assert reach.classify("app.drive.unused").kind == "unknown"
