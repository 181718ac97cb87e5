""""Test connection" on the add and edit forms: the form's settings, one fetch, the answer in
words. The form posts here instead of to its own address, so a test never saves anything."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from dashboard.connection_test import (
    ConnectionAnswer,
    connection_test_allowed,
    source_connection_test,
)
from dashboard.forms import SourceForm
from dashboard.models import Role, Source
from dashboard.pages import kind_or_404, page
from dashboard.selectors import team_source_get
from dashboard.services import base_url_problems, cleaned
from dashboard.sources import SourceKind, get_kind
from dashboard.teams import team_view


def form_answer(request: HttpRequest, *, spec: SourceKind, source: Source | None) -> tuple[
        SourceForm, ConnectionAnswer, int]:
    """The form as posted, what the test answered, and the HTTP status to send it with."""
    form = SourceForm(request.POST, spec=spec, source=source)
    if not form.is_valid():
        problems = [f"{form[name].label}: {' '.join(map(str, errors))}" if name in form.fields
                    else " ".join(map(str, errors)) for name, errors in form.errors.items()]
        return form, ConnectionAnswer(False, "Not tested: " + "; ".join(problems)), 400
    typed = cleaned(form.credential_values())
    # An empty field on an edit keeps the stored key, so the test uses it too (server side:
    # the key is never sent to the browser).
    stored = {} if source is None or source.credentials.unreadable else dict(source.credentials)
    credentials = {**stored, **typed}
    options = cleaned(form.option_values())
    base_url = form.cleaned_data["base_url"].strip()
    problems = [*base_url_problems(base_url), *spec.option_problems(options),
                *spec.credential_problems(credentials)]
    if problems:
        return form, ConnectionAnswer(False, "Not tested: " + "; ".join(problems) + "."), 400
    if not connection_test_allowed(user_id=request.user.pk or 0):
        return form, ConnectionAnswer(
            False, "Too many connection tests in the last minute: wait a minute and try again. "
                   "Each test calls the upstream, and bursts of calls can get a key locked."), 429
    answer = source_connection_test(team=request.team, spec=spec, base_url=base_url,  # type: ignore[attr-defined]
                                    options=options, credentials=credentials)
    return form, answer, 200


def answer_page(request: HttpRequest, *, spec: SourceKind, source: Source | None) -> HttpResponse:
    form, answer, status = form_answer(request, spec=spec, source=source)
    # Without JavaScript the whole form comes back; its key fields come back empty, as always.
    typed_key = any(request.POST.get(field.html_name) for field in form.credential_fields())
    context = {"form": form, "spec": spec, "source": source, "answer": answer,
               "retype_key": typed_key and not request.htmx}  # type: ignore[attr-defined]
    response = page(request, "dashboard/source_form.html", context, "connection-test")
    # htmx swaps only 2xx answers in; the refusal is in the fragment's words either way.
    response.status_code = 200 if request.htmx else status  # type: ignore[attr-defined]
    return response


@require_POST
@team_view(Role.ADMIN)
def source_add_test(request: HttpRequest, kind: str) -> HttpResponse:
    spec = kind_or_404(kind)
    return answer_page(request, spec=spec, source=None)


@require_POST
@team_view(Role.ADMIN)
def source_edit_test(request: HttpRequest, pk: int) -> HttpResponse:
    source = team_source_get(team=request.team, pk=pk)  # type: ignore[attr-defined]
    return answer_page(request, spec=get_kind(source.kind), source=source)
