"""The API's problems in the language the request asks for: Accept-Language among Chinese
and English (q-values and regional tags honoured), English when it names neither, so a
client built against the English texts keeps them and a browser set to Chinese reads
Chinese. The title, the detail and each field's detail are translated; ``type`` and the
pointers stay as they are (a client branches on them)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.world import ApiClient, World


def unsound(credit: ApiClient) -> dict[str, Any]:
    params = copy.deepcopy(credit.get("/api/v1/credit/model").get_json()["parameters"])
    params["factors"][0]["weight"] += 1  # 101 in all
    return {**params, "reason": "x"}


@pytest.mark.parametrize("accept", [None, "en-US,en;q=0.9,zh;q=0.8", "fr-FR", "*"])
def test_without_chinese_asked_for_the_problem_is_english(api: ApiClient, accept: str | None) -> None:
    credit = api.as_("credit")
    headers = {"Accept-Language": accept} if accept else {}
    refused = credit.post("/api/v1/credit/model/versions", json=unsound(credit), headers=headers)
    body = refused.get_json()
    assert refused.status_code == 422 and refused.headers["Content-Language"] == "en"
    assert "Accept-Language" in refused.headers["Vary"]
    assert body["title"] == "The credit model's parameters are not usable"
    assert body["detail"] == "the parameters are not usable: weights add up to 101, not 100"
    assert body["errors"] == [{"pointer": "/factors", "detail": "weights add up to 101, not 100"}]


@pytest.mark.parametrize("accept", ["zh-CN,zh;q=0.9,en;q=0.8", "zh", "en;q=0.5, zh-Hans;q=0.9"])
def test_a_request_that_prefers_chinese_reads_the_problem_in_chinese(api: ApiClient, accept: str) -> None:
    credit = api.as_("credit")
    refused = credit.post("/api/v1/credit/model/versions", json=unsound(credit), headers={"Accept-Language": accept})
    body = refused.get_json()
    assert refused.status_code == 422 and refused.headers["Content-Language"] == "zh"
    assert body["type"] == "/problems/credit-model-parameters-invalid"
    assert body["title"] == "信用模型参数不可用"
    assert body["detail"] == "参数不可用：权重合计为 101，而不是 100"
    assert body["errors"] == [{"pointer": "/factors", "detail": "权重合计为 101，而不是 100"}]


def test_a_schema_refusal_and_a_missing_record_read_in_chinese(api: ApiClient) -> None:
    credit = api.as_("credit")
    zh = {"Accept-Language": "zh-CN"}
    missing = credit.post("/api/v1/credit/model/versions", json={}, headers=zh).get_json()
    assert missing["title"] == "请求内容无效"
    assert {"pointer": "/reason", "detail": "缺少必填字段"} in missing["errors"]
    english = credit.post("/api/v1/credit/model/versions", json={}).get_json()
    assert {"pointer": "/reason", "detail": "a required field is missing"} in english["errors"]
    unknown = credit.get("/api/v1/credit/model", query_string={"version": "9"}, headers=zh)
    assert unknown.status_code == 422 and unknown.headers["Content-Language"] == "zh"
    assert unknown.get_json()["errors"] == [{"pointer": "/version", "in": "query", "detail": "未知字段"}]


def test_a_credit_decision_in_an_answer_reads_in_the_language_asked_for(api: ApiClient, world: World) -> None:
    credit = api.as_("credit")
    customer = world.customers["cust1"]
    checked = {language: credit.get(f"/api/v1/credit/customers/{customer}", query_string={"amount": "1000.00"},
                                    headers={"Accept-Language": language}) for language in ("zh-CN", "en")}
    assert {k: v.status_code for k, v in checked.items()} == {"zh-CN": 200, "en": 200}
    # No approved limit: the starting limit of 100,000 applies; nothing open yet.
    # amounts as money: ¥ and cents in Chinese, the plain figure with its cents in English (erp.messages.Amount)
    assert checked["zh-CN"].get_json()["check"]["detail"] == "此操作后信用占用为 ¥1,000.00，信用额度为 ¥100,000.00"
    assert checked["en"].get_json()["check"]["detail"] == "exposure after this action is 1000.00 of a limit of 100000.00"


def test_a_fields_bounds_read_in_chinese_with_the_figures_filled_in(api: ApiClient, world: World) -> None:
    """The project's own field messages with values in them (a bound, the decimal places, the
    days a date may fall on) are messages too: Chinese with the figures for a reader who asks
    for it, the same English as before for everyone else."""
    credit = api.as_("credit")
    data = {"customer_type": "hospital", "reason": "x", "valid_from": "2026-06-01",
            "registered_capital": "-1", "annual_turnover": "1.001", "statement_date": "1980-01-01"}
    url = f"/api/v1/credit/customers/{world.customers['cust1']}/credit-data"
    answers = {language: credit.post(url, json=data, headers={"Accept-Language": language})
               for language in ("zh-CN", "en")}
    assert {language: answer.status_code for language, answer in answers.items()} == {"zh-CN": 422, "en": 422}
    details = {language: {e["pointer"]: e["detail"] for e in answer.get_json()["errors"]}
               for language, answer in answers.items()}
    # Money is Numeric(18, 2): at most 9,999,999,999,999,999.99; a Day lies in 1990-2199.
    assert details["zh-CN"] == {
        "/registered_capital": "须在 0 与 9,999,999,999,999,999.99 之间",
        "/annual_turnover": "最多允许 2 位小数",
        "/statement_date": "须在 1990-01-01 与 2199-12-31 之间",
    }
    assert details["en"] == {
        "/registered_capital": "must be between 0 and 9999999999999999.99",
        "/annual_turnover": "at most 2 decimal places are allowed",
        "/statement_date": "must be between 1990-01-01 and 2199-12-31",
    }
    unbounded = credit.get("/api/v1/credit/limit-suggestions", query_string={"run_id": "0"},
                           headers={"Accept-Language": "zh-CN"})
    assert unbounded.status_code == 422
    assert unbounded.get_json()["errors"] == [
        {"pointer": "/run_id", "in": "query", "detail": "须在 1 与 2147483647 之间"}]


def test_a_bound_checked_by_a_validator_reads_in_chinese_too(api: ApiClient) -> None:
    """A field checked by a bound validator (a factor's weight, 0-100: erp.schemas.Between) is
    worded with the project's template and its figures filled in, as the decimal fields are;
    a reader who asks for Chinese reads Chinese (tests/ui/test_field_messages.py: whatever
    marshmallow's own wording)."""
    credit = api.as_("credit")
    params = unsound(credit)
    params["factors"][0]["weight"] = 101
    answers = {language: credit.post("/api/v1/credit/model/versions", json=params,
                                     headers={"Accept-Language": language}) for language in ("zh-CN", "en")}
    details = {language: {e["pointer"]: e["detail"] for e in answer.get_json()["errors"]}
               for language, answer in answers.items()}
    assert details["zh-CN"]["/factors/0/weight"] == "须在 0 与 100 之间"
    assert details["en"]["/factors/0/weight"] == "must be between 0 and 100"
