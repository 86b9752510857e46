"""An organisation: a trust, a practice, a pharmacy, a group... that hosts communities
and is the home of members."""

from __future__ import annotations

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.registry.domain.values import OrganisationKind


class Organisation(TracedAggregate):
    @event("Registered")
    def __init__(self, name: str, kind: str, region: str, ods_code: str | None):
        self.name = name
        self.kind = OrganisationKind(kind)
        self.region = region
        self.ods_code = ods_code
        self.retired = False

    def _check_not_retired(self) -> None:
        if self.retired:
            raise FailedPrecondition(f"organisation {self.id} is retired")

    def rename(self, name: str) -> None:
        self._check_not_retired()
        if name != self.name:
            self._renamed(name)

    def change_kind(self, kind: OrganisationKind) -> None:
        self._check_not_retired()
        if kind != self.kind:
            self._kind_changed(kind.value)

    def change_region(self, region: str) -> None:
        self._check_not_retired()
        if region != self.region:
            self._region_changed(region)

    def change_ods_code(self, ods_code: str | None) -> None:
        self._check_not_retired()
        if ods_code != self.ods_code:
            self._ods_code_changed(ods_code)

    def retire(self) -> None:
        self._check_not_retired()
        self._retired()

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    @event("KindChanged")
    def _kind_changed(self, kind: str) -> None:
        self.kind = OrganisationKind(kind)

    @event("RegionChanged")
    def _region_changed(self, region: str) -> None:
        self.region = region

    @event("OdsCodeChanged")
    def _ods_code_changed(self, ods_code: str | None) -> None:
        self.ods_code = ods_code

    @event("Retired")
    def _retired(self) -> None:
        self.retired = True
