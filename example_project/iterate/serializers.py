from __future__ import annotations

from rest_framework import serializers

from django_sessionlog.contrib.rest_framework import IterateRequestSerializer

from .kinds import KINDS
from .providers import PROVIDERS


class IterateBodySerializer(IterateRequestSerializer):
    """The app's serializer, with the kinds and providers this service knows."""

    # Narrowing a CharField to a ChoiceField is the documented way to subclass.
    kind = serializers.ChoiceField(choices=KINDS)  # type: ignore[assignment]
    provider = serializers.ChoiceField(choices=PROVIDERS, required=False, default="demo")  # type: ignore[assignment]
