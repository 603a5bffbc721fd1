from django.urls import path

from progress import views

app_name = "progress"

urlpatterns = [
    path("tutorial-search/", views.tutorial_search, name="tutorial-search"),
    path("watch/<slug:course>/<slug:tutorial>/<str:language>/", views.watch, name="watch"),
    path("my-learning/", views.my_learning, name="my-learning"),
]
