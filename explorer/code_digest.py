"""A digest of what source code computes, not of how it words things: kept results are keyed by it."""
from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

WORDING = {"tr": 1, "trn": 2, "N_": 1, "later": 1}   # explorer.i18n's markers → their leading text arguments


class _Unworded(ast.NodeTransformer):
    """Blanks docstrings and the texts given to explorer.i18n's markers (comments never reach the AST)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        for i in range(min(WORDING.get(name, 0), len(node.args))):
            node.args[i] = ast.Constant("")
        return node

    def _drop_docstring(self, node: ast.AST) -> ast.AST:
        self.generic_visit(node)
        body = getattr(node, "body", None)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body[0] = ast.Pass()
        return node

    visit_Module = visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _drop_docstring


def code_digest(sources: Iterable[Path]) -> str:
    """sha256 over the sources' syntax trees, less docstrings, comments and the wording of shown texts: a
    translation or a reworded message keeps every kept result; a changed computation makes them anew."""
    digest = hashlib.sha256()
    for source in sources:
        tree = _Unworded().visit(ast.parse(source.read_text(encoding="utf-8")))
        digest.update(ast.dump(tree, include_attributes=False).encode())
    return digest.hexdigest()
