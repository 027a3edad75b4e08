from django.urls import path

from . import views

urlpatterns = [
    path("", views.index),
    path("v1/iterate", views.IterateView.as_view(), name="iterate"),
    path("v1/iterate-async", views.iterate_async, name="iterate-async"),
]
