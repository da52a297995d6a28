"""Shared helpers of the ISO5 single-source-of-truth rules: config lookups and import rewriting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst

from isolint.api import STRING_TABLE, NodeEdit, Option, RuleContext, dotted_name

CANONICAL = Option(
    "ssot.canonical",
    STRING_TABLE,
    (),
    '`[tool.isolint.ssot]`: a table of `Symbol = "module"` naming the one module where each '
    "concept lives",
    expected='a table of symbol = "module"',
)
DEPRECATED_MODULES = Option(
    "ssot.deprecated-modules",
    STRING_TABLE,
    (),
    '`[tool.isolint.ssot]`: a table of `"old.module" = "replacement.module"`; an empty '
    'replacement (`""`) marks a module deprecated with nothing to import instead',
    expected='a table of module = "replacement"',
)


def canonical_map(context: RuleContext) -> Mapping[str, str]:
    """``[tool.isolint.ssot] canonical`` as symbol -> canonical module."""
    return dict(context.option(CANONICAL))


def is_within(module: str, package: str) -> bool:
    """``module`` is ``package`` or one of its submodules."""
    return module == package or module.startswith(package + ".")


def top_package(module: str) -> str:
    return module.split(".", 1)[0]


def deprecated_match(
    module: str, deprecated: Sequence[tuple[str, str]]
) -> tuple[str, str, str] | None:
    """(deprecated entry, its replacement, ``module`` mapped onto the replacement) for the
    longest ``deprecated-modules`` entry that ``module`` is or is inside of; the mapped module is
    ``""`` when the entry has no replacement."""
    best: tuple[str, str] | None = None
    for old, new in deprecated:
        if is_within(module, old) and (best is None or len(old) > len(best[0])):
            best = (old, new)
    if best is None:
        return None
    old, new = best
    mapped = new + module[len(old) :] if new else ""
    return old, new, mapped


def _is_type_checking(test: cst.BaseExpression) -> bool:
    name = dotted_name(test)
    return name is not None and name.rsplit(".", 1)[-1] == "TYPE_CHECKING"


def under_type_checking(context: RuleContext) -> bool:
    """The node being visited is in the body of an ``if TYPE_CHECKING:`` block."""
    chain = context.ancestors
    for position, node in enumerate(chain):
        if (
            isinstance(node, cst.If)
            and _is_type_checking(node.test)
            and position + 1 < len(chain)
            and chain[position + 1] is node.body
        ):
            return True
    return False


def block_indent(context: RuleContext) -> str:
    """The indentation of the statement being visited."""
    default = context.module.default_indent
    return "".join(
        block.indent if block.indent is not None else default
        for block in context.ancestors
        if isinstance(block, cst.IndentedBlock)
    )


def reindent(text: str, indent: str) -> str:
    """Source generated for a node outside its block, with the block's indentation put back on
    its continuation lines (LibCST renders parenthesized continuation lines relative to it)."""
    if not indent or "\n" not in text:
        return text
    lines = text.split("\n")
    return "\n".join([lines[0], *(indent + line if line else line for line in lines[1:])])


def alias_name(alias: cst.ImportAlias) -> str | None:
    """The imported (dotted) name of an alias."""
    return dotted_name(alias.name)


def alias_asname(alias: cst.ImportAlias) -> str:
    """The ``as`` name of an alias, or ``""``."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return ""


def render_alias(name: str, asname: str) -> str:
    return f"{name} as {asname}" if asname else name


def render_import_from(module: str, aliases: Sequence[tuple[str, str]]) -> str:
    return f"from {module} import " + ", ".join(render_alias(n, a) for n, a in aliases)


def without_semicolon(node: cst.ImportFrom) -> cst.ImportFrom:
    """LibCST renders a small statement with its ``;``, which is outside the node's span."""
    return node.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)


def module_expression(module: str) -> cst.Attribute | cst.Name:
    expr = cst.parse_expression(module)
    assert isinstance(expr, (cst.Attribute, cst.Name))
    return expr


def module_edits(node: cst.ImportFrom, module: str) -> tuple[NodeEdit, ...]:
    """Edits that make ``node`` import from the absolute ``module`` and leave every other byte
    (names, aliases, parentheses, comments) alone."""
    dots = list(node.relative)
    edits = [NodeEdit(dot, "") for dot in dots]
    if node.module is not None:
        edits.append(NodeEdit(node.module, module))
    elif edits:
        edits[-1] = NodeEdit(dots[-1], module)
    return tuple(edits)


def has_comment(context: RuleContext, node: cst.CSTNode) -> bool:
    """Import statements hold no strings, so a ``#`` in their source is a comment."""
    return "#" in context.code_for(node)
