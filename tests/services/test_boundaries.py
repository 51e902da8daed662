"""Locality outlines from GeoJSON: stored whole or not at all, every problem named."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Locality
from surveyapp.services.boundaries import BoundaryError, import_boundaries

SQUARE = [[[118.70, 32.00], [118.71, 32.00], [118.71, 32.01], [118.70, 32.01], [118.70, 32.00]]]


def _feature(code, geometry=None):
    return {
        "type": "Feature",
        "properties": {"code": code},
        "geometry": geometry or {"type": "Polygon", "coordinates": SQUARE},
    }


def _file(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _outline(code):
    return db.session.scalar(select(Locality).where(Locality.code == code)).boundary


def test_the_demo_ships_an_outline_per_street(demo):
    with demo.app_context():
        streets = db.session.scalars(select(Locality).where(Locality.level == "street")).all()
        assert len(streets) == 13 and all(s.boundary for s in streets)


def test_a_file_with_one_bad_feature_stores_nothing(demo):
    with demo.app_context():
        before = _outline("320106001")
        bad = _file(
            _feature("320106001"),
            _feature("999"),
            _feature("320106002", {"type": "Point", "coordinates": [1, 2]}),
            _feature("320106003", {"type": "Polygon", "coordinates": [[[500, 1], [1, 1]]]}),
        )
        with pytest.raises(BoundaryError) as refused:
            import_boundaries(bad, source="streets.geojson")
        problems = refused.value.problems
        assert len(problems) == 3
        assert "feature 2 (999): there is no locality" in problems[0]
        assert "feature 3 (320106002): the geometry must be a Polygon" in problems[1]
        assert "feature 4 (320106003): a ring needs at least 4 positions" in problems[2]
        assert _outline("320106001") == before
        for data in (b"not json", b'{"type": "Feature"}', _file()):
            with pytest.raises(BoundaryError):
                import_boundaries(data)
        report = import_boundaries(_file(_feature("320106001")))
        assert report.updated == ["320106001"]
        assert _outline("320106001")["coordinates"] == SQUARE


def test_the_command(demo, runner, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_bytes(_file(_feature("123")))
    result = runner.invoke(args=["localities", "boundaries", str(path)])
    assert result.exit_code == 1 and "没有这个代码的地区" in result.output
    path.write_bytes(_file(_feature("320106004")))
    result = runner.invoke(args=["localities", "boundaries", str(path)])
    assert result.exit_code == 0 and "已保存 1 个边界。" in result.output
