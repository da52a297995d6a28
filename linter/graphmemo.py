"""What the call graph resolved per file, kept while everything it was resolved from is unchanged.

Building the project call graph (``isolint.callgraph.build_graph``) resolves every module's
calls, base classes and registered handlers through the project index: seconds on a large
project, with the same answers on every run where little changed. A ``GraphMemo`` keeps, per
file, what that resolution gave (``ModuleParts``) and what it consulted:

- ``digest``: the file's own facts (``PackedFacts.digest``);
- ``deps`` of each part: every question resolution asked (the answers it got are in the
  memo's ``answers``, shared: after a build every part holds with the build's answers):
  ``m`` a module's facts (the digests of the files of that module name; ``""``: no such
  module), ``p`` whether a name is a namespace package and ``r`` which module a short name
  stands for (``ProjectIndex.recording``), ``x`` the modules a ``"pkg.mod:name"`` string
  finds, ``s`` the subclasses that define a method (the class hierarchy of the whole project:
  only the calls part asks it, after every file's classes are resolved).

A part is reused when the file's digest and the answer to each of its questions are unchanged, and resolved
again (recording afresh) otherwise: a warm run resolves nothing, and an edit resolves the
edited file and the files whose resolution asked about it. The graph is the same as a full
rebuild's (tests/test_graph_memo.py builds both and compares them).

Interface::

    memo = GraphMemo()                      # empty, or GraphMemo.loads(data): b"", foreign or
                                            # malformed data give an empty memo (a miss)
    build_graph(packed, index, settings, memo)   # reads and updates the memo
    memo.changed                            # whether the last build changed it (then save it)
    memo.stats                              # (parts reused, parts resolved) in the last build
    memo.dumps()                            # data-only JSON bytes (the CLI seals and stores
                                            # them in the cache namespace: Cache.write_blob)
    memo.compact_due()                      # False: store only what changed since then:
    memo.dumps_delta()                      # the parts changed since the last dumps/loads
    GraphMemo.loads(data, delta)            # the stored memo with its delta applied

Storage: a run that changed a few files does not rewrite the whole memo (megabytes on a
large project). ``dumps`` writes every part under an id (a hash of the document);
``dumps_delta`` writes the parts that changed since (and the paths gone), naming that id. A
delta accumulates every change since its base, so only the last one is kept; once it holds
more than a sixteenth of the parts, ``compact_due`` says to write the whole memo again (a new
id: the old delta no longer applies). A delta of another base, or malformed, is ignored (its
parts are resolved again): reused parts are only ever checked against their recorded
answers, so a memo is never wrong, only more or less complete.

The CLI loads it from and saves it to the cache; a long-lived process (the editor server)
keeps one ``GraphMemo`` per project between edits and passes it to every global phase
(``isolint.check.global_phase(..., memo=...)``). A memo is only valid for one engine version
and configuration: the cache namespace holds it; a server drops it with its project.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

# What the resolver asks besides the index (``isolint.project`` has MODULE, PACKAGE, SHORT_NAME).
SUFFIX = "x"  # the project modules a dotted module name in a string finds
SUBCLASSES = "s"  # ``Class:method``: the project subclasses of Class that define method

_FORMAT = "isolint-call-graph-memo"
_DELTA_FORMAT = "isolint-call-graph-memo-delta"
_VERSION = 3

Query = tuple[str, str]  # (kind, key)
Deps = tuple[Query, ...]  # sorted; their answers then: ``GraphMemo.answers``
Root = tuple[str, str, str, int]  # (function, kind, label, line): a root before its place


@dataclass(frozen=True)
class ClassParts:
    """A file's classes and registered handlers, resolved (no calls): aligned with its
    ``FlowFacts.classes`` and ``FlowFacts.entries``."""

    deps: Deps
    bases: tuple[tuple[str, ...], ...]  # per class, per base: the project class it is, or ""
    # per class: (project ancestor, the class's own methods the ancestor also defines)
    ancestors: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]
    handlers: tuple[tuple[Root, ...], ...]  # per entry: the roots it stands for


@dataclass(frozen=True)
class CallParts:
    """A file's calls, resolved: aligned with its ``FlowFacts.functions``."""

    deps: Deps
    targets: tuple[tuple[str, ...], ...]  # per function: the functions it calls
    unresolved: tuple[tuple[int, str], ...]  # (function, method name) of unresolved calls
    patches: tuple[tuple[str, tuple[str, ...]], ...]  # (method, functions installed as it)


@dataclass(frozen=True)
class ModuleParts:
    """One file's resolved parts, and the digest of the facts they were resolved from."""

    digest: str
    classes: ClassParts
    calls: CallParts


