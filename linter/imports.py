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
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
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
    """Maps local names to the absolute dotted names they were imported as."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.bindings: dict[str, ImportBinding] = {}
        self.star_modules: list[str] = []

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
        for binding in added:
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
        if isinstance(expr, cst.Name):
            binding = self.bindings.get(expr.value)
            return binding.target if binding is not None else None
        if isinstance(expr, cst.Attribute):
            base = self.qualified_name(expr.value)
            return None if base is None else f"{base}.{expr.attr.value}"
        return None

    def refers_to(self, expr: cst.BaseExpression, *names: str) -> bool:
        """True if ``expr`` names one of ``names`` (absolute dotted names) through imports."""
        qualified = self.qualified_name(expr)
        return qualified is not None and qualified in names
