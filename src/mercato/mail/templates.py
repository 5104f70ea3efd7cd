"""E-mails as named templates: ``templates/email/<name>/`` holds ``subject.txt``, ``body.txt`` and
``body.html``, rendered from the context the composing function returns. Wording lives in the templates;
the code decides only who gets what."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_environment = Environment(
    loader=PackageLoader("mercato", "templates/email"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,  # a context missing a name fails the change that composes the e-mail
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: Mapping[str, Any]) -> RenderedEmail:
    def render(part: str) -> str:
        return _environment.get_template(f"{name}/{part}").render(context)

    return RenderedEmail(
        subject=" ".join(render("subject.txt").split()), text=render("body.txt"), html=render("body.html")
    )
