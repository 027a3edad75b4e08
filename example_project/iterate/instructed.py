"""``POST /v1/fill-instructor``: the fill kind served by instructor's own retry loop, logged in one line.

The hand-written loop (``loop.py``) and instructor ask the same provider for
the same artifact; instructor validates with a pydantic model and retries by
itself, and ``logged(...)`` turns each call into a row of kind
``fill-instructor``, next to the hand-written ``fill`` rows. The demo model
answers through an OpenAI-compatible endpoint served in-process (an httpx
mock transport: no network); ``provider: "openai"`` uses
``OPENAI_BASE_URL``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import instructor
import openai
from django.conf import settings
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel, model_validator
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_sessionlog.contrib.instructor import logged

from . import kinds, roster
from .providers import OpenAIProvider, Provider, ProviderError, get_provider, tokens
from .serializers import IterateBodySerializer

KIND = "fill-instructor"


class Fill(BaseModel):
    """A fill, checked by the same rules as the hand-written loop's (``kinds.py``)."""

    shift: str
    workers: list[str]

    @model_validator(mode="after")
    def on_the_roster(self) -> Fill:
        try:
            kinds.validate("fill", self.model_dump())
        except kinds.ValidationFailed as exc:
            raise ValueError(str(exc)) from exc
        return self


def demo_endpoint(provider: Provider) -> httpx2.MockTransport:
    """An OpenAI-compatible chat endpoint answered by ``provider`` in this process."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        messages = [
            {"role": str(m.get("role", "")), "content": m.get("content") or ""}
            for m in body.get("messages", [])
        ]
        try:
            text = provider.complete(messages, body.get("model", ""))
        except ProviderError as exc:
            return httpx2.Response(503, json={"error": {"message": str(exc), "type": "unavailable"}})
        prompt_tokens = sum(tokens(m["content"]) for m in messages)
        return httpx2.Response(
            200,
            json={
                "id": "chatcmpl-demo",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", ""),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": tokens(text),
                    "total_tokens": prompt_tokens + tokens(text),
                },
            },
        )

    return httpx2.MockTransport(answer)


def openai_client(provider: Provider) -> openai.OpenAI:
    # max_retries=0: instructor's retries are the session's attempts; the
    # SDK's own retries of a 5xx would hide the outage.
    if isinstance(provider, OpenAIProvider):
        return openai.OpenAI(
            base_url=getattr(settings, "OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
            api_key=getattr(settings, "OPENAI_API_KEY", "") or "none",
            timeout=getattr(settings, "OPENAI_TIMEOUT", 60.0),
            max_retries=0,
        )
    return openai.OpenAI(
        base_url="http://demo.invalid/v1",
        api_key="demo",
        max_retries=0,
        http_client=httpx2.Client(transport=demo_endpoint(provider)),
    )


class FillWithInstructorView(APIView):
    """The fill kind through instructor: 200 accepted, 422 retries exhausted, 502 provider failed."""

    authentication_classes: list[Any] = []  # noqa: RUF012 (DRF's own attribute)

    def post(self, request: Request) -> Response:
        given = request.data
        body = IterateBodySerializer(data={**given, "kind": "fill"} if isinstance(given, dict) else given)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        provider = get_provider(data["provider"])
        model = data["model"] or provider.default_model
        with openai_client(provider) as raw:
            # The one line: every structured call of this client is a row.
            client = logged(
                instructor.from_openai(raw, mode=instructor.Mode.MD_JSON),
                kind=KIND,
                provider=provider.name,
                roster_check=roster.grounded,
            )
            try:
                fill = client.chat.completions.create(
                    model=model,
                    response_model=Fill,
                    max_retries=data["max_iterations"] - 1,
                    messages=[
                        {"role": "system", "content": kinds.INSTRUCTIONS["fill"]},
                        {"role": "user", "content": data["prompt"]},
                    ],
                )
            except InstructorRetryException as exc:
                if isinstance(exc.__cause__, openai.APIError):
                    return Response({"error": str(exc.__cause__)}, status=502)
                return Response({"iterations": exc.n_attempts, "error": str(exc.__cause__)}, status=422)
        return Response({"artifact": fill.model_dump(mode="json")}, status=200)
