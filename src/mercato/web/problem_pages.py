"""``GET /api/v1/problems/{slug}``: the page a problem document's ``type`` points to.

A browser (``Accept: text/html``) gets an HTML page; any other client gets the same facts as JSON. The pages
come from the error classes (``mercato.web.problem_types``) and from the OpenAPI document, which says which
operations may answer each problem.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from pydantic import BaseModel, Field

from mercato.fields import Text
from mercato.problems import NotFound
from mercato.web.problem_types import STATUS_ADVICE, ProblemType, problem_types
from mercato.web.problems import PROBLEM_BASE
from mercato.web.responses import problem_responses

router = APIRouter(tags=["problems"])
_CODE_SPAN = re.compile(r"`([^`]+)`")
_OPERATION_LINK = re.compile(r"\(" + re.escape(PROBLEM_BASE) + r"([a-z0-9-]+)\)")
_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}


def _code_spans(text: str) -> Markup:
    """Markdown's `code` spans as ``<code>``, everything else escaped."""
    return Markup(_CODE_SPAN.sub(lambda found: f"<code>{found.group(1)}</code>", str(escape(text))))


_environment = Environment(
    loader=PackageLoader("mercato", "templates/problems"),
    autoescape=select_autoescape(enabled_extensions=("html",)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["code_spans"] = _code_spans


class ProblemTypeOut(BaseModel):
    type: str = Field(
        description="The URI problem documents carry in `type`.", examples=["/api/v1/problems/overpayment"]
    )
    slug: str = Field(examples=["overpayment"])
    status: int = Field(description="The HTTP status answered with it.", examples=[422])
    title: str = Field(examples=["More than the invoice is due"])
    explanation: str = Field(description="When Mercato answers it, and how to get past it.")
    what_to_do: str = Field(description="What the status means and what generally helps.")
    answered_by: list[str] = Field(
        description="The operations that may answer it, as `METHOD /path`.",
        examples=[["POST /api/v1/quotes"]],
    )


def _answered_by(request: Request) -> dict[str, list[str]]:
    """Problem slug → the operations whose documented responses link to it."""
    found: dict[str, list[str]] = {}
    document: dict[str, Any] = request.app.openapi()
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            for answer in operation.get("responses", {}).values():
                for slug in _OPERATION_LINK.findall(answer.get("description", "")):
                    found.setdefault(slug, []).append(f"{method.upper()} {path}")
    return found


def _out(problem: ProblemType, answered_by: list[str]) -> ProblemTypeOut:
    return ProblemTypeOut(
        type=problem.uri,
        slug=problem.slug,
        status=problem.status,
        title=problem.title,
        explanation=problem.explanation or problem.title + ".",
        what_to_do=STATUS_ADVICE.get(problem.status, STATUS_ADVICE[400]),
        answered_by=sorted(set(answered_by)),
    )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


@router.get(
    "/problems",
    response_model=list[ProblemTypeOut],
    summary="List the problem types",
    responses={200: _HTML},
)
async def list_problem_types(request: Request) -> Response:
    """Every kind of problem the API answers with, as the `type` of a problem document names it. A browser
    gets an HTML table; other clients JSON."""
    answered_by = _answered_by(request)
    problems = [_out(p, answered_by.get(p.slug, [])) for p in problem_types().values()]
    if _wants_html(request):
        page = _environment.get_template("index.html").render(
            problems=problems, index=PROBLEM_BASE.rstrip("/")
        )
        return HTMLResponse(page)
    return JSONResponse([p.model_dump() for p in problems])


@router.get(
    "/problems/{slug}",
    response_model=ProblemTypeOut,
    summary="Explain a problem type",
    responses={200: _HTML, **problem_responses(NotFound)},
)
async def explain_problem_type(
    slug: Annotated[Text, Path(max_length=100, description="The last part of a problem's `type`.")],
    request: Request,
) -> Response:
    """The page a problem document's `type` points to: what the problem means, when Mercato answers it, what
    to do, and which operations may answer it. A browser gets HTML; other clients JSON."""
    problem = problem_types().get(slug)
    if problem is None:
        raise NotFound(f"There is no problem type {slug!r}. GET {PROBLEM_BASE.rstrip('/')} lists them all.")
    out = _out(problem, _answered_by(request).get(slug, []))
    if _wants_html(request):
        page = _environment.get_template("page.html").render(
            problem=out,
            uri=out.type,
            paragraphs=out.explanation.split("\n\n"),
            advice=out.what_to_do,
            operations=out.answered_by,
            index=PROBLEM_BASE.rstrip("/"),
        )
        return HTMLResponse(page)
    return JSONResponse(out.model_dump())
