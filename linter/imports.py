"""Per-file import table: what each local name is bound to, so rules see through aliases."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True)
class ImportBinding:
    """``local`` names ``target`` (an absolute dotted path); ``module`` is the imported-from module."""

    local: str
    target: str
    module: str
    line_node_id: int = 0


def dotted_name(expr: cst.BaseExpression | cst.ImportFrom | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if type(expr) is cst.Name:  # not isinstance(): slow on LibCST's classes (a hot path)
        return expr.value
    if type(expr) is cst.Attribute:
        base = dotted_name(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    return None


def resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """Absolute module for ``from <level dots><name> import ...`` written in ``module``."""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level - 1 >= len(parts):
        return None  # beyond the top-level package: Python refuses it too
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    if name:
        parts.append(name)
    return ".".join(parts) if parts else None


class ImportTable:
    """Maps local names to the absolute dotted names they were imported as.

    ``bindings`` is what is visible where the walk is: the module's imports plus those of the
    enclosing function (or class) bodies. The walk calls ``enter_scope``/``exit_scope`` around each
    body, so an import inside a function is seen in that function only (and in the scopes nested
    in it), whatever order functions are walked in; ``local_bindings`` keeps every one of them for
    the project index, which only falls back on them after the module-level imports.
    """

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.bindings: dict[str, ImportBinding] = {}
        self.star_modules: list[str] = []
        self.local_bindings: list[ImportBinding] = []
        # One entry per open scope: name -> the binding it hid (None: it was unbound).
        self._hidden: list[dict[str, ImportBinding | None]] = []

    def enter_scope(self) -> None:
        self._hidden.append({})

    def exit_scope(self) -> None:
        """Forget the imports of the scope being left, restoring what they hid."""
        for name, previous in self._hidden.pop().items():
            if previous is None:
                del self.bindings[name]
            else:
                self.bindings[name] = previous

    def module_bindings(self) -> tuple[ImportBinding, ...]:
        """After the walk: module-level bindings, then function-local ones (the index's view)."""
        return (*self.bindings.values(), *self.local_bindings)

    def add(self, node: cst.Import | cst.ImportFrom) -> list[ImportBinding]:
        """Record the bindings of one import statement and return them."""
        added: list[ImportBinding] = []
        if isinstance(node, cst.Import):
            for alias in node.names:
                target = dotted_name(alias.name)
                if target is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    binding = ImportBinding(alias.asname.name.value, target, target)
                else:
                    head = target.split(".")[0]
                    binding = ImportBinding(head, head, head)
                added.append(binding)
        else:
            base = self.from_module(node)
            if base is None:
                return added
            if isinstance(node.names, cst.ImportStar):
                self.star_modules.append(base)
                return added
            for alias in node.names:
                if not isinstance(alias.name, cst.Name):
                    continue
                local = alias.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                added.append(ImportBinding(local, f"{base}.{alias.name.value}", base))
        hidden = self._hidden[-1] if self._hidden else None
        for binding in added:
            if hidden is not None:
                hidden.setdefault(binding.local, self.bindings.get(binding.local))
                self.local_bindings.append(binding)
            self.bindings[binding.local] = binding
        return added

    def from_module(self, node: cst.ImportFrom) -> str | None:
        """The absolute module a ``from ... import`` statement imports from."""
        name = dotted_name(node.module) if node.module is not None else None
        level = len(node.relative)
        if level == 0:
            return name
        return resolve_relative(self.module, self.is_package, level, name)

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """The absolute dotted name an expression refers to through imports, or None."""
        if type(expr) is cst.Name:  # not isinstance(): slow on LibCST's classes (a hot path)
            binding = self.bindings.get(expr.value)
            return binding.target if binding is not None else None
        if type(expr) is cst.Attribute:
            base = self.qualified_name(expr.value)
            return None if base is None else f"{base}.{expr.attr.value}"
        return None

    def refers_to(self, expr: cst.BaseExpression, *names: str) -> bool:
        """True if ``expr`` names one of ``names`` (absolute dotted names) through imports."""
        qualified = self.qualified_name(expr)
        return qualified is not None and qualified in names
