"""DVT axis, revision 2: only a negative whole-leg duplex excludes; DVT site, side and date for the new rules;
MRI pelvis without contrast counts as the mass study only in pregnancy."""
from __future__ import annotations

import pytest

from cds_service.pathway import axes
from cds_service.pathway.facts import DuplexExtent, ImagingKind, Side, ThrombusResult
from tests.helpers.facts import cond, duplex, dvt_dx, imaging, left_swelling, mass, pelvic, run, swelling


@pytest.mark.parametrize("extent, value", [
    (DuplexExtent.WHOLE_LEG, axes.EXCLUDED),
    (DuplexExtent.LIMITED, axes.UNASSESSED),
    (DuplexExtent.UNKNOWN, axes.UNASSESSED),
])
def test_negative_pelvic_venography_excludes_only_after_a_whole_leg_duplex(extent, value):
    a = run(left_swelling(duplex_results=[duplex(days=3, extent=extent)], pelvic_venography=[pelvic(days=1)]))
    assert a.dvt_axis == value
    assert (a.dvt.limited_study is not None) == (extent != DuplexExtent.WHOLE_LEG)


@pytest.mark.parametrize("extent, limited", [
    (DuplexExtent.WHOLE_LEG, False), (DuplexExtent.LIMITED, True), (DuplexExtent.UNKNOWN, True),
])
def test_pelvic_imaging_needed_keeps_the_limited_study(extent, limited):
    a = run(left_swelling(duplex_results=[duplex(days=3, extent=extent)], masses=[mass(days=5)]))
    assert a.dvt_axis == axes.PELVIC_IMAGING_NEEDED
    assert (a.dvt.limited_study is not None) == limited


def test_limited_duplex_without_trigger_stays_unassessed():
    a = run(left_swelling(duplex_results=[duplex(days=3, extent=DuplexExtent.LIMITED)]))
    assert a.dvt_axis == axes.UNASSESSED and a.dvt.limited_study is not None


def test_confirming_events_carry_site_side_and_date():
    f = left_swelling(
        dvt_diagnoses=[dvt_dx(days=2, distal=True), dvt_dx(days=1, side=Side.RIGHT)],
        pelvic_venography=[pelvic(result=ThrombusResult.PRESENT, days=1)],
        duplex_results=[duplex(result=ThrombusResult.PRESENT, days=1, side=Side.LEFT)],
    )
    events = {(e.evidence.ref, e.site, e.side) for e in run(f).dvt.events}
    assert events == {
        ("Condition/dvt-2", axes.SITE_DISTAL, Side.LEFT),
        ("Condition/dvt-1", axes.SITE_UNSPECIFIED, Side.RIGHT),
        ("DiagnosticReport/ctv-1", axes.SITE_PROXIMAL, Side.UNKNOWN),
        ("DiagnosticReport/duplex-1", axes.SITE_UNSPECIFIED, Side.LEFT),
    }


def test_no_events_unless_confirmed():
    assert run(left_swelling(duplex_results=[duplex()])).dvt.events == ()


PREGNANT = [cond("Condition/pregnancy", days=100)]


@pytest.mark.parametrize("pregnancy, kind, characterized", [
    (PREGNANT, ImagingKind.MASS_STUDY_IN_PREGNANCY, True),
    ([], ImagingKind.MASS_STUDY_IN_PREGNANCY, False),  # MRI without contrast: not the mass study
    ([], ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS, True),
    (PREGNANT, ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS, True),
])
def test_mri_without_contrast_images_the_mass_only_in_pregnancy(pregnancy, kind, characterized):
    a = run(left_swelling(swellings=[swelling()], masses=[mass(days=20)], pregnancy=pregnancy,
                          imaging=[imaging(kind, days=10)]))
    assert (a.mass_uncharacterized is None) == characterized
    assert (a.mass_imaged_nature_unknown is not None) == characterized
