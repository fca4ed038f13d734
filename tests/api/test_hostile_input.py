"""Input a fuzzer threw at the API: every answer is a 4xx problem, never a 500, and nothing
is silently changed on the way in."""

from __future__ import annotations

import json

import pytest

from tests.world import ApiClient, World, problem


def test_an_absurd_page_number_is_refused(api: ApiClient) -> None:
    body = problem(api.as_("steward").get("/api/v1/materials", query_string={"page": 9223372036854775807}), 422)
    assert body["errors"][0]["pointer"] == "/page"


@pytest.mark.parametrize("number", ["1234567890123456789012345678.123", "123456789012345678901234567.12345"])
def test_a_decimal_with_more_digits_than_arithmetic_holds_is_refused(api: ApiClient, world: World,
                                                                      number: str) -> None:
    url = f"/api/v1/companies/{world.companies['A']}"
    body = problem(api.as_("admin").patch(url, json={"approval_threshold": number}), 422)
    assert body["errors"][0]["pointer"] == "/approval_threshold"


def test_a_json_number_with_too_many_places_is_refused_not_rounded(api: ApiClient, world: World) -> None:
    url = f"/api/v1/companies/{world.companies['A']}"
    raw = '{"approval_threshold": 100.0000000000000000001}'  # a float would read 100.0
    body = problem(api.as_("admin").patch(url, data=raw, content_type="application/json"), 422)
    assert "decimal places" in body["errors"][0]["detail"]


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "２０２６-12", "2026-13"])
def test_periods_outside_the_calendar_are_refused(api: ApiClient, world: World, period: str) -> None:
    refused = problem(api.as_("cost_group").post(f"/api/v1/costing/periods/{world.companies['A']}/{period}/close"),
                      422, "validation-error")
    assert refused["errors"] and refused["errors"][0]["pointer"].endswith("period"), refused


def test_deeply_nested_json_is_malformed(api: ApiClient) -> None:
    raw = "[" * 100_000 + "]" * 100_000
    problem(api.post("/api/v1/auth/token", data=raw, content_type="application/json"), 400, "malformed-request")


@pytest.mark.parametrize("text", ["\ud800", "原料\udfff批", "a\x00b"])
def test_text_no_database_can_store_is_malformed(api: ApiClient, text: str) -> None:
    raw = json.dumps({"username": text, "password": "x"})  # json.dumps escapes it as \\ud800 / \\u0000
    problem(api.post("/api/v1/auth/token", data=raw, content_type="application/json"), 400, "malformed-request")
    segment = json.dumps({"code": "S1", "name_zh": text, "name_en": "x"})
    problem(api.as_("admin").post("/api/v1/segments", data=segment, content_type="application/json"), 400,
            "malformed-request")
    assert all(s["code"] != "S1" for s in api.as_("admin").get("/api/v1/segments").get_json())  # nothing written


def test_a_nul_in_a_query_filter_is_refused(api: ApiClient) -> None:
    problem(api.as_("steward").get("/api/v1/materials", query_string={"q": "a\x00b"}), 422)


def test_an_unknown_company_is_not_found(api: ApiClient) -> None:
    problem(api.as_("cost_group").get("/api/v1/costing/periods/999999/2026-11"), 404)
    problem(api.as_("cost_group").get("/api/v1/costing/trial-balance",
                                      query_string={"company_id": 999999, "period": "2026-11"}), 404)


def test_errors_are_documented_as_problem_json(client) -> None:  # noqa: ANN001
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["components"]["responses"]["DEFAULT_ERROR"]["content"]) == {"application/problem+json"}
