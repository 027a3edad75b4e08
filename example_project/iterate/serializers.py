from __future__ import annotations

from rest_framework import serializers

from django_sessionlog.contrib.rest_framework import IterateRequestSerializer

from .kinds import KINDS
from .providers import PROVIDERS


class IterateBodySerializer(IterateRequestSerializer):
    """The app's serializer, with the kinds and providers this service knows."""

    kind = serializers.ChoiceField(choices=KINDS)
    provider = serializers.ChoiceField(choices=PROVIDERS, required=False, default="demo")
