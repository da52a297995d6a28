"""The project call graph: per-file call-site and entry-point facts, and the graph built from them.

Per file (``FlowCollector``, in the one walk): for every function the calls it makes, written
so the index can resolve them (``self.save`` -> ``Repo.save``), its line, its decorators, and the
entry points and startup roots the file shows (``isolint.entrypoints``). In the global phase
(``build_graph``): callees resolved through the project index into edges between qualified
function names (``pkg.mod.Class.method``; ``pkg.mod.<module>`` is a module's import-time code),
and the roots. An unresolved call is simply a missing edge.
"""

from __future__ import annotations

import builtins
import fnmatch
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from isolint.config import Settings
from isolint.context import MODULE_SCOPE, RuleContext
from isolint.entrypoints import (
    BACKGROUND,
    REQUEST,
    STARTUP,
    Found,
    class_decorator_entry,
    class_entry,
    decorator_entry,
    entry_methods,
    function_name_entry,
    registrations,
    scheduled,
    spawned,
    startup_module,
    string_value,
)
from isolint.facts import ClassFlow, EntryPoint, FlowFacts, FunctionFlow, PackedFacts
from isolint.graphmemo import (
    SUBCLASSES,
    SUFFIX,
    CallParts,
    ClassParts,
    Deps,
    GraphMemo,
    ModuleParts,
    Query,
)
from isolint.imports import dotted_name
from isolint.project import (
    MODULE,
    PACKAGE,
    SHORT_NAME,
    ClassRef,
    FunctionRef,
    ProjectIndex,
    Target,
    VariableRef,
)

_BUILTINS = frozenset(dir(builtins))
_DEF = re.compile(r"def[ \t]+(\w+)")  # found by its literal (a ``^`` pattern tries every position)
_BEFORE_DEF = re.compile(r"[ \t]*(?:async[ \t]+)?\Z")  # what may start its line before ``def``
_DEPENDS = frozenset({"Depends", "Security"})
_CONSTRUCTORS = ("__init__", "__new__", "__post_init__")
_ARQ_KEYS = {"functions": REQUEST, "on_startup": STARTUP, "on_shutdown": STARTUP}


_MAIN_GUARD = re.compile(
    r"""^if[ \t(]+(?:__name__[ \t]*==[ \t]*(['"])__main__\1|(['"])__main__\2[ \t]*==[ \t]*__name__)"""
    r"""[ \t)]*:""",
    re.MULTILINE,
)
_TOP_LEVEL = re.compile(r"^[^\s#]", re.MULTILINE)


def _script_blocks(text: str) -> tuple[tuple[int, int], ...]:
    """Lines of the module-level ``if __name__ == "__main__":`` blocks (to the next top-level
    statement): code there runs when the file is executed as a script, never when imported."""
    out = []
    for match in _MAIN_GUARD.finditer(text):
        first = text.count("\n", 0, match.start()) + 1
        after = _TOP_LEVEL.search(text, match.end())
        end = after.start() if after is not None else len(text)
        out.append((first, text.count("\n", 0, end) + (after is None)))
    return tuple(out)


_REFERENCES = frozenset({cst.Name, cst.Attribute})  # ``type() in``: isinstance() is slow
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _named_by_strings(call: cst.Call) -> str | None:
    """``module:name`` of a function a call names by strings: a dotted module and a name as its
    first two arguments, or one dotted ``module.name`` alone (a dynamic import)."""
    args = call.args
    first = args[0].value if args else None
    if type(first) is not cst.SimpleString:
        return None
    written = first.value  # a dotted name has a dot (written as one unless escaped), no space
    if " " in written or ("." not in written and "\\" not in written):
        return None  # the common cases, decided without evaluating the string
    strings = []
    for arg in args[:2]:
        value = arg.value
        text = string_value(value) if type(value) is cst.SimpleString else None
        if arg.keyword is not None or not isinstance(text, str):
            break
        strings.append(text)
    if len(strings) == 2 and _DOTTED.fullmatch(strings[0]) and _IDENTIFIER.fullmatch(strings[1]):
        return f"{strings[0]}:{strings[1]}"
    if len(call.args) == 1 and len(strings) == 1 and _DOTTED.fullmatch(strings[0]):
        module, _, name = strings[0].rpartition(".")
        return f"{module}:{name}" if "." in module else None
    return None


def _def_lines(text: str) -> dict[str, list[int]]:
    """name -> lines of ``def name`` in source order (the walk meets defs in the same order)."""
    out: dict[str, list[int]] = {}
    line, last = 1, 0
    for match in _DEF.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1  # of its line
        if not _BEFORE_DEF.match(text, start, match.start()):
            continue
        line += text.count("\n", last, start)
        last = start
        out.setdefault(match.group(1), []).append(line)
    return out


def _annotation_type(annotation: cst.BaseExpression) -> str | None:
    """``Repo``, ``Optional[Repo]``, ``Repo | None``, ``"Repo"`` -> ``Repo``."""
    if isinstance(annotation, cst.SimpleString):
        text = string_value(annotation)
        if isinstance(text, str) and re.fullmatch(r"[\w.]+", text):
            return text
        return None
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        left, right = annotation.left, annotation.right
        if dotted_name(right) == "None":
            return _annotation_type(left)
        if dotted_name(left) == "None":
            return _annotation_type(right)
        return None
    if isinstance(annotation, cst.Subscript):
        head = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
        if head in ("Optional", "Annotated") and annotation.slice:
            first = annotation.slice[0].slice
            if isinstance(first, cst.Index):
                return _annotation_type(first.value)
        return None
    return dotted_name(annotation)


