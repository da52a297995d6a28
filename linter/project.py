"""The cross-module project index, merged from per-file facts (read-only for rules)."""

from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from isolint.config import Settings
from isolint.facts import (
    ClassFacts,
    FunctionFacts,
    ModuleFacts,
    PackedFacts,
    ParamFacts,
    SharedInstanceFacts,
    StoredFacts,
)
from isolint.imports import ImportBinding
from isolint.options import Option
from isolint.serial import Codec

T = TypeVar("T")

_MAX_HOPS = 50
# Kinds of what resolution asks the index (``ProjectIndex.recording``).
MODULE, PACKAGE, SHORT_NAME = "m", "p", "r"
# Decoded modules kept (about 7 KB each, measured on saleor): the global phase resolves into
# most modules of a project, so a smaller bound decodes the same module again and again (256
# decoded saleor's 2,508 modules 9,601 times).
_DECODED_MODULES = 8192
_MEMO_SIZE = 1 << 17  # resolutions the index remembers (``ProjectIndex._remembered``)
_MemoKey = tuple[str, str] | str
_Binding = ClassFacts | FunctionFacts | ImportBinding | None  # what a module's name is bound to
_UNBOUND = object()  # (``resolve_name``: a name the module does not bind)
# a resolution's target, and the questions it asked (None: asked while nothing was recording)
_Remembered = tuple["Target | None", frozenset[tuple[str, str]] | None]


@dataclass(frozen=True)
class ModuleRef:
    module: str


@dataclass(frozen=True)
class ClassRef:
    module: str
    cls: ClassFacts

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.cls.name}"


@dataclass(frozen=True)
class FunctionRef:
    """A function, or a method when ``owner`` is set."""

    module: str
    function: FunctionFacts
    owner: ClassFacts | None = None

    @property
    def qualname(self) -> str:
        owner = f"{self.owner.name}." if self.owner else ""
        return f"{self.module}.{owner}{self.function.name}"


@dataclass(frozen=True)
class VariableRef:
    module: str
    name: str


Target = ModuleRef | ClassRef | FunctionRef | VariableRef


@dataclass(frozen=True)
class Signature:
    """The parameters a call binds to, after dropping ``self``/``cls``."""

    callable: FunctionRef
    params: tuple[ParamFacts, ...]
    path: str

    @property
    def qualname(self) -> str:
        return self.callable.qualname


class _LazyModules(Mapping[str, ModuleFacts]):
    """Module name -> ModuleFacts, unpacking each module's facts the first time it is read."""

    def __init__(self, packed: dict[str, ModuleFacts | PackedFacts | StoredFacts]) -> None:
        self._packed = packed
        # A bounded set of decoded modules: resolution keeps returning to the same few, and the
        # parent's memory must not grow with every module of a large project.
        self._decoded: OrderedDict[str, ModuleFacts] = OrderedDict()
        self._codec = Codec.create()  # one for every module it unpacks

    def __getitem__(self, name: str) -> ModuleFacts:
        facts = self._decoded.get(name)
        if facts is not None:
            self._decoded.move_to_end(name)
            return facts
        item = _header(self._packed[name])
        facts = item.unpack(self._codec) if isinstance(item, PackedFacts) else item
        self._decoded[name] = facts
        if len(self._decoded) > _DECODED_MODULES:
            self._decoded.popitem(last=False)
        return facts

    def get(self, name: str, default: object = None) -> Any:  # Mapping.get's overloads
        """(``Mapping.get`` without its ``KeyError`` round trip.)"""
        if name in self._packed:
            return self[name]
        return default

    def __contains__(self, name: object) -> bool:
        return name in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)


def _top_level_names(facts: ModuleFacts) -> dict[str, _Binding]:
    """A module's top-level names as ``ProjectIndex._resolve_name`` looks them up: each the first
    class of that name, else the first function, else the first import binding, else ``None``
    for a variable."""
    table: dict[str, _Binding] = dict.fromkeys(facts.variables)
    for binding in reversed(facts.imports):
        table[binding.local] = binding
    for function in reversed(facts.functions):
        table[function.name] = function
    for cls in reversed(facts.classes):
        table[cls.name] = cls
    return table


def _header(item: ModuleFacts | PackedFacts | StoredFacts) -> ModuleFacts | PackedFacts:
    """Facts whose header can be read (``StoredFacts`` decoded now)."""
    return item.packed() if isinstance(item, StoredFacts) else item


