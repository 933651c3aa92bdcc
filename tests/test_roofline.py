"""The roofline figure's data is what docs/scripts/roofline.py reads from the stored measurements today."""

import json
from pathlib import Path

from scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return load_script(ROOT / "docs" / "scripts" / "roofline.py")


def test_committed_roofline_data_matches_the_measurements():
    script = _script()
    committed = json.loads((ROOT / "docs" / "figures" / "roofline.json").read_text())
    assert committed == json.loads(json.dumps([script.cpu_roofline(), script.h100_roofline()] + script.gpu_panels())), (
        "docs/figures/roofline.json is out of date: run `python docs/scripts/roofline.py` and commit the figure")


def test_every_ceiling_and_point_is_a_positive_measurement():
    script = _script()
    for panel in [script.cpu_roofline(), script.h100_roofline()] + script.gpu_panels():
        assert panel["peaks_gflops"] and panel["bandwidth_gbs"] and panel["points"]
        assert all(value > 0 for value in [*panel["peaks_gflops"].values(), *panel["bandwidth_gbs"].values()])
        assert all(point["gflops"] > 0 and point["intensity"] > 0 for point in panel["points"])
