"""``deliveryhub doctor`` checks of the Korean tracking sources: one authenticated call each, end to end.

tracker.delivery: a ``carrier`` query with the TRACKQL-API-KEY header, plus the tracking webhook settings
(a callback URL needs its token). Sweet Tracker: ``/api/v1/companylist`` with the t_key. Only sources with
credentials are checked; a check returns one line or raises ``ConnectionProblem`` in plain words.
"""

from __future__ import annotations

from collections.abc import Callable

from deliveryhub.adapters.connectors.base import ConnectorError, ConnectorSettings, UpstreamError
from deliveryhub.adapters.connectors.doctor import Check, ConnectionProblem
from deliveryhub.adapters.connectors.sweettracker import SweetTrackerSettings
from deliveryhub.adapters.connectors.sweettracker.client import SweetTrackerClient
from deliveryhub.adapters.connectors.trackerdelivery.client import TrackerDeliveryClient
from deliveryhub.adapters.connectors.trackerdelivery.settings import TrackerDeliverySettings, routed


def _words(label: str, exc: ConnectorError, env: str) -> ConnectionProblem:
    status = exc.status if isinstance(exc, UpstreamError) else 404
    if status in (400, 401, 403):
        return ConnectionProblem(f"{label}: refused our credentials (HTTP {status}) — check {env}")
    if status == 0:
        return ConnectionProblem(f"{label}: cannot connect ({exc}) — is the base_url right?")
    return ConnectionProblem(f"{label}: {exc}")


def tracker_checks(settings: TrackerDeliverySettings) -> list[Check]:
    """The tracker.delivery checks (none when no client id is configured)."""
    if not settings.client_id:
        return []

    def api() -> str:
        try:
            answer = TrackerDeliveryClient(settings).probe()
        except ConnectorError as exc:
            raise _words(
                "tracker.delivery", exc, "DELIVERYHUB_TRACKERDELIVERY_CLIENT_ID/_CLIENT_SECRET"
            ) from None
        carriers = ", ".join(routed(settings)) or "no carriers routed yet (carriers: cj,lotte,…)"
        return f"{answer}; tracks {carriers}"

    found: list[Check] = [("connector trackerdelivery", api)]
    if settings.callback_url and settings.callback_token is None:
        found.append(
            (
                "trackerdelivery webhook",
                _failing(
                    "tracker.delivery webhook: callback_url without callback_token — "
                    "every callback would be refused with 401"
                ),
            )
        )
    return found


def sweet_checks(settings: SweetTrackerSettings) -> list[Check]:
    """The Sweet Tracker check (none when no t_key is configured)."""
    if settings.api_key is None:
        return []

    def api() -> str:
        try:
            companies = SweetTrackerClient(settings).companies()
        except ConnectorError as exc:
            raise _words("Sweet Tracker", exc, "DELIVERYHUB_SWEETTRACKER_API_KEY") from None
        return f"Sweet Tracker answers with our t_key ({len(companies)} carriers listed)"

    return [("connector sweettracker", api)]


def _failing(message: str) -> Callable[[], str]:
    def check() -> str:
        raise ConnectionProblem(message)

    return check


def checks(settings_of: Callable[[str], ConnectorSettings]) -> list[Check]:
    """Every configured Korean tracking source's checks (``settings_of`` = connector_settings of a hub)."""
    found: list[Check] = []
    tracker, sweet = settings_of("trackerdelivery"), settings_of("sweettracker")
    if isinstance(tracker, TrackerDeliverySettings):
        found.extend(tracker_checks(tracker))
    if isinstance(sweet, SweetTrackerSettings):
        found.extend(sweet_checks(sweet))
    return found
