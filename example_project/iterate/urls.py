from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from . import views

urlpatterns = [
    path("", views.index),
    path("v1/iterate", views.IterateView.as_view(), name="iterate"),
    path("v1/iterate-async", csrf_exempt(views.iterate_async), name="iterate-async"),
]
