"""The pathway view reads a fixture's record as the hooks do; axis marks and the IVUS threshold by value."""
from dataclasses import replace

from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import load_value_sets
from cds_service.fixtures import all_fixtures
from cds_service.pathway.settings import PathwaySettings
from cds_service.services.base import HookCall
from cds_service.smart.timeline import layout
from cds_service.smart.view_model import pathway_view

FIXTURES = {f.id: f for f in all_fixtures()}
VALUE_SETS = load_value_sets()


def view_of(fixture_id: str, settings: PathwaySettings | None = None):
    fixture = FIXTURES[fixture_id]
    record = PatientRecord(patient=fixture.patient)
    for resource in fixture.record():
        record.resources.setdefault(resource["resourceType"], []).append(resource)
    call = HookCall(service_id="iliac-vein-patient-view", hook="patient-view", hook_instance="view-model-test",
                    context={"patientId": fixture.patient_id}, record=record, now=fixture.now,
                    rule_url=lambda rule_id: f"https://cds.test/rules/{rule_id}", value_sets=VALUE_SETS,
                    pathway=settings or PathwaySettings())
    return pathway_view(call)


def test_stent_candidate_axes_and_deciding_evidence():
    view = view_of("may-thurner-stent-candidate")
    assert [(r.key, r.state) for r in view.rows] == [("dvt", "excluded"), ("lesion", "nivl-confirmed"), ("stent", "none")]
    ivus = next(m for m in view.row("lesion").marks if m.label == "IVUS stenosis")
    assert (ivus.value, ivus.percent, ivus.deciding, ivus.date) == ("75 %", 75.0, True, "2026-11-16")
    assert view.ivus.above is True
    duplex = next(m for m in view.row("dvt").marks if m.label.startswith("Duplex"))
    assert duplex.deciding and "no thrombus" in duplex.label


def test_the_site_threshold_changes_the_comparison_and_the_line():
    site = replace(PathwaySettings(), ivus_stenosis_threshold_pct=80.0)
    view = view_of("may-thurner-stent-candidate", site)
    assert view.ivus.threshold == 80.0 and view.ivus.above is False
    assert view.row("lesion").state == "below-threshold"
    assert layout(view.rows, view.now, view.threshold_pct).threshold.label == "IVUS threshold 80 %"


def test_61_percent_exactly_is_not_above():
    view = view_of("ivus-stenosis-exactly-61-percent")
    assert view.ivus.value == 61.0 and view.ivus.above is False


def test_post_stent_schedule_marks():
    view = view_of("stent-250-days-six-month-study-missed")
    stent = view.row("stent")
    assert stent.state == "post-stent"
    due = [m.label for m in stent.marks if m.kind == "due"]
    assert due[:3] == ["Study due by day 30", "Study due by day 182", "Study due by day 365"]
    assert any(m.kind == "stent" and m.deciding for m in stent.marks)


def test_timeline_places_ivus_above_the_threshold_line_and_keeps_labels_apart():
    view = view_of("may-thurner-stent-candidate")
    t = layout(view.rows, view.now, view.threshold_pct)
    lesion = next(lane for lane in t.lanes if lane.row.key == "lesion")
    ivus = next(p for p in lesion.marks if p.mark.label == "IVUS stenosis")
    assert ivus.y < t.threshold.y  # 75 % sits above the 61 % line (SVG y grows downwards)
    assert t.threshold.band_top < t.threshold.y < t.threshold.band_bottom
    same_day = [p for p in lesion.marks if p.mark.percent is None]
    assert len({p.label_y for p in same_day}) == len(same_day)  # four same-day marks, four label rows
    assert all(t.left <= p.x <= t.right for lane in t.lanes for p in lane.marks)
    assert t.left <= t.now_x <= t.right
