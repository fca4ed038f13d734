"""Row errors in the user's language.

A row error is stored as data: ``{row, column, header, value, code, params, detail}``.
``code`` names the rule and ``params`` fill its message; ``detail`` is the English text of
the rule that refused the value (domain errors and field checks say it in English), kept
as the fallback. Rendering picks the message of ``code`` in the caller's language.

When the UI's Flask-Babel catalogues land, these templates move into them (same codes).
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (Chinese, English)
    "unknown-column": ("表头“{header}”不是本模板的列", 'the header "{header}" is not a column of this template'),
    "duplicate-column": ("列“{header}”出现了两次", 'the column "{header}" appears twice'),
    "missing-column": ("缺少必需的列：{column}", "the required column {column} is missing"),
    "empty-file": ("文件没有数据行", "the file has no data rows"),
    "required": ("必填，不能为空", "a value is required"),
    "not-a-number": ("“{value}”不是数字", '"{value}" is not a number'),
    "not-a-whole-number": ("“{value}”不是整数", '"{value}" is not a whole number'),
    "not-a-date": ("“{value}”不是日期（应为 YYYY-MM-DD）", '"{value}" is not a date (YYYY-MM-DD)'),
    "not-yes-no": ("“{value}”不是“是/否”", '"{value}" is not yes or no'),
    "not-one-of": ("必须是以下之一：{choices}", "must be one of: {choices}"),
    "invalid-uscc": ("不是有效的统一社会信用代码（{reason}）", "not a valid unified social credit code ({reason})"),
    "invalid-value": ("值无效：{detail}", "invalid value: {detail}"),
    "duplicate-in-file": ("{value} 在第 {first_row} 行已经出现过", "{value} already appears in row {first_row}"),
    "duplicate-code": ("编码 {value} 已被{record}“{name}”使用", "code {value} is already used by {record} {name}"),
    "code-uscc-mismatch": ("编码 {value} 已属于信用代码为 {uscc} 的{record}", "code {value} already belongs to the {record} with USCC {uscc}"),
    "unknown-reference": ("没有编码为 {value} 的{record}", "no {record} with code {value}"),
    "inactive-reference": ("{record} {value} 已停用", "{record} {value} is inactive"),
    "already-set": ("{what}已存在，请在系统中修改", "{what} is already set; change it in the system instead"),
    "not-of-company": ("{record} {value} 不属于公司 {company}", "{record} {value} does not belong to company {company}"),
    "rule": ("业务规则不允许：{detail}", "refused by a business rule: {detail}"),
}

RECORD_NAMES: dict[str, tuple[str, str]] = {
    "unit": ("计量单位", "unit"), "material": ("物料", "material"), "supplier": ("供应商", "supplier"),
    "customer": ("客户", "customer"), "warehouse": ("仓库", "warehouse"), "company": ("公司", "company"),
    "contract": ("合同", "contract"), "segment": ("板块", "segment"),
}


def language(accept: Any = None, requested: str | None = None) -> str:
    """The language to answer in: ``requested`` if supported, else the best of the
    Accept-Language header, else Chinese (the product's default)."""
    if requested in LANGUAGES:
        return requested  # type: ignore[return-value]
    if accept is not None:
        best = accept.best_match(["zh", "zh-CN", "en"])
        if best:
            return "zh" if best.startswith("zh") else "en"
    return DEFAULT_LANGUAGE


def render(error: dict[str, Any], lang: str) -> dict[str, Any]:
    """The error with ``reason`` in ``lang`` (the stored fields are kept)."""
    index = 0 if lang == "zh" else 1
    params = dict(error.get("params") or {})
    record = params.get("record")
    if record in RECORD_NAMES:
        params["record"] = RECORD_NAMES[record][index]
    template = MESSAGES.get(error.get("code", ""))
    if template is None:
        reason = error.get("detail") or error.get("code", "")
    else:
        params.setdefault("detail", error.get("detail", ""))
        params.setdefault("value", error.get("value", ""))
        try:
            reason = template[index].format(**params)
        except (KeyError, IndexError):
            reason = error.get("detail") or template[index]
    return {**error, "reason": reason}


def render_all(errors: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [render(error, lang) for error in errors]
