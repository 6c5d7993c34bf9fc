"""Case (being built)."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, page_shell


class CaseState(AuthState):
    pass


@rx.page(route=routes.CASE, title=f"Case · {PRODUCT_NAME}", on_load=AuthState.require_sign_in)
def case_detail_page() -> rx.Component:
    return page_shell("Case")