def _dependency(expr: cst.BaseExpression) -> str | None:
    """``fn`` of ``Depends(fn)`` as written."""
    if isinstance(expr, cst.Call) and expr.args:
        callee = (dotted_name(expr.func) or "").rsplit(".", 1)[-1]
        if callee in _DEPENDS:
            return dotted_name(expr.args[0].value)
    return None


class _Frame:
    """A function being walked: its name, its receiver and what its locals are known to hold."""

    __slots__ = (
        "aliases",
        "calls",
        "cls",
        "decorators",
        "line",
        "name",
        "nested",
        "parent",
        "returns",
        "self_name",
        "types",
    )

    def __init__(self, name: str, line: int, parent: _Frame | None) -> None:
        self.name = name
        self.line = line
        self.parent = parent
        self.calls: dict[str, None] = {}
        self.aliases: dict[str, dict[str, None]] = {}  # ``run = self.conn.run``: what it calls
        self.cls: str | None = None  # qualified name in the module of the class it is a method of
        self.self_name: str | None = None
        self.types: dict[str, str] = {}  # local or parameter -> its class as written
        self.nested: dict[str, str] = {}  # nested def name -> its qualified name
        self.decorators: tuple[str, ...] = ()
        self.returns = ""


class FlowCollector:
    """Runs in the engine's single walk beside the rules; builds the file's ``FlowFacts``."""

    code = "flow"

    def __init__(self, context: RuleContext, text: str) -> None:
        self.context = context
        self._lines = _def_lines(text)
        self._scripts = _script_blocks(text) if "__main__" in text else ()
        self._seen: dict[str, int] = {}
        self._module = _Frame(MODULE_SCOPE, 1, None)
        self._frames: dict[int, _Frame] = {}
        self._order: list[_Frame] = []
        self._attributes: dict[str, dict[str, str]] = {}  # class -> attribute -> class as written
        self._classes: list[tuple[cst.ClassDef, list[str], list[str]]] = []
        self.classes: list[ClassFlow] = []
        self._methods: dict[str, set[str]] = {}  # class -> its own methods (``facts``)
        self.entries: list[EntryPoint] = []
        self._last_scope: cst.CSTNode | None = None  # ``_frame``'s last question and answer
        self._last_frame = self._module

    # -- where we are ------------------------------------------------------------------------
    def _frame(self) -> _Frame:
        """The innermost function whose body is being walked (``<module>`` outside functions)."""
        scopes = self.context.scopes
        if not scopes:
            return self._module
        innermost = scopes[-1][1]  # it alone says where the walk is: remember the last answer
        if innermost is self._last_scope:
            return self._last_frame
        found = self._module
        for _, node in reversed(scopes):
            if type(node) is cst.FunctionDef:  # not isinstance(): slow on LibCST's classes
                found = self._frames.get(id(node), self._module)
                break
        self._last_scope, self._last_frame = innermost, found
        return found

    def _line(self, name: str) -> int:
        lines = self._lines.get(name, [])
        seen = self._seen.get(name, 0)
        self._seen[name] = seen + 1
        return lines[seen] if seen < len(lines) else 0

    # -- definitions -------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.context.at_module_level():
            imports = self.context.imports
            bases = [
                imports.qualified_name(a.value) or dotted_name(a.value) or "" for a in node.bases
            ]
            bases += [c for d in node.decorators if (c := class_decorator_entry(d, imports))]
            self._classes.append((node, [b for b in bases if b], []))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if self._classes and self._classes[-1][0] is node:
            _, bases, methods = self._classes.pop()
            self.classes.append(ClassFlow(node.name.value, tuple(bases), tuple(methods)))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        context = self.context
        name = node.name.value
        scopes = context.scopes
        qualname = f"{context.scope_name()}.{name}" if scopes else name
        parent = self._frame() if scopes else None
        frame = _Frame(qualname, self._line(name), parent)
        owner = scopes[-1][1] if scopes else None
        imports = context.imports
        decorators = []
        is_static = False
        for decorator in node.decorators:
            expr = decorator.decorator
            written = imports.qualified_name(expr.func if isinstance(expr, cst.Call) else expr)
            written = written or dotted_name(expr.func if isinstance(expr, cst.Call) else expr)
            if written:
                decorators.append(written)
                is_static = is_static or written.endswith("staticmethod")
            found = decorator_entry(decorator, imports)
            if found is not None:
                self._entry(qualname, found, frame.line)
            if isinstance(expr, cst.Call):
                for arg in expr.args:
                    self._depends_in(arg.value, frame)
        frame.decorators = tuple(decorators)
        if isinstance(owner, cst.ClassDef):
            frame.cls = context.scope_name()
            if self._classes and self._classes[-1][0] is owner:
                self._classes[-1][2].append(name)
            params = (*node.params.posonly_params, *node.params.params)
            if params and not is_static:
                frame.self_name = params[0].name.value
        if node.returns is not None:
            frame.returns = _annotation_type(node.returns.annotation) or ""
        found = function_name_entry(name, not scopes)
        if found is not None:
            self._entry(qualname, found, frame.line)
        every = (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
        for param in every:
            if param.default is not None:
                self._depends_in(param.default, frame)
                provider = _dependency(param.default)
                if provider is not None:  # ``repo=Depends(get_repo)``: what ``get_repo`` returns
                    frame.types[param.name.value] = provider
            if param.annotation is not None:
                annotated = param.annotation.annotation
                if isinstance(annotated, cst.Subscript):  # Annotated[X, Depends(fn)]
                    for element in annotated.slice:
                        if isinstance(element.slice, cst.Index):
                            self._depends_in(element.slice.value, frame)
                kind = _annotation_type(annotated)
                if kind is not None:
                    frame.types[param.name.value] = kind
        if parent is not None and isinstance(owner, cst.FunctionDef):
            parent.nested[name] = qualname  # a local name of the enclosing function
            parent.calls[f"={qualname}"] = None
        self._frames[id(node)] = frame
        self._order.append(frame)

    def _depends_in(self, expr: cst.BaseExpression, frame: _Frame) -> None:
        """``Depends(fn)`` in a parameter or a decorator: the function calls ``fn`` per request."""
        pending = [expr]
        while pending:
            current = pending.pop()
            if isinstance(current, (cst.List, cst.Tuple)):
                pending.extend(el.value for el in current.elements)
            elif isinstance(current, cst.Call):
                callee = (dotted_name(current.func) or "").rsplit(".", 1)[-1]
                if callee in _DEPENDS and current.args:
                    target = self._callee(current.args[0].value, frame)
                    if target is not None:
                        frame.calls[target] = None

    def _entry(self, target: str, found: Found, line: int, local: bool = True) -> None:
        self.entries.append(EntryPoint(target, found.kind, found.label, line, local))

    # -- calls and what names hold -------------------------------------------------------------
    def _callee(self, expr: cst.BaseExpression, frame: _Frame) -> str | None:
        """A callee as the index can resolve it, or None (builtins, expressions)."""
        dotted = dotted_name(expr)
        if dotted is None:
            if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Call):
                inner = self._callee(expr.value.func, frame)  # ``Repo().save``, ``get_repo().save``
                return f"{inner}.{expr.attr.value}" if inner and inner[0] not in "=@" else None
            return None
        head, _, rest = dotted.partition(".")
        if not rest:
            scope: _Frame | None = frame
            while scope is not None:
                if head in scope.nested:
                    return f"={scope.nested[head]}"
                scope = scope.parent
            return (
                None if head in _BUILTINS and head not in self.context.imports.bindings else dotted
            )
        receiver = self._receiver(frame, head)
        if receiver is not None:
            return f"{receiver}.{rest}"
        kind = frame.types.get(head)
        if kind is not None:
            return f"{kind}.{rest}"
        return dotted

    def _receiver(self, frame: _Frame, head: str) -> str | None:
        """``self``/``cls`` of a method (the class), through nested functions (closures)."""
        scope: _Frame | None = frame
        while scope is not None:
            if scope.cls is not None and scope.self_name == head:
                return f"@{scope.cls}"
            scope = scope.parent
        return None

    def visit_Call(self, node: cst.Call) -> None:
        frame = self._frame()
        callee = self._callee(node.func, frame)
        if callee is not None:
            frame.calls[callee] = None
        if isinstance(node.func, cst.Name):  # a local bound to a method: ``load = self.c.load``
            frame.calls.update(frame.aliases.get(node.func.value, {}))
        named = _named_by_strings(node)
        if named is not None:  # ``fetch_impl("pkg.mod", "fn")``, ``import_string("pkg.mod.fn")``
            frame.calls[f"${named}"] = None
        for arg in node.args:  # callbacks: ``submit(fn)``, ``Thread(target=self.run)``
            if type(arg.value) in _REFERENCES:
                reference = self._callee(arg.value, frame)
                if reference is not None:
                    frame.calls[f"&{reference}"] = None
        imports = self.context.imports
        name = imports.qualified_name(node.func) or dotted_name(node.func) or ""
        for written in spawned(node, imports, name):
            handler = self._handler(written, frame)
            found = Found(REQUEST, BACKGROUND)
            if handler.startswith("="):
                self._entry(handler[1:], found, 0)
            else:
                self._entry(handler, found, 0, local=False)
        found_here = registrations(node, imports, name)
        if found_here and any(
            isinstance(a, (cst.Param, cst.Decorator)) for a in self.context.ancestors
        ):
            return  # ``Depends(fn)`` of an endpoint: an edge from it (``visit_FunctionDef``)
        for registered in found_here:
            handler = self._handler(registered.target, frame)
            found = Found(registered.kind, registered.label)
            if handler.startswith("="):  # line 0: the handler's own line (global phase)
                self._entry(handler[1:], found, 0)
            else:
                self._entry(handler, found, 0, local=False)

    def visit_Tuple(self, node: cst.Tuple) -> None:
        self._references(node.elements)

    def visit_List(self, node: cst.List) -> None:
        self._references(node.elements)

    def _references(self, elements: Sequence[cst.BaseElement]) -> None:
        """Functions listed in a function's tuples and lists run later: ``[(self.convert,
        (item,)) for item in batch]`` handed to a thread pool. Not at module level, where a
        list of functions is a registry, not a call."""
        frame = self._frame()
        if frame is self._module:
            return
        for element in elements:
            if type(element.value) in _REFERENCES:
                reference = self._callee(element.value, frame)
                if reference is not None and not reference.startswith("&"):
                    frame.calls[f"&{reference}"] = None

    def visit_Dict(self, node: cst.Dict) -> None:
        written = scheduled(node)
        if written is not None:
            handler = self._handler(written, self._frame())
            found = Found(REQUEST, "scheduled job")
            if handler.startswith("="):
                self._entry(handler[1:], found, 0)
            else:
                self._entry(handler, found, 0, local=False)

    def _handler(self, written: str, frame: _Frame) -> str:
        head, _, rest = written.partition(".")
        receiver = self._receiver(frame, head) if rest else None
        if receiver is not None:
            return f"{receiver[1:]}.{rest}"
        if not rest:
            scope: _Frame | None = frame
            while scope is not None:
                if head in scope.nested:
                    return f"={scope.nested[head]}"
                scope = scope.parent
        return written

    def visit_Return(self, node: cst.Return) -> None:
        frame = self._frame()
        value = node.value
        if frame is self._module or frame.returns or value is None:
            return
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call):
            frame.returns = dotted_name(value.func) or ""
        elif isinstance(value, cst.Name):
            frame.returns = frame.types.get(value.value, "")

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value, node.annotation.annotation)

    def _bind(
        self,
        target: cst.BaseExpression,
        value: cst.BaseExpression | None,
        annotation: cst.BaseExpression | None,
    ) -> None:
        context = self.context
        scopes = context.scopes
        self._patch(target, value)
        kind = _annotation_type(annotation) if annotation is not None else None
        if kind is None and type(value) is cst.Call:
            kind = dotted_name(value.func)
        if not scopes:
            if type(target) is cst.Name and target.value in (
                "MIDDLEWARE",
                "MIDDLEWARE_CLASSES",
            ):
                self._middleware(value)
            return
        owner = scopes[-1][1]
        if type(owner) is cst.ClassDef:
            if type(target) is cst.Name:
                if kind is not None:
                    self._attributes.setdefault(context.scope_name(), {})[target.value] = kind
                if target.value in _ARQ_KEYS and value is not None and len(scopes) == 1:
                    self._arq(target.value, value)
            return
        frame = self._frame()
        if kind is None and type(value) is cst.Name:  # ``self.repo = repo`` (``repo: Repo``)
            kind = frame.types.get(value.value)
        if type(target) is cst.Name and type(value) is cst.Attribute:
            method = self._callee(value, frame)
            if method is not None:
                frame.aliases.setdefault(target.value, {})[method] = None
        if type(target) is cst.Name:
            if kind is not None:
                frame.types[target.value] = kind
            else:
                frame.types.pop(target.value, None)
        elif type(target) is cst.Attribute and type(target.value) is cst.Name and kind is not None:
            receiver = self._receiver(frame, target.value.value)
            if receiver is not None:
                self._attributes.setdefault(receiver[1:], {})[target.attr.value] = kind

    def _patch(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        """``SiteManager.get_current = new_get_current``: the function now runs wherever that
        method is called (``~get_current=new_get_current``; the global phase adds the edges)."""
        if type(target) is not cst.Attribute or value is None or type(value) not in _REFERENCES:
            return  # (``type()``: isinstance() is slow on LibCST's classes)
        holder = dotted_name(target.value)
        frame = self._frame()
        if holder is None or self._receiver(frame, holder.partition(".")[0]) is not None:
            return  # ``self.handler = fn``: an attribute of one instance, not a patched class
        written = self._callee(value, frame)
        if written is not None and written[0] not in "@&":
            frame.calls[f"~{target.attr.value}={written}"] = None

    def _middleware(self, value: cst.BaseExpression | None) -> None:
        if not isinstance(value, (cst.List, cst.Tuple)):
            return
        for element in value.elements:
            if isinstance(element.value, cst.SimpleString):
                text = string_value(element.value)
                if isinstance(text, str) and "." in text:
                    self._entry(text, Found(REQUEST, "Django middleware"), 0, local=False)

    def _arq(self, key: str, value: cst.BaseExpression) -> None:
        elements = value.elements if isinstance(value, (cst.List, cst.Tuple)) else ()
        for expr in [el.value for el in elements] or [value]:
            written = dotted_name(expr)
            if written is not None:
                label = "arq job" if key == "functions" else f"arq `{key}` hook"
                self._entry(written, Found(_ARQ_KEYS[key], label), 0, local=False)

    # -- result --------------------------------------------------------------------------------
    def _rewrite(self, call: str) -> str | None:
        """``@Class.rest`` (through ``self``) -> ``Class.rest``, or the attribute's class."""
        prefix = "&" if call.startswith("&") else ""
        body = call[len(prefix) :]
        if not body.startswith("@"):
            return call
        cls, _, rest = body[1:].partition(".")
        if "." in cls:  # a class nested in a function: only its own methods, exactly
            return f"{prefix}={body[1:]}"
        attribute, _, tail = rest.partition(".")
        if not tail:
            if rest in self._methods.get(cls, ()):  # its own method, exactly (also when the
                return f"{prefix}={cls}.{rest}"  # module defines the class twice, try/except)
            return f"{prefix}{cls}.{rest}"
        kind = self._attributes.get(cls, {}).get(attribute)
        return f"{prefix}{kind}.{tail}" if kind is not None else None

    def facts(self) -> FlowFacts:
        self._methods = {}
        for cls in self.classes:
            self._methods.setdefault(cls.name, set()).update(cls.methods)
        functions = []
        for frame in (self._module, *self._order):
            calls = tuple(c for c in map(self._rewrite, frame.calls) if c is not None)
            functions.append(
                FunctionFlow(frame.name, frame.line, calls, frame.decorators, frame.returns)
            )
        return FlowFacts(tuple(functions), tuple(self.entries), tuple(self.classes), self._scripts)


# -- the global graph ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Root:
    """Where the graph search starts: an entry point (``request``) or a startup root."""

    node: str
    kind: str
    label: str
    path: str
    line: int


RootLine = tuple[str, str, int]  # ``CallGraph.root_lines``


@dataclass(frozen=True)
class CallGraph:
    """Edges between qualified function names, with where each function is and the roots."""

    edges: dict[str, tuple[str, ...]]
    places: dict[str, tuple[str, int]]  # node -> (path, line)
    roots: tuple[Root, ...]
    class_bodies: frozenset[str]  # ``pkg.mod.Class``: code there runs at import
    # paths of test modules (pytest's conventions, ``integration-tests`` globs: e2e fixture apps)
    test_paths: frozenset[str] = frozenset()
    scripts: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # by path
    # per root, where its line comes from (``isolint.reachstore`` moves it with its file):
    # ("f", path, i) the file's i-th function, ("e", path, j) its j-th entry, ("p", path, j)
    # the place of the node (path and line) for that entry without a line, ("q", "", 0) the
    # line of the node's place, ("x", "", 0) fixed
    root_lines: tuple[RootLine, ...] = ()

    def in_script(self, path: str, line: int) -> bool:
        """Is ``line`` of ``path`` in an ``if __name__ == "__main__":`` block?"""
        return any(first <= line <= last for first, last in self.scripts.get(path, ()))

    @property
    def has_entry_points(self) -> bool:
        return any(root.kind == REQUEST for root in self.roots)


class _Resolver:
    """Callees and handlers to qualified function names.

    ``begin`` starts one file's resolution: it returns the set where the questions asked
    besides the index's (``SUFFIX``, ``SUBCLASSES``) are recorded."""

    def __init__(self, index: ProjectIndex, packed: Sequence[PackedFacts]) -> None:
        self.index = index
        self._queries: set[tuple[str, str]] = set()
        # class -> its project subclasses (transitively); class -> its own method names
        self.subclasses: dict[str, list[str]] = {}
        self._by_suffix: dict[str, list[str]] | None = None  # module-name tail -> modules
        self.methods: dict[str, frozenset[str]] = {}
        self._instances = {
            (p.module, s.name): s.value
            for p in packed
            for s in p.shared_instances
            if s.kind == "module"
        }
        self._returns = {
            f"{p.module}.{f.name}": (p.module, f.returns)
            for p in packed
            for f in p.flow.functions
            if f.returns
        }

    def begin(self) -> set[tuple[str, str]]:
        self._queries = set()
        return self._queries

    def answer(self, kind: str, key: str) -> str:
        """The current answer to a ``SUFFIX`` or ``SUBCLASSES`` question, as text."""
        if kind == SUFFIX:
            return "\n".join(self._suffix_modules(key))
        if kind == SUBCLASSES:
            qualname, _, attr = key.rpartition(":")
            return "\n".join(self._subclass_methods(qualname, attr))
        raise ValueError(f"not a resolver query: {kind}")

    def _subclass_methods(self, qualname: str, attr: str) -> tuple[str, ...]:
        """``Sub.attr`` of the project subclasses of ``qualname`` that define ``attr``."""
        return tuple(
            f"{sub}.{attr}"
            for sub in self.subclasses.get(qualname, ())
            if attr in self.methods.get(sub, ())
        )

    def _suffix_modules(self, module: str) -> list[str]:
        """Project modules named ``module`` or ending in it (``pkg.mod`` finds ``ee.pkg.mod``)."""
        if self._by_suffix is None:
            self._by_suffix = {}
            for full in self.index.modules:
                parts = full.split(".")
                for cut in range(len(parts) - 1):
                    self._by_suffix.setdefault(".".join(parts[cut:]), []).append(full)
        return self._by_suffix.get(module, [module])

    def nodes(self, module: str, written: str) -> tuple[str, ...]:
        """The project functions a callee ``written`` in ``module`` (``FunctionFlow.calls``)
        may run."""
        first = written[:1]
        if first == "~":
            return ()
        if first == "$":
            return self._named(written[1:])
        if first == "=":
            return (f"{module}.{written[1:]}",)
        functions_only = first == "&"
        if functions_only:
            written = written[1:]
            if written[:1] == "=":
                return (f"{module}.{written[1:]}",)
        index = self.index
        head, dot, attr = written.rpartition(".")
        if not dot:
            target = index.resolve_name(module, written)
            if isinstance(target, FunctionRef):
                return (target.qualname,)
            if isinstance(target, ClassRef) and not functions_only:
                return self.constructors(target)
            return ()
        # ``written`` is ``head.attr``: what ``head`` is decides the rest
        holder = index.resolve_dotted(module, head)
        target = index.member(holder, attr) if holder is not None else None
        if target is None:
            target = self._held(holder, attr)
        if isinstance(target, FunctionRef):
            return (target.qualname,)
        if isinstance(target, ClassRef) and not functions_only:
            return self.constructors(target)
        if target is None and isinstance(holder, ClassRef):
            # ``connector.poll_source()`` with ``connector: BaseConnector`` narrowed by
            # ``isinstance``: the method only subclasses define
            self._queries.add((SUBCLASSES, f"{holder.qualname}:{attr}"))
            return self._subclass_methods(holder.qualname, attr)
        return ()

    def _held(self, holder: Target | None, attr: str) -> Target | None:
        """``holder.attr`` through what ``holder`` holds: ``manager.connect`` where ``manager =
        Manager()`` is a module-level instance, ``get_repo.save`` (``get_repo().save()``, or a
        local bound to it) through what it returns."""
        kind: tuple[str, str] | None = None
        if isinstance(holder, VariableRef):
            value = self._instances.get((holder.module, holder.name))
            kind = (holder.module, value) if value is not None else None
        elif isinstance(holder, FunctionRef):
            kind = self._returns.get(holder.qualname)
        if kind is not None:
            cls = self.index.resolve_dotted(*kind)
            if isinstance(cls, ClassRef):
                return self.index.member(cls, attr)
        return None

    def _named(self, named: str) -> tuple[str, ...]:
        """Project functions a ``module:name`` string pair names: the module by its dotted name
        or as the tail of project modules' names (``pkg.mod`` also finds ``ee.pkg.mod``)."""
        module, _, name = named.partition(":")
        self._queries.add((SUFFIX, module))
        out = []
        for full in self._suffix_modules(module):
            target = self.index.resolve_absolute(f"{full}.{name}")
            if isinstance(target, FunctionRef):
                out.append(target.qualname)
        return tuple(out)

    def constructors(self, cls: ClassRef) -> tuple[str, ...]:
        found = [self.index.member(cls, name) for name in _CONSTRUCTORS]
        return tuple(f.qualname for f in found if isinstance(f, FunctionRef))

    def handler(self, module: str, written: str) -> Target | None:
        return self.index.resolve_dotted(module, written) or self.index.resolve_absolute(written)


def _framework_kinds(
    packed: Sequence[PackedFacts], class_parts: Sequence[ClassParts]
) -> dict[str, tuple[str, ClassFlow, Found]]:
    """Class qualified name -> (module, class, what the framework does with it), transitively."""
    classes: dict[str, tuple[str, ClassFlow, tuple[str, ...]]] = {}
    for item, parts in zip(packed, class_parts):
        for cls, resolved in zip(item.flow.classes, parts.bases):
            classes[f"{item.module}.{cls.name}"] = (item.module, cls, resolved)
    memo: dict[str, Found | None] = {}

    def kind_of(qualname: str, depth: int) -> Found | None:
        if qualname in memo:
            return memo[qualname]
        memo[qualname] = None  # cycles
        module, cls, resolved = classes[qualname]
        result: Found | None = None
        for base, target in zip(cls.bases, resolved):
            result = class_entry(base)
            if result is None and depth < 30:
                local = f"{module}.{base}"
                parent = local if local in classes else base if base in classes else None
                if parent is None and target in classes:
                    parent = target
                if parent is not None:
                    result = kind_of(parent, depth + 1)
            if result is not None:
                break
        memo[qualname] = result
        return result

    out: dict[str, tuple[str, ClassFlow, Found]] = {}
    for qualname, (module, cls, _) in classes.items():
        if cls.bases:
            found = kind_of(qualname, 0)
            if found is not None:
                out[qualname] = (module, cls, found)
    return out


class _Parts:
    """Each file's resolved parts: from the memo while what they were resolved from is
    unchanged (``isolint.graphmemo``), else resolved now, recording what was consulted."""

    def __init__(
        self,
        packed: Sequence[PackedFacts],
        index: ProjectIndex,
        resolver: _Resolver,
        memo: GraphMemo,
    ) -> None:
        self.index = index
        self.resolver = resolver
        self.memo = memo
        self.digests = [item.facts_digest() for item in packed]
        # what another file's resolution read of a module: its shape (no line numbers)
        by_module: dict[str, list[str]] = {}
        for item in packed:
            by_module.setdefault(item.module, []).append(item.shape_digest())
        self._modules = {
            module: found[0]
            if len(found) == 1
            else hashlib.sha256("\n".join(found).encode()).hexdigest()
            for module, found in by_module.items()
        }
        self.answers: dict[Query, str] = {}
        self._same: dict[Query, bool] = {}
        self.reused = self.resolved = 0

    def answer(self, kind: str, key: str) -> str:
        query = (kind, key)
        found = self.answers.get(query)
        if found is None:
            if kind == MODULE:
                found = self._modules.get(key, "")
            elif kind in (PACKAGE, SHORT_NAME):
                found = self.index.answer(kind, key)
            else:
                found = self.resolver.answer(kind, key)
            self.answers[query] = found
        return found

    def _holds(self, deps: Deps) -> bool:
        """Does every question get the answer it got when the part was resolved?"""
        same = self._same
        for query in deps:
            found = same.get(query)
            if found is None:
                found = same[query] = self.memo.answers.get(query) == self.answer(*query)
            if not found:
                return False
        return True

    def _deps(self, queries: set[Query]) -> Deps:
        answers = self.answers
        for query in queries:
            if query not in answers:
                self.answer(*query)
        return tuple(sorted(queries))

    def classes(self, item: PackedFacts, digest: str) -> ClassParts:
        previous = self.memo.get(item.path)
        if previous is not None and previous.digest == digest:
            parts = previous.classes
            flow = item.flow
            if (
                len(parts.bases) == len(parts.ancestors) == len(flow.classes)
                and len(parts.handlers) == len(flow.entries)
                and self._holds(parts.deps)
            ):
                self.reused += 1
                return parts
        self.resolved += 1
        with self.index.recording() as consulted:
            queries = self.resolver.begin()
            bases, ancestors = self._hierarchy(item)
            handlers = tuple(self._handler(item.module, entry) for entry in item.flow.entries)
        return ClassParts(self._deps(consulted | queries), bases, ancestors, handlers)

    def _hierarchy(
        self, item: PackedFacts
    ) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]]:
        """Per class: each base's project class, and its project ancestors with the class's own
        methods each of them defines (a call of the ancestor's method may run the override)."""
        bases = []
        ancestors = []
        for cls in item.flow.classes:
            own = f"{item.module}.{cls.name}"
            methods = [m for m in dict.fromkeys(cls.methods) if not m.startswith("__")]
            resolved = []
            found: dict[str, ClassRef] = {}
            for base in cls.bases:
                target = self.resolver.handler(item.module, base)
                if isinstance(target, ClassRef):
                    resolved.append(target.qualname)
                    for ref in (target, *self.index.base_classes(target)):
                        found.setdefault(ref.qualname, ref)
                else:
                    resolved.append("")
            bases.append(tuple(resolved))
            ancestors.append(
                tuple(
                    (qualname, tuple(m for m in methods if ref.cls.method(m) is not None))
                    for qualname, ref in found.items()
                    if qualname != own
                )
            )
        return tuple(bases), tuple(ancestors)

    def _handler(self, module: str, entry: EntryPoint) -> tuple[tuple[str, str, str, int], ...]:
        """The roots an entry point stands for: (function, kind, label, line)."""
        if entry.local:
            return ((f"{module}.{entry.target}", entry.kind, entry.label, entry.line),)
        target = self.resolver.handler(module, entry.target)
        if isinstance(target, FunctionRef):
            return ((target.qualname, entry.kind, entry.label, entry.line),)
        out = []
        if isinstance(target, ClassRef) and entry.label not in (BACKGROUND, "scheduled job"):
            found = Found(entry.kind, entry.label)
            for cls in (target, *self.index.base_classes(target)):
                methods = tuple(m.name for m in cls.cls.methods)
                for method, kind in entry_methods(found, methods):
                    out.append((f"{cls.qualname}.{method}", kind.kind, kind.label, entry.line))
        return tuple(out)

    def calls(self, item: PackedFacts, digest: str) -> CallParts:
        """(Once every file's classes are known: a call may resolve to subclasses' methods.)"""
        previous = self.memo.get(item.path)
        functions = item.flow.functions
        if previous is not None and previous.digest == digest:
            parts = previous.calls
            if (
                len(parts.targets) == len(functions)
                # ascending (``GraphMemo.loads`` checks it): the last is the largest
                and (not parts.unresolved or parts.unresolved[-1][0] < len(functions))
                and self._holds(parts.deps)
            ):
                self.reused += 1
                return parts
        self.resolved += 1
        module, resolver = item.module, self.resolver
        targets_out = []
        unresolved: list[tuple[int, str]] = []
        patches: list[tuple[str, tuple[str, ...]]] = []
        memo: dict[str, tuple[str, ...]] = {}  # the file's callees, as written -> nodes
        nodes = resolver.nodes
        with self.index.recording() as consulted:
            queries = resolver.begin()
            for number, function in enumerate(functions):
                targets: dict[str, None] = {}
                for call in function.calls:
                    callees = memo.get(call)
                    if callees is None:
                        callees = memo[call] = nodes(module, call)
                    if callees:
                        for callee in callees:
                            targets[callee] = None
                    first = call[:1]
                    if first == "~":
                        attr, _, written = call[1:].partition("=")
                        key = f"&{written}"
                        patched = memo.get(key)
                        if patched is None:
                            patched = memo[key] = nodes(module, key)
                        if patched:
                            patches.append((attr, patched))
                    elif not callees and first not in "=&@" and "." in call:
                        unresolved.append((number, call.rsplit(".", 1)[1]))
                if targets:
                    targets.pop(f"{module}.{function.name}", None)
                targets_out.append(tuple(targets))
        return CallParts(
            self._deps(consulted | queries), tuple(targets_out), tuple(unresolved), tuple(patches)
        )