def _source_root_names(modules: Mapping[str, object]) -> dict[str, str]:
    """Names modules import each other by when their package sits in a plain directory that is
    not a configured source root (``backend/chainlit/x.py`` is imported as ``chainlit.x``):
    the name without the leading directories that are not packages -> the module, if unique."""
    found: dict[str, str | None] = {}
    for name in modules:
        parts = name.split(".")
        for cut in range(1, len(parts)):
            if ".".join(parts[:cut]) in modules:
                break  # a real package: its modules are only imported through it
            short = ".".join(parts[cut:])
            found[short] = name if found.get(short, name) == name else None
    return {short: name for short, name in found.items() if name and short not in modules}


class ProjectIndex:
    """Read-only view over every module's facts, with static name resolution.

    Resolution follows import bindings, attribute chains through modules and classes, base
    classes and re-export chains; cycles are guarded and anything not provable is ``None``.
    """

    def __init__(
        self,
        facts: Iterable[ModuleFacts | PackedFacts | StoredFacts],
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        by_module: dict[str, ModuleFacts | PackedFacts | StoredFacts] = {}
        for item in sorted(facts, key=lambda f: f.path):
            by_module.setdefault(item.module, item)
        self._packed = by_module
        self._packages = frozenset(
            ".".join(parts[:cut])
            for parts in (name.split(".") for name in by_module)
            for cut in range(1, len(parts))
        )
        self._modules: Mapping[str, ModuleFacts] = _LazyModules(by_module)
        # module -> (its facts, their ``_top_level_names``): built once per module
        self._tables: dict[str, tuple[ModuleFacts, dict[str, _Binding]]] = {}
        self._consulted: set[tuple[str, str]] | None = None  # see ``recording``
        # resolutions from scratch, and what each asked (``_remembered``): the call graph and
        # the project rules resolve the same names from many places
        self._names: dict[_MemoKey, _Remembered] = {}
        self._absolute: dict[_MemoKey, _Remembered] = {}
        self._bases: dict[_MemoKey, _Remembered] = {}
        # absolute names no module of the project starts (imports of other packages): the
        # questions that showed it
        self._outside: dict[str, frozenset[tuple[str, str]]] = {}
        self._rooted = _source_root_names(by_module)

    def option(self, option: Option[T]) -> T:
        """The configured value of a rule option (one the rule declares), else its default."""
        return self.settings.option(option)

    @property
    def modules(self) -> Mapping[str, ModuleFacts]:
        """Every module's facts (decoded on access: prefer ``module()`` and the header views)."""
        return self._modules

    def module(self, name: str) -> ModuleFacts | None:
        if self._consulted is not None:
            self._consulted.add((MODULE, name))
        return self._modules.get(name)

    def _has_module(self, name: str) -> bool:
        if self._consulted is not None:
            self._consulted.add((MODULE, name))
        return name in self._modules

    def external_mutation_sites(self) -> Iterator[tuple[str, str, tuple[tuple[str, str], ...]]]:
        """(module, path, [(qualified container, function)]) of every module, without decoding."""
        for stored in self._packed.values():
            if isinstance(stored, StoredFacts) and stored.external_mutations is not None:
                yield stored.module, stored.path, stored.external_mutations
                continue
            item = _header(stored)
            yield item.module, item.path, item.external_mutations

    def shared_instance_sites(
        self,
    ) -> Iterator[tuple[str, str, bool, tuple[SharedInstanceFacts, ...]]]:
        """(module, path, is_test, shared instances) of every module, without decoding facts."""
        for stored in self._packed.values():
            item = _header(stored)
            yield item.module, item.path, item.is_test, item.shared_instances

    # -- resolution ---------------------------------------------------------------------------
    def resolve_name(
        self, module: str, name: str, _seen: frozenset[tuple[str, str]] = frozenset()
    ) -> Target | None:
        """What ``name`` means at the top level of ``module``."""
        if _seen:  # part of a resolution in progress: its answer depends on the path taken
            return self._resolve_name(module, name, _seen)
        table = self._tables.get(module)
        if table is not None and not table[0].star_imports:
            # the module's names are known: what is not an import is answered at once
            names = table[1]
            bound = names.get(name, _UNBOUND)
            if not isinstance(bound, ImportBinding):
                if self._consulted is not None:
                    self._consulted.add((MODULE, module))
                if bound is None:
                    return VariableRef(module, name)
                if isinstance(bound, ClassFacts):
                    return ClassRef(module, bound)
                if isinstance(bound, FunctionFacts):
                    return FunctionRef(module, bound)
                return None  # not bound in the module
        key = (module, name)
        hit = self._names.get(key)
        if hit is not None:  # ``_remembered``'s answer, without the call
            outer = self._consulted
            if outer is None:
                return hit[0]
            if hit[1] is not None:
                outer |= hit[1]
                return hit[0]
        return self._remembered(self._names, key, self._resolve_name, module, name)

    def _remembered(
        self,
        memo: dict[_MemoKey, _Remembered],
        key: _MemoKey,
        resolve: Callable[..., Target | None],
        *args: str,
    ) -> Target | None:
        """``resolve(*args)`` (a resolution from scratch: a function of the index alone), worked
        out once per index with the questions it asked the index (while ``recording``), which a
        later answer from ``memo`` asks again for ``recording``. The memo is emptied once it holds ``_MEMO_SIZE``
        answers: they hold on to facts the decoded-module bound has let go."""
        hit = memo.get(key)
        outer = self._consulted
        if outer is None and hit is None:  # not recording: the questions are not kept
            target = resolve(*args)
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[key] = (target, None)
            return target
        if hit is None or (outer is not None and hit[1] is None):
            consulted: set[tuple[str, str]] = set()
            self._consulted = consulted
            try:
                target = resolve(*args)
            finally:
                self._consulted = outer
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            hit = memo[key] = (target, frozenset(consulted))
        if outer is not None and hit[1] is not None:
            outer |= hit[1]
        return hit[0]

    def _resolve_name(
        self, module: str, name: str, _seen: frozenset[tuple[str, str]] = frozenset()
    ) -> Target | None:
        key = (module, name)
        facts = self.module(module)
        if facts is None or key in _seen or len(_seen) > _MAX_HOPS:
            return None
        table = self._tables.get(module)
        if table is None or table[0] is not facts:
            if len(self._tables) >= _DECODED_MODULES:  # they hold on to the facts
                self._tables.clear()
            table = self._tables[module] = (facts, _top_level_names(facts))
        names = table[1]
        if name in names:
            bound = names[name]
            if isinstance(bound, ClassFacts):
                return ClassRef(module, bound)
            if isinstance(bound, FunctionFacts):
                return FunctionRef(module, bound)
            if bound is not None:
                return self.resolve_absolute(bound.target, _seen | {key})
            return VariableRef(module, name)
        for star in reversed(facts.star_imports):  # the last star import wins, as at run time
            source = self.module(star)
            if source is None or not self._star_exports(source, name):
                continue
            found = self.resolve_name(star, name, _seen | {key})
            if found is not None:
                return found
        return None

    @staticmethod
    def _star_exports(source: ModuleFacts, name: str) -> bool:
        """Does ``from source import *`` bind ``name``? (``__all__``, else no leading underscore)."""
        if source.all_names is not None:
            return name in source.all_names
        return not name.startswith("_")

    def _resolve_base(self, module: str, base: str) -> Target | None:
        """A base class expression as recorded in facts: local dotted name or absolute import."""
        return self._remembered(self._bases, (module, base), self._base, module, base)

    def _base(self, module: str, base: str) -> Target | None:
        return self.resolve_dotted(module, base) or self.resolve_absolute(base)

    def resolve_absolute(
        self, dotted: str, _seen: frozenset[tuple[str, str]] = frozenset()
    ) -> Target | None:
        """What an absolute dotted name (``pkg.mod.Class.method``) refers to in the project."""
        if _seen:
            return self._resolve_absolute(dotted, _seen)
        hit = self._absolute.get(dotted)
        if hit is not None:  # ``_remembered``'s answer, without the call
            outer = self._consulted
            if outer is None:
                return hit[0]
            if hit[1] is not None:
                outer |= hit[1]
                return hit[0]
        return self._remembered(self._absolute, dotted, self._resolve_absolute, dotted)

    def _resolve_absolute(
        self, dotted: str, _seen: frozenset[tuple[str, str]] = frozenset()
    ) -> Target | None:
        asked = self._outside.get(dotted)
        if asked is not None:  # no module of the project: None, whatever resolution is under way
            if self._consulted is not None:
                self._consulted |= asked
            return None
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            head = ".".join(parts[:cut])
            if not self._has_module(head) and not self._is_namespace(head):
                head = self._short_name(head)  # ``chainlit.x`` for ``backend/chainlit/x.py``
            if head:
                target: Target | None = ModuleRef(head)
                for attr in parts[cut:]:
                    if target is None:
                        return None
                    target = self.member(target, attr, _seen)
                return target
        if len(self._outside) >= _MEMO_SIZE:
            self._outside.clear()
        self._outside[dotted] = frozenset(
            (kind, ".".join(parts[:cut]))
            for cut in range(len(parts), 0, -1)
            for kind in (MODULE, PACKAGE, SHORT_NAME)
        )
        return None

    def _is_namespace(self, name: str) -> bool:
        """A package without ``__init__.py`` whose submodules are in the project."""
        if self._consulted is not None:
            self._consulted.add((PACKAGE, name))
        return name in self._packages

    def _short_name(self, name: str) -> str:
        """The module a name without its leading plain directories stands for, or ``""``."""
        if self._consulted is not None:
            self._consulted.add((SHORT_NAME, name))
        return self._rooted.get(name, "")

    # -- what resolution consulted (the call graph's memo, ``isolint.graphmemo``) --------------
    @contextmanager
    def recording(self) -> Iterator[set[tuple[str, str]]]:
        """Record what resolution asks the index meanwhile, as ``(kind, name)`` queries: every
        module looked up, present or not (``MODULE``), every namespace-package test
        (``PACKAGE``) and short-name lookup (``SHORT_NAME``). A result resolved meanwhile
        stays valid while ``answer`` gives the same for each query and the consulted modules'
        facts are unchanged."""
        previous = self._consulted
        consulted: set[tuple[str, str]] = set()
        self._consulted = consulted
        try:
            yield consulted
        finally:
            self._consulted = previous

    def answer(self, kind: str, name: str) -> str:
        """The index's current answer to a ``PACKAGE`` or ``SHORT_NAME`` query, as text
        (``MODULE`` queries are answered by the module's facts digest, which the index does
        not keep)."""
        if kind == PACKAGE:
            return "1" if name in self._packages else ""
        if kind == SHORT_NAME:
            return self._rooted.get(name, "")
        raise ValueError(f"not an index query: {kind}")

    def resolve_dotted(self, module: str, dotted: str) -> Target | None:
        """What ``a.b.c`` written in ``module`` refers to."""
        head, *rest = dotted.split(".")
        target = self.resolve_name(module, head)
        for attr in rest:
            if target is None:
                return None
            target = self.member(target, attr)
        return target

    def member(
        self, target: Target, attr: str, _seen: frozenset[tuple[str, str]] = frozenset()
    ) -> Target | None:
        """``target.attr`` for modules (submodules, then names) and classes (methods, bases)."""
        if isinstance(target, ModuleRef):
            # A name the package binds itself wins over its submodule of that name, as at run
            # time: ``from pkg.session import session`` in ``pkg/__init__.py`` rebinds
            # ``pkg.session`` to the object.
            bound = self.resolve_name(target.module, attr, _seen)
            if bound is not None and not isinstance(bound, ModuleRef):
                return bound
            submodule = f"{target.module}.{attr}"
            if self._has_module(submodule):
                return ModuleRef(submodule)
            return bound
        if isinstance(target, ClassRef):
            return self._method(target, attr, _seen)
        return None

    def _method(
        self, owner: ClassRef, name: str, _seen: frozenset[tuple[str, str]]
    ) -> FunctionRef | None:
        key = (owner.qualname, f"#{name}")
        if key in _seen or len(_seen) > _MAX_HOPS:
            return None
        method = owner.cls.method(name)
        if method is not None:
            return FunctionRef(owner.module, method, owner.cls)
        for base in owner.cls.bases:
            resolved = self._resolve_base(owner.module, base)
            if isinstance(resolved, ClassRef):
                found = self._method(resolved, name, _seen | {key})
                if found is not None:
                    return found
        return None

    def base_classes(self, cls: ClassRef) -> list[ClassRef]:
        """The project classes ``cls`` inherits from (transitively), nearest first."""
        out: list[ClassRef] = []
        pending = [cls]
        while pending and len(out) < _MAX_HOPS:
            current = pending.pop(0)
            for base in current.cls.bases:
                resolved = self._resolve_base(current.module, base)
                if isinstance(resolved, ClassRef) and resolved not in out and resolved != cls:
                    out.append(resolved)
                    pending.append(resolved)
        return out

    # -- calls ------------------------------------------------------------------------------
    def signature(self, target: Target) -> Signature | None:
        """The parameters a call of ``target`` binds to, or None when that is not provable."""
        if isinstance(target, ClassRef):
            init = self._method(target, "__init__", frozenset())
            if init is None or init.owner is None:
                return None
            return Signature(init, init.function.params[1:], self._path(init.module))
        if isinstance(target, FunctionRef):
            params = target.function.params
            kind = target.function.kind
            if kind == "classmethod":
                params = params[1:]
            elif kind == "method":
                return None  # an instance method called through the class: not a factory call
            return Signature(target, params, self._path(target.module))
        return None

    def _path(self, module: str) -> str:
        facts = self.module(module)
        return facts.path if facts is not None else module
