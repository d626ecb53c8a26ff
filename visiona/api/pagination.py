"""DRF's page-number pagination, without a query for a page the count says is empty."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from rest_framework import pagination


class CountFirstPaginator(Paginator):
    """Django's paginator; when the count is 0 the first (and only) page is empty
    without asking the database again (a new user's every list)."""

    def page(self, number):
        number = self.validate_number(number)
        if self.count == 0:
            return Page([], number, self)
        return super().page(number)


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = CountFirstPaginator
