"""Sites are created, and the default flag moved, in one place: `events.sites`."""

from __future__ import annotations

import pytest

from events.models import Site
from events.sites import create_site, make_default

pytestmark = pytest.mark.django_db


def defaults() -> list[str]:
    return list(Site.objects.filter(is_default=True).values_list("name", flat=True))


def test_a_new_default_site_takes_the_flag_from_the_old_one_and_a_plain_site_leaves_it(site):
    create_site(name="Plain")
    assert defaults() == [site.name]
    newer = create_site(name="Newer", default=True, allowed_origins=["https://example.org"])
    assert defaults() == ["Newer"] and newer.allowed_origins == ["https://example.org"]
    make_default(site=site)
    make_default(site=site)
    assert defaults() == [site.name]


def test_ticking_default_on_another_site_in_admin_moves_the_flag_instead_of_failing(site, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "root-pass-123")
    client.force_login(admin)
    form = {"name": "Second", "allowed_origins": "[]", "ip_privacy": "anonymised", "default": "on"}
    response = client.post("/admin/events/site/add/", form, follow=True)
    assert response.status_code == 200, response.context["adminform"].form.errors
    assert defaults() == ["Second"], response.context["adminform"].form.errors
    second = Site.objects.get(name="Second")
    response = client.post(
        f"/admin/events/site/{site.pk}/change/", {**form, "name": site.name, "allowed_origins": "[]"}, follow=True
    )
    assert response.status_code == 200
    assert defaults() == [site.name] and second.pk != site.pk
