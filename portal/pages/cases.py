"""The case list: the cases the organisation leads, and those whose summary a partner has been
shown.  Filters, sorting and the page are kept in the URL, so a reload or a shared link shows
the same list."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.case_list import CaseSort, StatusFilter, case_list_choices, list_cases
from panels.vocabulary import CaseStage, CaseType
from portal import routes
from portal.auth_state import AuthState
from portal.case_params import ListQuery, at_page, list_url, parse_list_query, query_params, showing
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from sharing.permissions import Actor

PAGE_SIZE = 25
STATUS_OPTIONS = [
    (StatusFilter.OPEN.value, "Open"),
    (StatusFilter.CLOSED.value, "Closed"),
    (StatusFilter.ALL.value, "All"),
]
STAGE_OPTIONS = [(s.value, s.label) for s in CaseStage]
TYPE_OPTIONS = [(t.value, t.label) for t in CaseType]
SORT_OPTIONS = [(s.value, s.label) for s in CaseSort]
EMPTY_FILTERS = {
    "status": "open",
    "risk": "",
    "stage": "",
    "type": "",
    "officer": "",
    "overdue": "",
    "review": "",
    "q": "",
    "sort": "newest",
}


def _form_values(query: ListQuery) -> dict[str, str]:
    """What the filter form shows for a list view (every key present)."""
    values = dict(EMPTY_FILTERS)
    values.update(query_params(query))
    values.pop("page", None)
    return values


class CasesState(AuthState):
    rows: list[dict[str, str]] = []
    total: int = 0
    summary: str = ""
    previous_href: str = ""
    next_href: str = ""
    filtered: bool = False
    form_key: str = ""  # the current view: a new view redraws the filter form with its values
    values: dict[str, str] = dict(EMPTY_FILTERS)
    loading: bool = False
    risk_options: list[dict[str, str]] = []
    officer_options: list[dict[str, str]] = []

    def _read(self, query: ListQuery) -> Any:
        def _read(session: Session, actor: Actor) -> Actor:
            choices = case_list_choices(session=session, actor=actor)
            self.risk_options = [{"value": str(rank), "label": label} for rank, label in choices.risk_levels]
            self.officer_options = [{"value": str(uid), "label": name} for uid, name in choices.lead_officers]
            page = list_cases(
                session=session, actor=actor, filters=query.filters, sort=query.sort, page=query.page,
                page_size=PAGE_SIZE,
            )  # fmt: skip
            if not page.rows and page.total and query.page > page.pages:
                # An old link past the end: show the last page rather than nothing.
                page = list_cases(
                    session=session, actor=actor, filters=query.filters, sort=query.sort, page=page.pages,
                    page_size=PAGE_SIZE,
                )  # fmt: skip
            self.rows = [
                {
                    "id": str(r.case_id),
                    "href": routes.case(r.case_id),
                    "reference": r.reference,
                    "types": r.types,
                    "stage": r.stage,
                    "status": r.status,
                    "risk": r.risk or "Not shown",
                    "assessed": "" if r.risk.startswith("Not assessed") or not r.risk else "1",
                    "first_contact": local_time(r.first_contact_due_at, empty="Not set"),
                    "overdue": "1" if r.overdue else "",
                    "lead_organisation": r.lead_organisation,
                    "lead_officer": r.lead_officer,
                    "review": "1" if r.case_review_eligible else "",
                }
                for r in page.rows
            ]
            self.total = page.total
            self.summary = showing(page.page, page.page_size, len(page.rows), page.total)
            shown = at_page(query, page.page)
            self.previous_href = list_url(routes.CASES, at_page(shown, page.page - 1)) if page.page > 1 else ""
            self.next_href = list_url(routes.CASES, at_page(shown, page.page + 1)) if page.page < page.pages else ""
            return actor

        self._show_view(query)
        self.loading = False
        return self._load(_read)

    def _show_view(self, query: ListQuery) -> None:
        self.filtered = query.filtered
        self.values = _form_values(query)
        self.form_key = list_url(routes.CASES, at_page(query, 1))

    @rx.event
    def load(self) -> Any:
        return self._read(parse_list_query(self.router.url.query_parameters))

    @rx.event
    def apply(self, form_data: dict[str, Any]) -> Any:
        """Put the chosen filters in the URL; loading that URL shows the list (page 1)."""
        query = at_page(parse_list_query({k: str(v) for k, v in form_data.items()}), 1)
        if query == parse_list_query(self.router.url.query_parameters):
            return self._read(query)  # the same URL would not load again: refresh in place
        # The form already shows this view: keep it as it is while the new list loads.
        self._show_view(query)
        self.loading = True
        return rx.redirect(list_url(routes.CASES, query))


# --- The page --------------------------------------------------------------------------------


def _select(label: str, name: str, options: list[tuple[str, str]] | Any, placeholder: str) -> rx.Component:
    field_id = f"filter-{name}"
    choices = (
        [rx.el.option(text, value=value) for value, text in options]
        if isinstance(options, list)
        else [rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"]))]
    )
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.select(
            *([rx.el.option(placeholder, value="")] if placeholder else []),
            *choices,
            id=field_id,
            name=name,
            default_value=CasesState.values[name],
            class_name="field-input",
        ),
        spacing="1",
        width="100%",
        align="stretch",
    )


def _tick(label: str, name: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, id=f"filter-{name}", default_checked=CasesState.values[name] == "1"),
        " " + label,
        html_for=f"filter-{name}",
        class_name="checkbox-label",
    )


def _filters() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Find cases", size="4", as_="h2"),
                rx.grid(
                    rx.vstack(
                        rx.el.label("Reference", html_for="filter-q", class_name="field-label"),
                        rx.el.input(
                            id="filter-q",
                            name="q",
                            type="search",
                            default_value=CasesState.values["q"],
                            class_name="field-input",
                        ),
                        spacing="1",
                        width="100%",
                        align="stretch",
                    ),
                    _select("Status", "status", STATUS_OPTIONS, ""),
                    _select("Risk", "risk", CasesState.risk_options, "Any risk"),
                    _select("Stage", "stage", STAGE_OPTIONS, "Any stage"),
                    _select("Type of behaviour", "type", TYPE_OPTIONS, "Any type"),
                    rx.cond(
                        CasesState.officer_options.length() > 0,  # type: ignore[attr-defined]
                        _select("Lead officer", "officer", CasesState.officer_options, "Any officer"),
                    ),
                    _select("Sort by", "sort", SORT_OPTIONS, ""),
                    columns=rx.breakpoints(initial="1", sm="2", md="4"),
                    spacing="3",
                    width="100%",
                ),
                rx.hstack(
                    _tick("First contact overdue", "overdue"),
                    _tick("ASB Case Review threshold met", "review"),
                    spacing="5",
                    wrap="wrap",
                ),
                rx.hstack(
                    rx.button("Apply", type="submit"),
                    rx.cond(CasesState.filtered, rx.link("Clear filters", href=routes.CASES)),
                    spacing="4",
                    align="center",
                ),
                spacing="3",
                align="start",
                width="100%",
            ),
            on_submit=CasesState.apply,
            no_validate=True,
            id="case-filters",
            key=CasesState.form_key,
        ),
        width="100%",
    )


def _badge(text: str | rx.Var[str], color: str) -> rx.Component:
    return rx.badge(text, color_scheme=color, high_contrast=True, variant="soft")


def _row(r: Any) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(r["reference"], href=r["href"], weight="medium"), white_space="nowrap"),
        rx.table.cell(r["types"]),
        rx.table.cell(rx.vstack(rx.text(r["stage"]), rx.text(r["status"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.cond(r["assessed"] == "1", _badge(r["risk"], "orange"), _badge(r["risk"], "gray"))),
        rx.table.cell(
            rx.vstack(
                rx.text(r["first_contact"]),
                rx.cond(r["overdue"] == "1", _badge("Overdue", "red")),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(r["lead_organisation"]),
                rx.text(r["lead_officer"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.cond(r["review"] == "1", _badge("Threshold met", "purple"), rx.text("No", color_scheme="gray"))
        ),
    )


def _table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Reference", "Types", "Stage", "Risk", "First contact due", "Lead", "Case Review")
                    ]
                )
            ),
            rx.table.body(rx.foreach(CasesState.rows, _row)),
            variant="surface",
            width="100%",
        ),
        rx.hstack(
            rx.text(CasesState.summary, id="case-list-summary", role="status"),
            rx.spacer(),
            rx.el.nav(
                rx.hstack(
                    rx.cond(CasesState.previous_href != "", rx.link("Previous", href=CasesState.previous_href)),
                    rx.cond(CasesState.next_href != "", rx.link("Next", href=CasesState.next_href)),
                    spacing="4",
                ),
                aria_label="Pages",
            ),
            spacing="4",
            align="center",
            width="100%",
        ),
        width="100%",
        spacing="3",
    )


def _empty() -> rx.Component:
    return rx.cond(
        CasesState.filtered,
        empty_state("No cases match these filters.", "Change or clear the filters to see more."),
        rx.cond(
            AuthState.can_manage_cases,
            empty_state("Your organisation has no open cases.", "Cases are opened by triaging a report."),
            rx.callout(
                rx.vstack(
                    rx.text("No cases have been shared with ", AuthState.organisation_name, " yet.", weight="medium"),
                    rx.text("A case appears here when the organisation leading it shares it with you.", size="2"),
                    spacing="1",
                ),
                icon="info",
                color_scheme="gray",
                variant="surface",
                width="100%",
            ),
        ),
    )


@rx.page(route=routes.CASES, title=f"Cases · {PRODUCT_NAME}", on_load=CasesState.load)
def cases_page() -> rx.Component:
    return page_shell(
        "Cases",
        _filters(),
        rx.box(
            rx.cond(CasesState.total > 0, _table(), _empty()),
            aria_busy=rx.cond(CasesState.loading, "true", "false"),
            id="case-results",
            width="100%",
        ),
        subtitle="The cases your organisation leads, and those other organisations have shared with you.",
    )
