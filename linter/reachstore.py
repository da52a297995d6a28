"""What requests reach, stored with what it was computed from, for runs that change no call edge.

A run that edits a few files of a large project (a comment, a line added) builds the same call
graph as the last full build but for line numbers, and reaches the same functions by the same
paths. The CLI stores, after a full global phase, the two searches' result
(``Reachability.searches``: each request-reached function's predecessor, each entry point's
root, what startup reaches), what ``decide`` and ``classify`` read of the graph (the places of
the reached functions, class bodies, test paths, ``__main__`` blocks) and, per file, what it was
computed from: the manifest's content key, the shape digest of the facts (``PackedFacts.shape``:
everything but line numbers) and the module name, and the configured entry points and startup
roots.

``holds`` says whether the stored result is this run's: the same files and configuration, every
file with the same content key, or else with facts of the same shape (so the same functions,
calls, classes and entries: the call graph differs only in lines, and name resolution reads no
line). ``restore`` then gives the ``Reachability`` a full build would, with the lines of the
changed files' functions and entries put into the places and roots
(``CallGraph.root_lines`` says where each root's line came from); a root whose line would come
from elsewhere than where it came from before is a miss. The result is the same as a full
build's (tests/test_reachstore.py compares the CLI's output with a run without cache).

Storage: data-only JSON (``Cache.write_blob``, sealed); anything malformed is a miss (None).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass

from isolint.callgraph import CallGraph, Root, RootLine
from isolint.facts import PackedFacts
from isolint.reachability import Reachability

_FORMAT = "isolint-reachability"
_VERSION = 1

Configured = tuple[tuple[str, ...], tuple[str, ...]]  # entry points, startup roots
# (manifest key or "", shape digest or "" without facts, module, its ``external_mutations``:
# what ISO201 reads of every module, kept here so that it needs no file's facts decoded)
Mutations = tuple[tuple[str, str], ...]
FileKey = tuple[str, str, str, Mutations]


@dataclass(frozen=True)
class StoredReach:
    configured: Configured
    files: dict[str, FileKey]
    parent: dict[str, str | None]
    roots: dict[str, tuple[Root, RootLine]]  # the root each entry point's search started from
    startup: tuple[str, ...]
    places: dict[str, tuple[str, int]]  # of the request-reached functions
    class_bodies: frozenset[str]
    test_paths: frozenset[str]
    scripts: dict[str, tuple[tuple[int, int], ...]]


def file_key(key: str, facts: object) -> FileKey:
    """What the stored result keeps of one file (``facts``: its PackedFacts, or None)."""
    if isinstance(facts, PackedFacts):
        return key, facts.shape_digest(), facts.module, facts.external_mutations
    return key, "", "", ()


def dumps(reach: Reachability, files: Mapping[str, FileKey], configured: Configured) -> bytes:
    graph = reach.graph
    parent, root_of, startup = reach.searches()
    lines = {id(root): line for root, line in zip(graph.roots, graph.root_lines)}
    document = [
        _FORMAT,
        _VERSION,
        [list(configured[0]), list(configured[1])],
        [
            [path, k, shape, module, [list(m) for m in mutations]]
            for path, (k, shape, module, mutations) in sorted(files.items())
        ],
        [[node, previous or ""] for node, previous in parent.items()],
        [
            [node, r.node, r.kind, r.label, r.path, r.line, *lines[id(r)]]
            for node, r in root_of.items()
        ],
        list(startup),
        [[node, *graph.places[node]] for node in parent if node in graph.places],
        sorted(graph.class_bodies),
        sorted(graph.test_paths),
        [[path, [list(b) for b in blocks]] for path, blocks in sorted(graph.scripts.items())],
    ]
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> StoredReach | None:
    """The stored result; None for anything ``dumps`` did not write."""
    try:
        head = _list(json.loads(data))
        if len(head) != 11 or head[0] != _FORMAT or head[1] != _VERSION:
            return None
        configured = _list(head[2])
        if len(configured) != 2:
            return None
        files: dict[str, FileKey] = {}
        for row in map(_list, _list(head[3])):
            path, key, shape, module, found = row
            mutations = tuple((_str(c), _str(f)) for c, f in map(_list, _list(found)))
            files[_str(path)] = (_str(key), _str(shape), _str(module), mutations)
        parent: dict[str, str | None] = {}
        for row in map(_list, _list(head[4])):
            node, previous = map(_str, row)
            parent[node] = previous or None
        roots: dict[str, tuple[Root, RootLine]] = {}
        for row in map(_list, _list(head[5])):
            a, b, c, d, e, f, g, h, i = row
            root = Root(_str(b), _str(c), _str(d), _str(e), _int(f))
            roots[_str(a)] = (root, (_str(g), _str(h), _int(i)))
        places: dict[str, tuple[str, int]] = {}
        for row in map(_list, _list(head[7])):
            a, b, f = row
            places[_str(a)] = (_str(b), _int(f))
        scripts: dict[str, tuple[tuple[int, int], ...]] = {}
        for row in map(_list, _list(head[10])):
            a, blocks = row
            scripts[_str(a)] = tuple(
                (_int(first), _int(last)) for first, last in map(_list, _list(blocks))
            )
        return StoredReach(
            (_strs(configured[0]), _strs(configured[1])),
            files,
            parent,
            roots,
            _strs(head[6]),
            places,
            frozenset(_strs(head[8])),
            frozenset(_strs(head[9])),
            scripts,
        )
    except (ValueError, TypeError, RecursionError):
        return None


def holds(
    stored: StoredReach,
    configured: Configured,
    keys: Mapping[str, str],
    facts: Mapping[str, object],
) -> bool:
    """Is the stored result this run's, but for lines? ``keys``: each file's manifest key
    (every file of the run); ``facts``: the facts of each file whose key differs from the
    stored one (or that has none)."""
    if stored.configured != configured or keys.keys() != stored.files.keys():
        return False
    for path, key in keys.items():
        old = stored.files[path]
        if key and key == old[0]:
            continue
        if path not in facts or file_key(old[0], facts[path]) != old:
            return False
    return True


def restore(stored: StoredReach, changed: Mapping[str, PackedFacts | None]) -> Reachability | None:
    """The stored result with the changed files' lines (``holds``); None when a root's line
    would now come from elsewhere."""
    own: dict[str, dict[str, tuple[str, int]]] = {}
    for path, facts in changed.items():
        if facts is not None:
            own[path] = {f"{facts.module}.{f.name}": (path, f.line) for f in facts.flow.functions}
    places = dict(stored.places)
    for node, (path, _) in stored.places.items():
        if path in own:
            found = own[path].get(node)
            if found is None:
                return None
            places[node] = found
    roots: dict[str, Root] = {}
    for node, (root, (how, where, number)) in stored.roots.items():
        facts = changed.get(where) if where in changed else None
        if facts is not None and how == "f":
            functions = facts.flow.functions
            if number >= len(functions):
                return None
            root = dataclasses.replace(root, line=functions[number].line)
        elif facts is not None and how in ("e", "p"):
            entries = facts.flow.entries
            if number >= len(entries) or (entries[number].line == 0) != (how == "p"):
                return None
            if how == "e":
                root = dataclasses.replace(root, line=entries[number].line)
        if how == "p" and root.node in places:
            path, line = places[root.node]
            root = dataclasses.replace(root, path=path, line=line)
        elif how == "q" and root.node in places:
            root = dataclasses.replace(root, line=places[root.node][1])
        roots[node] = root
    scripts = dict(stored.scripts)
    for path, facts in changed.items():
        scripts.pop(path, None)
        if facts is not None and facts.flow.scripts:
            scripts[path] = facts.flow.scripts
    graph = CallGraph({}, places, (), stored.class_bodies, stored.test_paths, scripts)
    return Reachability.restored(graph, stored.parent, roots, dict.fromkeys(stored.startup))


def _list(value: object) -> list[object]:
    if type(value) is not list:
        raise TypeError("not a list")
    return value


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError("not a string")
    return value


def _int(value: object) -> int:
    if type(value) is not int or value < 0:
        raise TypeError("not a line")
    return value


def _strs(value: object) -> tuple[str, ...]:
    return tuple(map(_str, _list(value)))
