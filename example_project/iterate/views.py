"""``POST /v1/iterate`` (DRF) and its async twin ``POST /v1/iterate-async``.

Both validate the body (400, and no row: a bad request is not a session),
run the loop under ``iterate_session`` (which sends ``iterate_finished``
exactly once, whatever happens), and answer 200 when accepted, 422 when
``max_iterations`` ran out, 502 when the provider failed. Each attempt runs
in ``session.attempt``: with OpenTelemetry, a span whose id the row keeps.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_sessionlog import IterateFailure, IterateRequest, IterateResponse, IterateSession, iterate_session

from .loop import Loop
from .providers import Provider, ProviderError, get_provider
from .serializers import IterateBodySerializer


def _prepare(request: Any, body: IterateBodySerializer) -> tuple[IterateRequest, Provider, Loop]:
    iterate_request = body.to_iterate_request(trace_id=request.trace_id)
    provider = get_provider(iterate_request.provider)
    iterate_request.model = iterate_request.model or provider.default_model
    loop = Loop(iterate_request.kind, iterate_request.prompt, iterate_request.max_iterations)
    return iterate_request, provider, loop


def _finish(session: IterateSession, trace_id: str, loop: Loop) -> tuple[dict[str, Any], int]:
    """Record the outcome on the session and shape the HTTP answer."""
    if loop.accepted:
        session.accept(IterateResponse(trace_id, loop.iterations, loop.history, loop.artifact))
        return {
            "trace_id": trace_id,
            "iterations": loop.iterations,
            "artifact": loop.artifact,
            "history": loop.history_json(),
        }, 200
    session.exhaust(IterateFailure(trace_id, loop.iterations, loop.history))
    return {"trace_id": trace_id, "iterations": loop.iterations, "history": loop.history_json()}, 422


def _provider_failed(
    session: IterateSession, trace_id: str, exc: ProviderError
) -> tuple[dict[str, Any], int]:
    session.fail(exc)
    return {"trace_id": trace_id, "error": str(exc)}, 502


class IterateView(APIView):
    authentication_classes: list[Any] = []  # noqa: RUF012 (DRF's own attribute)

    def post(self, request: Request) -> Response:
        body = IterateBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        iterate_request, provider, loop = _prepare(request, body)
        trace_id = iterate_request.trace_id
        with iterate_session(iterate_request, sender=type(self)) as session:
            try:
                while not loop.done:
                    with session.attempt(loop.next_iteration) as span_id:
                        loop.feed(provider.complete(loop.messages, iterate_request.model), span_id)
            except ProviderError as exc:
                answer, status = _provider_failed(session, trace_id, exc)
            else:
                answer, status = _finish(session, trace_id, loop)
        return Response(answer, status=status)


async def iterate_async(request: HttpRequest) -> JsonResponse:
    """The same endpoint as an async Django view, logging with ``asend``."""
    if request.method != "POST":
        return JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405)
    try:
        data = json.loads(request.body or b"null")
    except ValueError as exc:
        return JsonResponse({"detail": f"JSON parse error - {exc}"}, status=400)
    body = IterateBodySerializer(data=data)
    if not body.is_valid():
        return JsonResponse(body.errors, status=400)
    iterate_request, provider, loop = _prepare(request, body)
    trace_id = iterate_request.trace_id
    async with iterate_session(iterate_request, sender=iterate_async) as session:
        try:
            while not loop.done:
                with session.attempt(loop.next_iteration) as span_id:
                    loop.feed(await provider.acomplete(loop.messages, iterate_request.model), span_id)
        except ProviderError as exc:
            answer, status = _provider_failed(session, trace_id, exc)
        else:
            answer, status = _finish(session, trace_id, loop)
    return JsonResponse(answer, status=status)


def index(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "service": "django-sessionlog example iterate service",
            "endpoints": {"POST /v1/iterate": "DRF view", "POST /v1/iterate-async": "async view"},
            "body": {
                "kind": "fill | email | playbook",
                "prompt": "text",
                "model?": "",
                "provider?": "demo | openai",
                "max_iterations?": "1..20, default 3",
            },
        }
    )
