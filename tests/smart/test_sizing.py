"""The sizing panel: D+1 to D+4 mm, at least 60 mm, from PathwaySettings; a draft order checked in decimal."""
from dataclasses import replace
from datetime import UTC, datetime

from cds_service.pathway.facts import DraftOrder, Evidence, Measurement, OrderKind
from cds_service.pathway.settings import PathwaySettings
from cds_service.smart.sizing import stent_sizing

WHEN = datetime(2026, 11, 16, tzinfo=UTC)


class _Assessment:  # the one field sizing reads
    def __init__(self, reference: float | None):
        self.eiv_reference = None if reference is None else Measurement(Evidence("Observation/r", "EIV", WHEN), reference, "mm")


def _order(diameter: float | None, length: float | None) -> DraftOrder:
    return DraftOrder(ref="DeviceRequest/d", resource_type="DeviceRequest", display="Venous stent", kind=OrderKind.STENT,
                      diameter_mm=diameter, length_mm=length)


def test_range_and_length_from_the_reference():
    sizing = stent_sizing(_Assessment(14.0), PathwaySettings())
    assert (sizing.reference_mm, sizing.diameter_min_mm, sizing.diameter_max_mm, sizing.min_length_mm) == (14, 15, 18, 60)
    assert sizing.whole_mm_diameters == (15, 16, 17, 18) and sizing.reference_date == "2026-11-16"


def test_decimal_reference_and_site_settings():
    site = replace(PathwaySettings(), min_stent_length_mm=80.0, oversize_max_mm=3.0)
    sizing = stent_sizing(_Assessment(12.3), site)
    assert (sizing.diameter_min_mm, sizing.diameter_max_mm, sizing.min_length_mm) == (13.3, 15.3, 80.0)
    assert sizing.whole_mm_diameters == (14, 15)


def test_no_panel_without_a_readable_reference():
    assert stent_sizing(_Assessment(None), PathwaySettings()) is None


def test_draft_order_checks_at_the_bounds():
    s = PathwaySettings()

    def meets(diameter: float, length: float) -> list[bool]:
        return [c.meets for c in stent_sizing(_Assessment(14.0), s, _order(diameter, length)).order.checks]

    assert meets(15, 60) == [True, True]
    assert meets(18, 59.9) == [True, False]
    assert meets(14.9, 90) == [False, True]
    assert meets(18.1, None) == [False, None]
