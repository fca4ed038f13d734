"""A refusal names the field by the words of the page, never by the API's field path (trial
finding 127: a specification's refusal printed a JSON pointer such as ``/lines/0/value``).
The specification form's characteristic rows are labelled by column and row ("下限 3"), and a
path no input labels reads as its list's word and its line."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy.orm import Session, sessionmaker

from erp.clock import business_today
from erp.ui.pages import unlabelled_field
from tests.quality import group_qa
from tests.ui.conftest import shown, sign_in
from tests.world import World

PATH = re.compile(r"\b(?:characteristics|lines|results)(?:/\d+)+")


def _refused(client: FlaskClient, material: int, token: str, rows: dict[str, str]) -> str:
    form = {"effective_from": business_today().isoformat(), "reason": "药典修订", "csrf_token": token, **rows}
    refused = client.post(f"/quality/specifications/{material}", data=form)
    assert refused.status_code == 422, refused.status_code
    return refused.get_data(as_text=True)


def test_a_specifications_refusal_names_the_characteristic_by_its_column_and_row(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    group_qa(session_factory, world)
    material = world.materials["api_central"]
    token = sign_in(client, world, "qa_group")
    # row 1 left empty, the third row's limits the wrong way round: named by the form's row
    page = _refused(client, material, token, {"c0-code": "ASSAY", "c0-minimum": "98", "c0-maximum": "102",
                                              "c2-code": "PH", "c2-minimum": "7", "c2-maximum": "5"})
    top = shown(page, "refusal")
    assert "下限 3" in top and not PATH.search(top) and "characteristics" not in top, top
    assert shown(page, "error-c2-minimum")
    assert 'name="c2-minimum" aria-label="下限 3" value="7"' in page  # nothing typed is lost
    # a limit that is not a number
    page = _refused(client, material, token, {"c1-code": "ASSAY", "c1-minimum": "abc"})
    assert shown(page, "refusal").endswith("下限 2：请输入数字") and shown(page, "error-c1-minimum") == "请输入数字"
    # no characteristic at all: the list by its word
    page = _refused(client, material, token, {})
    assert shown(page, "refusal").startswith("检验项目：") and shown(page, "error-characteristics")


def test_a_field_path_no_input_labels_reads_as_words(app: Flask) -> None:
    with app.test_request_context("/"), force_locale("zh"):
        assert unlabelled_field("/lines/0/value") == "取值 第 1 行"
        assert unlabelled_field("results/2") == "检验结果 第 3 行"
        assert unlabelled_field("characteristics") == "检验项目"
        assert unlabelled_field("rows/4/whatever") == "第 5 行"
        assert unlabelled_field("posting_day") is None