@dataclass(frozen=True)
class _Share:
    """What one file adds to the graph from its functions and resolved calls (kept in the memo,
    in memory, for the next build: ``GraphMemo.shares``)."""

    digest: str  # of the file's facts
    calls: CallParts  # the resolved calls it was made from (the memo's part: the same object)
    configured: tuple[tuple[str, ...], tuple[str, ...]]  # entry points, startup roots
    places: dict[str, tuple[str, int]]
    edges: dict[str, tuple[str, ...]]
    roots: tuple[Root, ...]
    root_lines: tuple[RootLine, ...]  # ``CallGraph.root_lines`` of ``roots``
    unresolved: tuple[tuple[str, str], ...]  # (method name, the function calling it)
    bodies: tuple[str, ...]

    def holds(
        self,
        item: PackedFacts,
        calls: CallParts,
        configured: tuple[tuple[str, ...], tuple[str, ...]],
    ) -> bool:
        return (
            self.calls is calls
            and self.digest == item.facts_digest()
            and self.configured == configured
        )

    @classmethod
    def of(cls, item: PackedFacts, calls: CallParts, settings: Settings) -> _Share:
        module, path = item.module, item.path
        startup_label = startup_module(path)
        places: dict[str, tuple[str, int]] = {}
        edges: dict[str, tuple[str, ...]] = {}
        roots: list[Root] = []
        lines: list[RootLine] = []
        for number, (function, targets) in enumerate(zip(item.flow.functions, calls.targets)):
            node = f"{module}.{function.name}"
            places[node] = (path, function.line)
            if targets:
                edges[node] = targets
            if function.name == MODULE_SCOPE:
                roots.append(Root(node, STARTUP, "import", path, 1))
                lines.append(("x", "", 0))
                continue
            if startup_label is not None:
                roots.append(Root(node, STARTUP, startup_label, path, function.line))
            elif settings.entry_points and _configured(
                settings.entry_points, node, function.decorators
            ):
                roots.append(Root(node, REQUEST, "configured entry point", path, function.line))
            elif settings.startup_roots and _configured(
                settings.startup_roots, node, function.decorators
            ):
                roots.append(Root(node, STARTUP, "configured startup root", path, function.line))
            else:
                continue
            lines.append(("f", path, number))
        flows = item.flow.functions
        return cls(
            item.facts_digest(),
            calls,
            (settings.entry_points, settings.startup_roots),
            places,
            edges,
            tuple(roots),
            tuple(lines),
            tuple((attr, f"{module}.{flows[number].name}") for number, attr in calls.unresolved),
            tuple(f"{module}.{c.name}" for c in item.flow.classes),
        )


