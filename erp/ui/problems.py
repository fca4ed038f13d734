"""The pages problem types point at: ``GET /problems/<slug>`` states the rule and what the
user can do; ``GET /problems/`` lists every type. Public (a refused client has no page
session) and read-only; JSON for a client that asks for it (``Accept: application/json``).

Every ``type`` of a problem+json answer is ``/problems/<slug>`` (erp.errors), so it resolves
to one of these pages on whatever host served the answer.
"""

from __future__ import annotations

from typing import Any

import flask
from flask import abort, current_app, jsonify, render_template, request
from flask_babel import gettext

from erp.errors import ProblemType, problem_types
from erp.web import Blueprint as ApiBlueprint

bp = flask.Blueprint("problems", __name__, url_prefix="/problems")


def operations_refusing(slug: str) -> list[str]:
    """``METHOD /path`` of every API operation that declares the problem type ``slug``."""
    found = []
    for rule in current_app.url_map.iter_rules():
        name, _, endpoint = (rule.endpoint or "").partition(".")
        blueprint = current_app.blueprints.get(name)
        if not isinstance(blueprint, ApiBlueprint):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            declared = blueprint.declared_problems(endpoint, method)
            if declared and slug in declared:
                found.append(f"{method} {rule.rule}")
    return sorted(found, key=lambda op: (op.split(" ", 1)[1], op))


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def _as_json(problem: ProblemType) -> dict[str, Any]:
    return {"type": problem.uri, "status": problem.status, "title": problem.title, "rule": problem.rule,
            "remedy": problem.remedy}


@bp.get("/")
def index() -> Any:
    """Every problem type of the API, by status."""
    types = sorted(problem_types().values(), key=lambda p: (p.status, p.slug))
    if _wants_json():
        return jsonify([_as_json(p) for p in types])
    return render_template("ui/problems.html", problems=types)


@bp.get("/<slug>")
def problem(slug: str) -> Any:
    """One problem type: its status, title, the rule and what to do."""
    found = problem_types().get(slug)
    if found is None:
        abort(404)
    if _wants_json():
        return jsonify({**_as_json(found), "operations": operations_refusing(slug)})
    return render_template("ui/problem.html", problem=found, rule=gettext(found.rule) if found.rule else "",
                           operations=operations_refusing(slug))
