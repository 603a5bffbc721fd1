from django.urls import path

from privacy import api, views

urlpatterns = [
    path("api/privacy/export/", api.ExportView.as_view(), name="privacy-export"),
    path("api/privacy/erasures/", api.ErasureView.as_view(), name="privacy-erasures"),
    path("api/privacy/erasures/<int:pk>/", api.ErasureStatusView.as_view(), name="privacy-erasure"),
    path("my-learning/my-data.zip", views.my_data, name="my-data"),
    path("my-learning/erase/", views.erase_me, name="erase-me"),
]
