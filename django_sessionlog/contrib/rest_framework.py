"""Django REST framework pieces for iterate endpoints.

Kept apart from the core so a host without DRF still logs: only importing
this module needs ``rest_framework``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..write.records import IterateRequest

#: Longest prompt accepted. The row keeps 4000 characters of it; the bound
#: only stops a request body from carrying megabytes to the model.
PROMPT_MAX_LENGTH = 32_000


class IterateRequestSerializer(serializers.Serializer[Any]):
    """The body of an iterate request: ``kind`` and ``prompt`` required.

    Subclass it to restrict ``kind`` to the kinds a service knows
    (``kind = serializers.ChoiceField(choices=[...])``).
    """

    kind = serializers.CharField(max_length=64)
    prompt = serializers.CharField(max_length=PROMPT_MAX_LENGTH, trim_whitespace=False)
    model = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    provider = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    max_iterations = serializers.IntegerField(min_value=1, max_value=20, default=3)

    def to_iterate_request(self, trace_id: str = "") -> IterateRequest:
        """The validated body as the ``IterateRequest`` of the signal."""
        data = self.validated_data
        return IterateRequest(
            trace_id=trace_id,
            kind=data["kind"],
            model=data["model"],
            provider=data["provider"],
            prompt=data["prompt"],
            max_iterations=data["max_iterations"],
        )