def _configured(patterns: Iterable[str], node: str, decorators: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if pattern.startswith("@"):
            wanted = pattern[1:]
            if any(
                fnmatch.fnmatchcase(d, wanted) or fnmatch.fnmatchcase(d.rsplit(".", 1)[-1], wanted)
                for d in decorators
            ):
                return True
        elif fnmatch.fnmatchcase(node, pattern):
            return True
    return False


def build_graph(
    packed: Sequence[PackedFacts],
    index: ProjectIndex,
    settings: Settings,
    memo: GraphMemo | None = None,
) -> CallGraph:
    """Resolve every module's calls and roots into one graph (global phase, no parsing).

    With a ``memo`` (``isolint.graphmemo``), each file's resolution is reused while nothing it
    consulted changed, and the memo is updated; without one everything is resolved."""
    memo = memo if memo is not None else GraphMemo()
    resolver = _Resolver(index, packed)
    resolved = _Parts(packed, index, resolver, memo)
    class_parts = [resolved.classes(item, d) for item, d in zip(packed, resolved.digests)]
    # the class hierarchy (the resolver's subclasses, before any call is resolved): a call
    # resolved to a base's method may run any subclass's override (``wallet.pay()`` with
    # ``wallet: Wallet``); each class is taken with its own bases
    overrides: dict[str, list[str]] = {}
    for item, parts in zip(packed, class_parts):
        for cls, ancestors in zip(item.flow.classes, parts.ancestors):
            own = f"{item.module}.{cls.name}"
            methods = [m for m in dict.fromkeys(cls.methods) if not m.startswith("__")]
            resolver.methods[own] = resolver.methods.get(own, frozenset()) | set(methods)
            for qualname, overridden in ancestors:
                resolver.subclasses.setdefault(qualname, []).append(own)
                for method in overridden:
                    overrides.setdefault(f"{qualname}.{method}", []).append(f"{own}.{method}")
    call_parts = [resolved.calls(item, d) for item, d in zip(packed, resolved.digests)]
    memo.replace(
        {
            item.path: ModuleParts(digest, classes, calls)
            for item, digest, classes, calls in zip(
                packed, resolved.digests, class_parts, call_parts
            )
        },
        resolved.answers,
        resolved.reused,
        resolved.resolved,
    )
    edges: dict[str, tuple[str, ...]] = {}
    places: dict[str, tuple[str, int]] = {}
    roots: list[Root] = []
    root_lines: list[RootLine] = []
    bodies: set[str] = set()
    paths = {item.module: item.path for item in packed}
    patches: dict[str, list[str]] = {}  # method name -> project functions installed as it
    unresolved: dict[str, list[str]] = {}  # method name -> functions calling it, unresolved

    def root(node: str, kind: str, label: str, path: str, line: int) -> Root:
        """A root where it is registered, or (line 0) at the handler's definition."""
        if line == 0:
            path, line = places.get(node, (path, 0))
        return Root(node, kind, label, path, line)

    kept = memo.shares  # each file's share of the graph, while its facts and calls are the same
    shares: dict[str, object] = {}
    configured = (settings.entry_points, settings.startup_roots)
    for item, calls in zip(packed, call_parts):
        share = kept.get(item.path)
        if not isinstance(share, _Share) or not share.holds(item, calls, configured):
            share = _Share.of(item, calls, settings)
        shares[item.path] = share
        places.update(share.places)
        edges.update(share.edges)
        roots.extend(share.roots)
        root_lines.extend(share.root_lines)
        for attr, caller in share.unresolved:
            unresolved.setdefault(attr, []).append(caller)
        for attr, patched in calls.patches:
            patches.setdefault(attr, []).extend(patched)
        bodies.update(share.bodies)
    memo.shares = shares
    for attr, functions in patches.items():  # an unresolved ``x.get_current()`` may run it
        for caller in unresolved.get(attr, ()):
            edges[caller] = tuple(dict.fromkeys((*edges.get(caller, ()), *functions)))
    for base, subs in overrides.items():
        edges[base] = tuple(dict.fromkeys((*edges.get(base, ()), *subs)))
    for item, parts in zip(packed, class_parts):
        for number, handlers in enumerate(parts.handlers):
            for node, how, label, line in handlers:
                roots.append(root(node, how, label, item.path, line))
                root_lines.append(("e" if line else "p", item.path, number))
    for qualname, (module, cls, found) in _framework_kinds(packed, class_parts).items():
        for method, kind in entry_methods(found, cls.methods):
            node = f"{qualname}.{method}"
            line = places.get(node, (paths[module], 0))[1]
            roots.append(
                Root(node, kind.kind, f"{kind.label} `{cls.name}.{method}`", paths[module], line)
            )
            root_lines.append(("q", "", 0))
    # ``is_test`` holds pytest's conventions and the ``integration-tests`` globs (the worker
    # matched them: ``ModuleFacts.is_test``; the setting is part of the per-file cache key)
    tests = frozenset(p.path for p in packed if p.is_test)
    scripts = {p.path: p.flow.scripts for p in packed if p.flow.scripts}
    return CallGraph(
        edges, places, tuple(roots), frozenset(bodies), tests, scripts, tuple(root_lines)
    )
