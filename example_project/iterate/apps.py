from django.apps import AppConfig


class IterateConfig(AppConfig):
    name = "iterate"
    verbose_name = "Iterate service"
