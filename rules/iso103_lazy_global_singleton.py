"""ISO103: a function that lazily creates a module global on first call and returns it after."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from linter.api import Example, Rule, RuleContext
from rules._singleton_patterns import lazy_initializations, makes_immutable


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

    ## Known problems
    Values built by well-known factories of immutable values (`re.compile`, `tuple(...)`,
    `pathlib.Path`, `logging.getLogger`...) are not reported, but the rule cannot tell what
    other calls return: a getter that caches a genuinely stateless, thread-safe client (a
    connection pool, an HTTP client) or a computed string is reported too; suppress it with a
    comment that says why it is safe to share.

    ## Options
    None.
    """

    code: ClassVar[str] = "ISO103"
    name: ClassVar[str] = "lazy-global-singleton"
    summary: ClassVar[str] = "Function lazily creates a module global once and shares it"
    message: ClassVar[str] = (
        "`{function}` lazily creates the module global {names} on first call and then hands the "
        "same object to every caller: state one user's request leaves on it is read by the next "
        "user's; create it per request (a factory or a framework dependency) and pass it in, or "
        "keep per-request state in a `ContextVar`"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
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
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        _default_timeout = None

        def describe():
            global _default_timeout
            return f"timeout={_default_timeout}"
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
        names = {
            init.name
            for init in lazy_initializations(node)
            if not makes_immutable(init.value, imports)
        }
        if names:
            listed = ", ".join(f"`{name}`" for name in sorted(names))
            self.report(node.name, function=node.name.value, names=listed)