class GraphMemo:
    """path -> ModuleParts of the last build, and the answers its questions had then (see the
    module docstring for the interface)."""

    def __init__(
        self,
        parts: dict[str, ModuleParts] | None = None,
        answers: dict[Query, str] | None = None,
        base: str = "",
        delta: Iterable[str] = (),
    ) -> None:
        self._parts: dict[str, ModuleParts] = dict(parts or {})
        self.answers: dict[Query, str] = dict(answers or {})
        self.changed = False
        self.stats = (0, 0)
        self.base = base  # the id of the stored whole memo these parts extend ("": none)
        # what each file added to the last build's graph (``isolint.callgraph``): reused while
        # its facts and resolved calls are the same; in memory only (a long-lived caller's)
        self.shares: dict[str, object] = {}
        self._delta: set[str] = set(delta)  # paths whose parts differ from the base's

    def get(self, path: str) -> ModuleParts | None:
        return self._parts.get(path)

    def replace(
        self, parts: dict[str, ModuleParts], answers: dict[Query, str], reused: int, resolved: int
    ) -> None:
        """The parts of a build (every file of the project, nothing else) and the answers it
        got: every question of its parts, maybe more (``dumps`` keeps only the parts')."""
        old = self._parts
        changed = {path for path, new in parts.items() if _differ(old.get(path), new)}
        changed.update(old.keys() - parts.keys())
        self.changed = bool(changed)
        self._delta |= changed
        self._parts = parts
        self.answers = answers
        self.stats = (reused, resolved)

    def __len__(self) -> int:
        return len(self._parts)

    # -- storage ----------------------------------------------------------------------------
    def compact_due(self) -> bool:
        """Should the whole memo be stored (``dumps``) rather than a delta of its base?"""
        return not self.base or len(self._delta) > max(32, len(self._parts) // 16)

    def dumps(self) -> bytes:
        """Data-only JSON: every string once in a table, referred to by its index; the memo's
        id (a hash of the rest) first. The memo's base is then this document."""
        asked = {
            q for p in self._parts.values() for deps in (p.classes.deps, p.calls.deps) for q in deps
        }
        body = self._encode(
            sorted(self._parts), {q: a for q, a in self.answers.items() if q in asked}
        )
        self.base = hashlib.sha256(body).hexdigest()[:32]
        self._delta = set()
        head = json.dumps([_FORMAT, _VERSION, self.base], separators=(",", ":")).encode()
        return head[:-1] + b"," + body[1:]

    def dumps_delta(self) -> bytes:
        """The parts that differ from the base's (and the answers to their questions), the
        paths the base has and the memo has not, and the base's id."""
        paths = sorted(p for p in self._delta if p in self._parts)
        asked = {
            q
            for p in paths
            for deps in (self._parts[p].classes.deps, self._parts[p].calls.deps)
            for q in deps
        }
        body = self._encode(paths, {q: a for q, a in self.answers.items() if q in asked})
        gone = sorted(p for p in self._delta if p not in self._parts)
        head = json.dumps([_DELTA_FORMAT, _VERSION, self.base, gone], separators=(",", ":"))
        return head[:-1].encode() + b"," + body[1:]

    def _encode(self, paths: list[str], answers: dict[Query, str]) -> bytes:
        """``[names, queries, files]`` of these paths' parts."""
        names: dict[str, int] = {}
        intern = names.setdefault  # a new string gets the next index

        def n(text: str) -> int:
            return intern(text, len(names))

        def ns(texts: Iterable[str]) -> list[int]:
            return [intern(t, len(names)) for t in texts]

        queries = {q: i for i, q in enumerate(sorted(answers))}
        table = [[n(k), n(key), n(answers[(k, key)])] for k, key in queries]
        numbered = queries.__getitem__
        files = []
        for path in paths:
            parts = self._parts[path]
            classes, calls = parts.classes, parts.calls
            files.append(
                [
                    n(path),
                    n(parts.digest),
                    [
                        list(map(numbered, classes.deps)),
                        [ns(bases) for bases in classes.bases],
                        [[[n(a), ns(ms)] for a, ms in c] for c in classes.ancestors],
                        [
                            [[n(node), n(kind), n(label), line] for node, kind, label, line in h]
                            for h in classes.handlers
                        ],
                    ],
                    [
                        list(map(numbered, calls.deps)),
                        [ns(targets) if targets else [] for targets in calls.targets],
                        # (numbers, method names): two flat lists decode faster than pairs
                        [
                            [number for number, _ in calls.unresolved],
                            [n(m) for _, m in calls.unresolved],
                        ],
                        [[n(m), ns(fs)] for m, fs in calls.patches],
                    ],
                ]
            )
        return json.dumps([list(names), table, files], separators=(",", ":")).encode("utf-8")

    @classmethod
    def loads(cls, data: bytes, delta: bytes | None = None) -> GraphMemo:
        """The memo ``dumps`` wrote, with the delta ``dumps_delta`` wrote of it applied; an
        empty one for anything else (never an error). A delta of another base, or malformed,
        is left out."""
        try:
            base = _Reader(json.loads(data), _FORMAT, 3)
            parts, answers, base_id = base.parts(), base.answers, _str(base.head[2])
        except (ValueError, TypeError, IndexError, RecursionError):
            return cls()
        changed: list[str] = []
        if delta:
            try:
                applied = _Reader(json.loads(delta), _DELTA_FORMAT, 4)
                gone = _strs(applied.head[3])
                if applied.head[2] == base_id:
                    new = applied.parts()
                    for path in gone:
                        parts.pop(path, None)
                    parts.update(new)
                    answers.update(applied.answers)
                    changed = [*gone, *new]
            except (ValueError, TypeError, IndexError, RecursionError):
                pass
        return cls(parts, answers, base_id, changed)


class _Reader:
    """Decodes a ``dumps`` document; anything else raises (TypeError, ValueError, IndexError).

    Indexes are looked up as they are (``names[i]``: a list index must be an integer), so a
    malformed document cannot make anything but strings of its own table and integers."""

    def __init__(self, document: object, form: str, start: int) -> None:
        head = _list(document)
        if len(head) != start + 3 or head[0] != form or head[1] != _VERSION:
            raise ValueError("not a call-graph memo of this version")
        self.head = head
        self.names = _strs(head[start])
        self.queries: list[Query] = []
        self.answers: dict[Query, str] = {}
        for row in _list(head[start + 1]):
            kind, key, answer = (self.name(i) for i in _list(row))
            self.queries.append((kind, key))
            self.answers[(kind, key)] = answer
        self.files = _list(head[start + 2])

    def name(self, index: object) -> str:
        return self.names[_int(index)]

    def names_of(self, value: object) -> tuple[str, ...]:
        return tuple(map(self.names.__getitem__, _list(value)))  # type: ignore[arg-type]

    def deps(self, value: object) -> Deps:
        return tuple(map(self.queries.__getitem__, _list(value)))  # type: ignore[arg-type]

    def parts(self) -> dict[str, ModuleParts]:
        parts: dict[str, ModuleParts] = {}
        for record in self.files:
            path, digest, classes, calls = _list(record)
            parts[self.name(path)] = ModuleParts(
                self.name(digest), self.classes(classes), self.calls(calls)
            )
        return parts

    def classes(self, value: object) -> ClassParts:
        deps, bases, ancestors, handlers = _list(value)
        return ClassParts(
            self.deps(deps),
            tuple(self.names_of(b) for b in _list(bases)),
            tuple(
                tuple(self.ancestor(a) for a in _list(per_class)) for per_class in _list(ancestors)
            ),
            tuple(tuple(self.root(r) for r in _list(roots)) for roots in _list(handlers)),
        )

    def ancestor(self, value: object) -> tuple[str, tuple[str, ...]]:
        qualname, methods = _list(value)
        return self.name(qualname), self.names_of(methods)

    def root(self, value: object) -> Root:
        node, kind, label, line = _list(value)
        return self.name(node), self.name(kind), self.name(label), _int(line)

    def calls(self, value: object) -> CallParts:
        deps, targets, unresolved, patches = _list(value)
        return CallParts(
            self.deps(deps),
            tuple(self.names_of(t) for t in _list(targets)),
            self.unresolved(unresolved),
            tuple(self.patch(p) for p in _list(patches)),
        )

    def unresolved(self, value: object) -> tuple[tuple[int, str], ...]:
        numbers, methods = _list(value)
        listed, names = _list(numbers), self.names_of(methods)
        if len(listed) != len(names) or not set(map(type, listed)) <= {int}:
            raise TypeError("not function numbers")
        found = cast("list[int]", listed)  # checked above
        if found and (found[0] < 0 or found != sorted(found)):
            raise ValueError("unresolved calls out of order")  # a build finds them in order
        return tuple(zip(found, names))

    def patch(self, value: object) -> tuple[str, tuple[str, ...]]:
        method, functions = _list(value)
        return self.name(method), self.names_of(functions)


def _differ(old: ModuleParts | None, new: ModuleParts) -> bool:
    return old is not new and old != new


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError("not a string")
    return value


def _list(value: object) -> list[object]:
    if type(value) is not list:
        raise TypeError("not a list")
    return value


def _int(value: object) -> int:
    if type(value) is not int or value < 0:
        raise TypeError("not an index")
    return value


def _strs(value: object) -> tuple[str, ...]:
    items = _list(value)
    if not all(type(item) is str for item in items):
        raise TypeError("not strings")
    return tuple(items)  # type: ignore[arg-type]  # checked above
