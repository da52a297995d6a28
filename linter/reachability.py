"""Which functions a request can reach (and by what shortest path), which only startup reaches.

A breadth-first search over the call graph from every entry point gives each reached function
its shortest request path; one from the startup roots (import-time code, lifespans, boot hooks,
CLI commands...) marks what startup reaches. A function is ``request`` if any entry point reaches
it, ``startup`` if only startup roots do, ``unknown`` otherwise (dynamic dispatch, library
callbacks). Findings carry the functions where their state changes (``Diagnostic.sites``); this
module keeps, drops or annotates each one accordingly.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass

from isolint.callgraph import CallGraph, Root
from isolint.context import MODULE_SCOPE
from isolint.diagnostics import ENTRY_POINT_NOTE, Diagnostic, Related
from isolint.entrypoints import REQUEST, STARTUP

UNKNOWN = "unknown"
# Families whose findings are about state a request may share (the others are not filtered).
FILTERED_FAMILIES = ("ISO1", "ISO2", "ISO6")
NO_ENTRY_POINTS = (
    "no request entry point (route, view, task...) was detected, so findings are only filtered "
    "where startup code alone reaches them; declare entry points with `entry-points` in "
    "[tool.isolint] "
    '(qualified-name globs such as "app.handlers.*", or decorator names such as "@my_route")'
)


@dataclass(frozen=True)
class Reach:
    """A function's class, and for ``request`` the entry point and the path from it."""

    kind: str
    root: Root | None = None
    path: tuple[str, ...] = ()


class Reachability:
    """The result of the two searches over one call graph."""

    def __init__(self, graph: CallGraph) -> None:
        self.graph = graph
        self._parent: dict[str, str | None] = {}
        self._root_of: dict[str, Root] = {}
        # product entry points first: what they reach gets its path from them, and only the
        # rest is searched from the entry points of test code (e2e fixture apps)
        for tests in (False, True):
            pending: deque[str] = deque()
            for root in graph.roots:
                if (root.path in graph.test_paths) != tests:
                    continue
                if root.kind == REQUEST and root.node not in self._parent:
                    self._parent[root.node] = None
                    self._root_of[root.node] = root
                    pending.append(root.node)
            self._search(pending, self._parent)
        self._startup: dict[str, str | None] = {}
        pending = deque()
        for root in graph.roots:
            if root.kind == STARTUP and root.node not in self._startup:
                self._startup[root.node] = None
                pending.append(root.node)
        self._search(pending, self._startup)

    @classmethod
    def restored(
        cls,
        graph: CallGraph,
        parent: dict[str, str | None],
        root_of: dict[str, Root],
        startup: dict[str, str | None],
    ) -> Reachability:
        """The result of the searches as ``searches`` gave it (``isolint.reachstore``), over a
        graph that keeps what ``classify`` and ``decide`` read (no edges)."""
        found = cls.__new__(cls)
        found.graph = graph
        found._parent, found._root_of, found._startup = parent, root_of, startup
        return found

    def searches(
        self,
    ) -> tuple[dict[str, str | None], dict[str, Root], dict[str, str | None]]:
        """(request predecessor of each reached function, root of each entry point's
        search, what startup reaches)."""
        return self._parent, self._root_of, self._startup

    def _search(self, pending: deque[str], parent: dict[str, str | None]) -> None:
        edges = self.graph.edges
        while pending:
            node = pending.popleft()
            for callee in edges.get(node, ()):
                if callee not in parent:
                    parent[callee] = node
                    pending.append(callee)

    @property
    def has_entry_points(self) -> bool:
        return bool(self._root_of)

    def classify(self, site: str) -> Reach:
        """The class of a site (a function's qualified name, or a module's or class's body)."""
        node = _function_of(site)
        if node in self._parent:
            path = [node]
            while (previous := self._parent[path[-1]]) is not None:
                path.append(previous)
            path.reverse()
            return Reach(REQUEST, self._root_of[path[0]], tuple(path))
        if node in self._startup or node.endswith(f".{MODULE_SCOPE}"):
            return Reach(STARTUP)
        if node in self.graph.class_bodies:
            return Reach(STARTUP)
        return Reach(UNKNOWN)

    def decide(self, diagnostic: Diagnostic, report_unreached: bool) -> Diagnostic | None:
        """The diagnostic to report (with its request path), or None when no request reaches it."""
        if not diagnostic.code.startswith(FILTERED_FAMILIES):
            return diagnostic
        if self.graph.in_script(diagnostic.path, diagnostic.span.line):
            return None  # a local of a script's ``__main__`` block, not a served process's state
        if not diagnostic.sites:
            return diagnostic
        reaches = [self.classify(site) for site in diagnostic.sites]
        tests = self.graph.test_paths
        if diagnostic.path in tests:  # test code (an e2e fixture app) its own handlers reach is
            reaches = [  # not a product's state: as if no entry point reached it
                Reach(UNKNOWN) if r.root is not None and r.root.path in tests else r
                for r in reaches
            ]
        requests = [r for r in reaches if r.kind == REQUEST]
        if requests:  # the shortest path, one from product code (not a test app) first
            return self._annotate(
                diagnostic,
                min(requests, key=lambda r: (r.root is None or r.root.path in tests, len(r.path))),
            )
        unknown = any(r.kind == UNKNOWN for r in reaches)
        if unknown and (report_unreached or not self.has_entry_points):
            return diagnostic
        return None

    def unreached(self, diagnostic: Diagnostic) -> bool:
        """A finding ``decide`` drops because no detected root reaches a site of it (not
        startup-only code, a ``__main__`` script or test code)."""
        if self.graph.in_script(diagnostic.path, diagnostic.span.line):
            return False
        if diagnostic.path in self.graph.test_paths:
            return False
        return any(self.classify(site).kind == UNKNOWN for site in diagnostic.sites)

    def _annotate(self, diagnostic: Diagnostic, reach: Reach) -> Diagnostic:
        root = reach.root
        assert root is not None
        places = self.graph.places
        steps = [_short(node) for node in reach.path]
        message = (
            f"{diagnostic.message}; reached from {root.label} ({root.path}:{root.line}) "
            f"via {' -> '.join(steps)}"
        )
        first = steps[0]
        related = [Related(root.path, root.line, 1, f"{ENTRY_POINT_NOTE}{root.label}: `{first}`")]
        for index, node in enumerate(reach.path):
            path, line = places.get(node, (root.path, root.line))
            if index == 0 and (path, line) != (root.path, root.line):
                related.append(Related(path, line, 1, f"`{first}` handles the request"))
            elif index > 0:
                related.append(Related(path, line, 1, f"calls `{steps[index]}`"))
        return dataclasses.replace(
            diagnostic, message=message, related=(*diagnostic.related, *related)
        )


def _function_of(site: str) -> str:
    """Code in a lambda runs as part of the function around it."""
    while site.endswith(".<lambda>"):
        site = site[: -len(".<lambda>")]
    return site


def _short(node: str) -> str:
    """``pkg.mod.Class.method`` -> ``Class.method`` when the class is known, else ``method``."""
    parts = node.split(".")
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return f"{parts[-2]}.{parts[-1]}"
    return parts[-1]
