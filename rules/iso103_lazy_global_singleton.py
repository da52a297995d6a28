"""ISO103: a function that lazily creates a module global on first call and returns it after."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    Candidate,
    Example,
    Option,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
    dotted_name,
)
from isolint.rules._bleed import REQUEST_SCOPED_NAMES
from isolint.rules._constants import (
    bound_values,
    container_annotation,
    immutable_annotation,
    imported_class,
    module_changes,
    request_data_flows,
)
from isolint.rules._singleton_patterns import (
    LazyInit,
    lazy_initializations,
    lazy_initialized_globals,
    makes_immutable,
)
from isolint.rules._sites import qualified
from isolint.rules._state import is_stateless_class, unchanged_class


@dataclass(frozen=True)
class LazyGlobals:
    """ISO103's candidate: ``function`` of ``module`` lazily creates globals; ``created`` holds
    (global, the callee creating it as written, or "") pairs, sorted."""

    module: str
    function: str
    created: tuple[tuple[str, str], ...]
    # (global, its declared class as written) for globals every initialisation of which caches
    # a request-independent value of a class named through an import that the module never
    # changes: a constant unless that class is the project's own
    library_constants: tuple[tuple[str, str], ...] = ()


class LazyGlobalSingleton(Rule):
    """
    ## What it does
    Finds functions that declare `global _x` and bind a new object to `_x` only when it is not
    set yet: `if _x is None: _x = Manager()`, `if not _x`, the double-checked form under a lock,
    `_x = _x or Manager()`, `return _x or (_x := Manager())`, or
    `try: return _x` / `except NameError: _x = Manager()`.

    ## Why is this bad?
    The first caller creates the object and every later caller, in every request of every user,
    gets that same object for the life of the process. Whatever one user's request stores on it
    (a session, credentials, a tenant, cached results) is what the next user's request sees.
    Make the getter a factory that returns a new object to each caller (who passes it on), or
    keep the request's own object in a `ContextVar`.

    ## Known problems
    Values built by well-known factories of immutable values (`re.compile`, `tuple(...)`,
    `pathlib.Path`, `logging.getLogger`...) are not reported, nor instances of project classes
    whose state nothing changes after construction (no method outside `__init__` assigns or
    mutates `self.*`, also through `setattr` or `heapq`/`bisect`). Nor are lazily
    cached constants: no parameter of the getter and no request-scoped name
    (`request-scoped-names`) flows into the value, directly or through the getter's local
    variables, and the global is declared with an immutable type (`str | None`, `int`,
    `tuple`...), with a container type (`dict[str, ShardSpec] | None`: a table parsed once from
    configuration) that the module never changes in place, or with a class imported from
    outside the project that the module never changes
    (no attribute or item writes, no mutating calls on it; a forward reference such as
    `Optional["MarkItDown"]` counts as the class it names). Changes made in other modules (on
    what the getter returns) are not seen. Request data read inside a called
    function (a tenant in a `ContextVar`) is not seen. The rule cannot tell what other calls
    return: a getter that caches a genuinely stateless, thread-safe third-party client (a
    connection pool, an HTTP client) in a global without such a declaration is reported too;
    suppress it with a comment that says why it is safe to share.
    """

    code: ClassVar[str] = "ISO103"
    name: ClassVar[str] = "lazy-global-singleton"
    options: ClassVar[tuple[Option[Any], ...]] = (REQUEST_SCOPED_NAMES,)
    summary: ClassVar[str] = "Function lazily creates a module global once and shares it"
    message: ClassVar[str] = (
        "`{function}` lazily creates the module global {names} on first call and then hands the "
        "same object to every caller: state one user's request leaves on it is read by the next "
        "user's; create it per request (a factory or a framework dependency) and pass it in, or "
        "keep per-request state in a `ContextVar`"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        import heapq

        class JobQueue:
            def __init__(self):
                self._heap = []

            def push(self, priority, job):
                heapq.heappush(self._heap, (priority, job))

        _queue = None

        def get_queue():
            global _queue
            if _queue is None:
                _queue = JobQueue()
            return _queue
        """,
        """
        _manager = None

        def get_manager():
            global _manager
            if _manager is None:
                _manager = Manager()
            return _manager
        """,
        """
        import threading

        _client = None
        _lock = threading.Lock()

        def get_client():
            global _client
            if _client is None:
                with _lock:
                    if _client is None:
                        _client = ApiClient(timeout=5)
            return _client
        """,
        """
        _session = None

        def get_session():
            global _session
            return _session or (_session := Session())
        """,
        """
        def get_cache():
            global _cache
            try:
                return _cache
            except NameError:
                _cache = {}
                return _cache
        """,
        """
        from myapp.db import get_session

        _instance_domain: str | None = None

        def get_instance_domain():
            global _instance_domain
            if _instance_domain is not None:
                return _instance_domain
            _instance_domain = load_setting("instance_domain")
            if not _instance_domain:
                with get_session() as db_session:
                    first_user = db_session.query(User).first()
                    _instance_domain = first_user.email.split("@")[-1]
            return _instance_domain
        """,
        """
        import time

        _recommendations: tuple[str, ...] | None = None
        _fetched_at: float = 0.0

        def get_recommendations():
            global _recommendations, _fetched_at
            if _recommendations is not None and time.monotonic() - _fetched_at < 300:
                return _recommendations
            _recommendations = fetch_recommendations()
            _fetched_at = time.monotonic()
            return _recommendations
        """,
        """
        from cryptography.hazmat.primitives.asymmetric import rsa

        _public_key: rsa.RSAPublicKey | None = None

        def get_public_key():
            global _public_key
            if _public_key is None:
                _public_key = load_private_key().public_key()
            return _public_key

        def rotate():
            _public_key.rotated = True
        """,
        """
        from typing import TYPE_CHECKING, Optional

        if TYPE_CHECKING:
            from markitdown import MarkItDown

        _converter: Optional["MarkItDown"] = None

        def get_converter():
            global _converter
            if _converter is None:
                from markitdown import MarkItDown

                _converter = MarkItDown(enable_plugins=False)
            return _converter

        def disable_plugins():
            _converter.enable_plugins = False
        """,
        """
        import threading

        _SHARD_SPECS: dict[str, str] | None = None
        _LOCK = threading.Lock()

        def get_shard_specs():
            global _SHARD_SPECS
            if _SHARD_SPECS is None:
                with _LOCK:
                    if _SHARD_SPECS is None:
                        _SHARD_SPECS = parse_shard_specs()
            return _SHARD_SPECS

        def add_shard(name, url):
            get_shard_specs()
            _SHARD_SPECS[name] = url
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        _default_timeout = None

        def describe():
            global _default_timeout
            return f"timeout={_default_timeout}"
        """,
        """
        import logging

        _configured = False

        def configure_logging():
            global _configured
            if not _configured:
                logging.basicConfig(level=logging.INFO)
                _configured = True
        """,
        """
        _manager = None

        def get_manager():
            manager = _manager
            if manager is None:
                manager = Manager()
            return manager
        """,
        """
        class FakeHasher:
            def __init__(self, rounds=1):
                self.rounds = rounds

            def hash(self, text):
                return f"{self.rounds}:{text}"

        _hasher = None

        def get_hasher():
            global _hasher
            if _hasher is None:
                _hasher = FakeHasher()
            return _hasher
        """,
        """
        _bot_user_id: str | None = None

        async def get_bot_user_id():
            global _bot_user_id
            if _bot_user_id is None:
                result = await slack_client.auth_test()
                _bot_user_id = result.get("user_id")
            return _bot_user_id
        """,
        """
        from cryptography.hazmat.primitives.asymmetric import rsa

        _public_key: rsa.RSAPublicKey | None = None

        def get_public_key():
            global _public_key
            if _public_key is None:
                _public_key = load_private_key().public_key()
            return _public_key
        """,
        """
        from typing import TYPE_CHECKING, Optional

        if TYPE_CHECKING:
            from markitdown import MarkItDown

        _converter: Optional["MarkItDown"] = None

        def get_converter():
            global _converter
            if _converter is None:
                from markitdown import MarkItDown

                _converter = MarkItDown(enable_plugins=False)
            return _converter
        """,
        """
        import threading

        _SHARD_SPECS: dict[str, str] | None = None
        _LOCK = threading.Lock()

        def get_shard_specs():
            global _SHARD_SPECS
            if _SHARD_SPECS is None:
                with _LOCK:
                    if _SHARD_SPECS is None:
                        _SHARD_SPECS = parse_shard_specs()
            return _SHARD_SPECS
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        import heapq

        class JobQueue:
            def __init__(self):
                self._heap = []

            def push(self, priority, job):
                heapq.heappush(self._heap, (priority, job))

        def make_queue():
            return JobQueue()  # a new queue per request: pass it to the code that needs it
        """,
        """
        from contextvars import ContextVar

        _session: ContextVar["Session | None"] = ContextVar("session", default=None)

        def get_session():
            session = _session.get()
            if session is None:
                session = Session()
                _session.set(session)
            return session
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._with_global: list[cst.FunctionDef] = []  # functions with a `global`, innermost last

    def visit_Global(self, node: cst.Global) -> None:
        scopes = self.context.scopes
        if not scopes or not isinstance(scopes[-1][1], cst.FunctionDef):
            return
        function = scopes[-1][1]
        if not self._with_global or self._with_global[-1] is not function:
            self._with_global.append(function)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self._with_global or self._with_global[-1] is not node:
            return
        self._with_global.pop()
        imports = self.context.imports
        created: set[tuple[str, str]] = set()  # (global, the callee creating it or "")
        inits = lazy_initializations(node)
        # globals set only while unset: the created ones and their "already done" flags (a
        # guard on them means "not set yet", unlike a TTL or a timestamp)
        set_once = lazy_initialized_globals(node)
        library: dict[str, str] = {}
        for init in inits:
            if makes_immutable(init.value, imports):
                continue
            once = init.name in init.guards and init.guards <= set_once
            constant = self._constant_kind(node, init) if once else ""
            if constant == "immutable":
                continue
            if constant:
                library[init.name] = constant
            value = init.value.expression if isinstance(init.value, cst.Await) else init.value
            callee = dotted_name(value.func) if isinstance(value, cst.Call) else None
            created.add((init.name, callee or ""))
        for init in inits:  # a global is a constant only if every initialisation is one
            once = init.name in init.guards and init.guards <= set_once
            if init.name in library and (not once or self._constant_kind(node, init) == ""):
                del library[init.name]
        if created:
            module = self.context.info.module_name
            payload = LazyGlobals(
                module, node.name.value, tuple(sorted(created)), tuple(sorted(library.items()))
            )
            sites = (qualified(self.context.scope_name(), node.name.value),)
            self.add_candidate(node.name, payload, sites=sites)

    def _constant_kind(self, function: cst.FunctionDef, init: LazyInit) -> str:
        """Whether ``init`` (guarded only on its own global being unset: set once, not refreshed)
        caches a constant: "immutable" (the global is declared with an immutable type), the
        declared class as written (a class named through an import that the module never
        changes; the project phase checks it is not a project class), or "" (not known to be a
        constant: request data flows into a value the function binds to it, or it may change)."""
        name = init.name
        annotation = self._module_annotations().get(name)
        if annotation is None:
            return ""
        request_names = self.context.option(REQUEST_SCOPED_NAMES)
        for value in bound_values(function, name):
            if request_data_flows(function, value, request_names):
                return ""
        if immutable_annotation(annotation):
            return "immutable"
        if container_annotation(annotation) and not module_changes(self.context.module, name):
            return "immutable"  # a table built once from configuration, never changed here
        declared = imported_class(annotation, self.context.imports)
        if declared and not module_changes(self.context.module, name):
            return declared
        return ""

    def _module_annotations(self) -> dict[str, cst.BaseExpression]:
        """The annotations of the module's top-level ``name: T = ...`` statements."""
        out: dict[str, cst.BaseExpression] = {}
        for statement in self.context.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    out[small.target.value] = small.annotation.annotation
        return out

    payload = LazyGlobals
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            lazy = candidate.payload_as(LazyGlobals)
            names = list(  # a global counts if any of its initialisations makes shared state
                dict.fromkeys(
                    name
                    for name, callee in lazy.created
                    if not (callee and is_stateless_class(index, lazy.module, callee))
                    and not _library_constant(index, lazy, name)
                )
            )
            if names:
                listed = ", ".join(f"`{name}`" for name in names)
                message = cls.message.format(function=lazy.function, names=listed)
                yield ProjectFinding(candidate, message)


def _library_constant(index: ProjectIndex, lazy: LazyGlobals, name: str) -> bool:
    """True if ``name`` caches a request-independent value, which the module never changes, of
    a class from outside the project (isolint cannot see such a class's state: it stays
    silent) or of a project class that, like every project subclass of it, nothing changes
    after construction."""
    declared = dict(lazy.library_constants).get(name)
    if not declared:
        return False
    resolved = index.resolve_dotted(lazy.module, declared)
    return resolved is None or unchanged_class(index, lazy.module, declared)
