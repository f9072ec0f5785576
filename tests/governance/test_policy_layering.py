"""Access is decided in one policy module: no other module refuses with Forbidden or reads a
principal's roles (``is_admin``, ``steward_org_ids``, ``reviewer_kinds``) to decide.

The scan reads the source (ast) of every module under ``src/datenschatz`` but
``access/policy.py`` and compares what it finds, per module and function, with the lists
below. Both directions fail: a new decision outside the policy, and an entry here that no
longer exists (so the lists cannot go stale).
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import datenschatz

SRC = Path(datenschatz.__file__).parent
POLICY = "access/policy.py"
ROLE_ATTRIBUTES = frozenset({"is_admin", "steward_org_ids", "reviewer_kinds"})

# Forbidden raised outside the policy where it is no access decision.
FORBIDDEN_ALLOWED: dict[tuple[str, str], str] = {
    # A stale or foreign form (CSRF): about the request, not about who may do what.
    ("web/session.py", "check_csrf"): "CSRF token of the signed-in session",
    ("web/session.py", "check_login_csrf"): "CSRF token of the sign-in form",
}
# Access decisions still outside the policy, in modules other work owns; each is to move into
# access/policy.py (and its entry here to go) when that module is next changed.
FORBIDDEN_TO_MOVE: dict[tuple[str, str], str] = {}

# A principal's role sets read outside the policy where nothing is decided.
ROLES_ALLOWED: dict[tuple[str, str], str] = {
    ("api/rest_admin.py", "me"): "/api/v1/me reports the caller's reviewer kinds",
}
ROLES_TO_MOVE: dict[tuple[str, str], str] = {}


def _scan(root: Path = SRC) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """(Forbidden(...) calls, role-attribute reads) per (module, enclosing function)."""
    forbidden: Counter[tuple[str, str]] = Counter()
    roles: Counter[tuple[str, str]] = Counter()

    def walk(node: ast.AST, module: str, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            if isinstance(child, ast.Call):
                func = child.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else None
                )
                if name == "Forbidden":
                    forbidden[(module, function)] += 1
            if isinstance(child, ast.Attribute) and child.attr in ROLE_ATTRIBUTES:
                roles[(module, function)] += 1
            walk(child, module, inner)

    for path in sorted(root.rglob("*.py")):
        module = path.relative_to(root).as_posix()
        if module != POLICY:
            walk(ast.parse(path.read_text(encoding="utf-8")), module, "<module>")
    return forbidden, roles


def test_forbidden_is_raised_for_access_decisions_in_the_policy_only() -> None:
    forbidden, _roles = _scan()
    expected = set(FORBIDDEN_ALLOWED) | set(FORBIDDEN_TO_MOVE)
    outside = sorted(set(forbidden) - expected)
    assert not outside, f"access decided outside access/policy.py: {outside}"
    stale = sorted(expected - set(forbidden))
    assert not stale, f"allow-list entries without a Forbidden: {stale}"


def test_role_sets_are_read_for_decisions_in_the_policy_only() -> None:
    _forbidden, roles = _scan()
    expected = set(ROLES_ALLOWED) | set(ROLES_TO_MOVE)
    outside = sorted(set(roles) - expected)
    assert not outside, f"roles read outside access/policy.py: {outside}"
    stale = sorted(expected - set(roles))
    assert not stale, f"allow-list entries without a role read: {stale}"


def test_the_challenge_grant_and_token_services_decide_nothing_themselves() -> None:
    """The modules this rule was first applied to stay free of any such check."""
    forbidden, roles = _scan()
    services = {
        "governance/grants.py",
        "governance/challenges.py",
        "governance/own_tokens.py",
        "governance/tokens.py",
        "web/pages_challenge_forms.py",
        "web/pages_token_forms.py",
        "web/pages_admin_forms.py",
        "api/rest_challenges.py",
    }
    assert not [key for key in forbidden if key[0] in services]
    assert not [key for key in roles if key[0] in services]


def test_the_scan_finds_checks_written_outside_the_policy(tmp_path: Path) -> None:
    """A scan that saw nothing would pass the tests above: it sees raised and returned
    refusals, qualified names and methods, and it ignores the policy module itself."""
    (tmp_path / "access").mkdir()
    (tmp_path / "access" / "policy.py").write_text(
        "def ensure(p):\n    if not p.is_admin:\n        raise Forbidden('no')\n"
    )
    (tmp_path / "service.py").write_text(
        "from datenschatz import errors\n"
        "def act(principal):\n"
        "    if not principal.is_admin:\n"
        "        raise errors.Forbidden('Only admins.')\n"
        "class Page:\n"
        "    async def show(self, principal):\n"
        "        if 3 in principal.steward_org_ids:\n"
        "            return page(Forbidden('No.'))\n"
    )
    forbidden, roles = _scan(tmp_path)
    assert forbidden == {("service.py", "act"): 1, ("service.py", "show"): 1}
    assert roles == {("service.py", "act"): 1, ("service.py", "show"): 1}
