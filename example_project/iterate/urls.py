from django.urls import path

from . import instructed, views

urlpatterns = [
    path("", views.index),
    path("v1/iterate", views.IterateView.as_view(), name="iterate"),
    path("v1/iterate-async", views.iterate_async, name="iterate-async"),
    path("v1/fill-instructor", instructed.FillWithInstructorView.as_view(), name="fill-instructor"),
]
