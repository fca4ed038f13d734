"""Every page shows records by name and statuses by their word: walked for every demo user.

The product's rule (docs/ui.md): a record is shown by code and name ("FORM01 …"), never a
bare code or id; a status by its translated word, never the raw enum value. This test signs
in every user of the demo group (tests/demo_pages.py adds production, a return, quarantined
stock, an intercompany sale and a close job to it), opens every entry of their menu and, from each page, the pages it links to (a
few per endpoint), and reads every table cell, description, option and tag:

- a master-data code (company, warehouse, material, supplier, customer, segment, tax code,
  account) shown without its name after it, in its cell or its row;
- a cell or tag that is nothing but an enum's raw value (``posted``, ``RELEASED``);
- a link whose text is nothing but the id at the end of its address;
- a page without a heading of its own (title and h1) in Chinese, or in English when each kind
  of page is read once more in English; a message id shown untranslated, an empty table
  header, a printed None, nan or [object Object] (``check_text``);
- a link answering an error, or a redirect that does not land on a page that opens.

Pages come from the navigation and the links, never from a list kept here, and every page
of the URL map (a GET of the pages' blueprints) must have been reached, or be named in
``NOT_WALKED`` with the reason: a new page cannot stay out of the walk unnoticed. One
prepared database (on PostgreSQL a copy of a template kept between runs, tests/demo_pages.py),
Flask's test client, Chinese pages.
"""

from __future__ import annotations

import enum
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp import create_app
from erp.auth.models import User
from erp.auth.services import issue_token
from erp.costing.models import Account
from erp.db import make_engine, make_session_factory
from erp.masterdata.models import Company, Customer, Material, Segment, Supplier, TaxCode, Warehouse
from erp.migrate import upgrade
from erp.ui.i18n import LANGUAGE_COOKIE
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, make_settings
from tests.demo_pages import ROOT, prepare, prepared_database

# Pages of the URL map the walk does not open, with why.
NOT_WALKED = {
    "ui.home": "redirects to the role's landing page, which the menu opens",
    "ui.sign_in": "the sign-in form shows no records",
    "ui.language": "switches the language and goes back",
    "health.ready": "not a page",
    "health.live": "not a page",
    "export_pages.export": "an Excel file, not a page (its headers are tested in tests/ui/test_exports*)",
    "cio_pages.charts_json": "JSON for the charts; the dashboard's data tables show the same figures",
    "problems.index": "the API's problem types, no records",
    "problems.problem": "the API's problem types, no records",
    "masterdata_pages.edit": "a form of one record: its own code and name are the fields being edited",
    "costing_pages.close_job_progress": "the part of the close job's page (costing_pages.close_job) it redraws",
    "payables_pages.pay_open_items": "the part of the payment form (payables_pages.pay) it redraws",
    "golive_pages.template": "an Excel template, not a page (its headers: tests/browser/test_golive_imports.py)",
    "golive_pages.job": "exists only once a file is uploaded and checked (tests/browser/test_golive_imports.py "
                        "reads it with refused rows and with totals)",
    "golive_pages.job_progress": "the part of the import's page (golive_pages.job) it redraws",
}
# Pages that must show a row of tests/demo_pages.py's making (the walk reads them with rows,
# not only their empty state): the endpoint, and a text of that row.
MUST_SHOW = {
    "intercompany_pages.trial_balance": "PG-TAB",  # FORM01's sale to DIST01, in transit
    "inventory_pages.quarantine": "PG-RAW-1",  # counted into quarantine, no inspection lot
    "inventory_pages.quality_decision": "PG-RAW-1",
    "sales_pages.orders": "SO-DIST01-",  # the demo's sales orders, for sales.dist01
    "sales_pages.order": "SO-DIST01-",
}
# Records without a number of their own yet, whose links show their id (FOLLOWUPS.md), with why.
ID_NAMED: dict[str, str] = {}
# A cell with sentence punctuation is prose (a reason someone typed), where a code may stand alone.
PROSE_MARKS = re.compile(r"[，。；！？]|[.;!?](\s|$)")
# Links followed per endpoint (beyond the menus' own entries) over the whole walk: enough to
# see each page with rows, as different users, few enough to keep the walk fast.
PER_ENDPOINT = 3
SKIPPED_PATHS = ("/static/", "/exports/", "/language/", "/sign-out", "/api/")


@dataclass
class Finding:
    user: str
    url: str
    what: str

    def __str__(self) -> str:
        return f"{self.user} {self.url}: {self.what}"


@dataclass
class Walk:
    findings: list[Finding] = field(default_factory=list)
    endpoints: set[str] = field(default_factory=set)
    shown: set[str] = field(default_factory=set)  # the MUST_SHOW endpoints seen with their row
    pages: int = 0


# --- reading a page -----------------------------------------------------------------------

CELL_TAGS = {"td", "dd", "option", "li"}


class _Cells(HTMLParser):
    """The text of each cell (td, dd, option, li) with the row it stands in (a cell outside
    a table row: its own text), of each tag (class "tag"), and each link with its address;
    the navigation and the top bar are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[tuple[str, int | None]] = []  # (text, the row's number)
        self.rows: dict[int, str] = {}
        self.tags: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str], int | None]] = []  # (kind, parts, row number) being collected
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, collects, skipped)
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}:
            return
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        skip = tag in {"nav", "header", "script", "style", "aside"} or "menu" in classes or "topbar" in classes
        kind = None
        if tag in CELL_TAGS:
            kind = "cell"
        elif tag == "tr":
            kind = "row"
        elif "tag" in classes:
            kind = "tag"
        elif tag == "a":
            kind = "a:" + (found.get("href") or "")
        if skip:
            self._skip += 1
        collects = bool(kind) and not self._skip
        if collects:
            # a row is numbered; a cell remembers the innermost row open around it
            row = len(self.rows) if kind == "row" else next(
                (number for k, _, number in reversed(self._open) if k == "row"), None)
            if kind == "row":
                self.rows[row] = ""
            self._open.append((kind or "", [], row))
        self._stack.append((tag, collects, skip))

    def handle_endtag(self, tag: str) -> None:
        # close up to the matching tag (browsers forgive unclosed cells; so do we)
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                for _, collects, skip in reversed(self._stack[index:]):
                    if collects:
                        self._close()
                    if skip:
                        self._skip -= 1
                del self._stack[index:]
                return

    def _close(self) -> None:
        kind, parts, row = self._open.pop()
        text = " ".join(" ".join(parts).split())
        if kind == "cell":
            self.cells.append((text, row))
        elif kind == "row":
            assert row is not None
            self.rows[row] = text
        elif kind == "tag":
            self.tags.append(text)
        else:
            self.links.append((kind[2:], text))

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        for _, parts, _ in self._open:
            parts.append(data)


class _Text(HTMLParser):
    """The title, the h1s, the table headers and every text of a page (script and style left
    out), with the placeholders of its fields."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1: list[str] = []
        self.headers: list[str] = []
        self.texts: list[str] = []
        self._in: list[str] = []
        self._parts: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("placeholder"):
            self.texts.append(found["placeholder"] or "")
        if tag in {"title", "h1", "th", "script", "style", "textarea"}:
            self._in.append(tag)
            self._parts[tag] = [found.get("aria-label") or ""] if tag == "th" else []

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass
            text = " ".join(" ".join(self._parts.pop(tag, [])).split())
            if tag == "title":
                self.title = text
            elif tag == "h1":
                self.h1.append(text)
            elif tag == "th":
                self.headers.append(text)

    def handle_data(self, data: str) -> None:
        if any(tag in self._in for tag in ("script", "style", "textarea")):
            return
        for tag in ("title", "h1", "th"):
            if tag in self._in:
                self._parts[tag].append(data)
        if data.strip():
            self.texts.append(" ".join(data.split()))


CJK = re.compile(r"[\u4e00-\u9fff]")
# What a missing value or a script's object looks like once printed: the whole text (a value,
# with a currency sign or a unit perhaps), or an object anywhere ("None on this day." is English).
JUNK = re.compile(r"[¥$]?\s*(None|nan|NaN|undefined|null)(\s*[%\w]{0,3})?")
OBJECT = "[object Object]"


def check_text(page: str, language: str, message_ids: frozenset[str]) -> list[str]:
    """What is wrong with a page's wording in ``language`` (zh or en): no heading (an h1, and a
    title of its own before " · " the product's name) in that language, a message id shown
    untranslated (zh), an empty table header, a printed None, nan or [object Object]."""
    parser = _Text()
    parser.feed(page)
    problems: list[str] = []
    own_title = parser.title.rsplit(" · ", 1)[0] if " · " in parser.title else ""
    heading = " ".join(parser.h1)
    if not own_title or not heading:
        problems.append(f"no heading (title {parser.title!r}, h1 {parser.h1!r})")
    elif language == "zh" and not CJK.search(own_title + heading):
        problems.append(f"a heading not in Chinese (title {parser.title!r}, h1 {heading!r})")
    elif language == "en" and CJK.search(own_title + heading):
        problems.append(f"a heading not in English (title {parser.title!r}, h1 {heading!r})")
    if language == "zh":
        for text in parser.texts:
            if text in message_ids:
                problems.append(f"untranslated {text!r}")
    for header in parser.headers:
        if not header:
            problems.append("an empty table header")
    for text in parser.texts:
        if JUNK.fullmatch(text) or OBJECT in text:
            problems.append(f"a printed nothing {text!r}")
    return sorted(set(problems))


def _message_ids() -> frozenset[str]:
    """The catalogue's message ids that Chinese pages show translated (not the ones the same in
    both languages, a unit or a code), of two words or more: one shown as it is was missed."""
    from babel.messages.pofile import read_po

    with (ROOT / "erp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    return frozenset(message.id for message in catalog if isinstance(message.id, str) and message.id
                     and message.string and message.string != message.id and len(message.id.split()) > 1)


def _words(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Rules:
    """What a page must not show: codes with the names that must follow them, raw enum values."""

    names: dict[str, tuple[str, ...]]
    code_pattern: re.Pattern[str]
    raw_values: frozenset[str]

    def bare_codes(self, text: str, context: str) -> list[str]:
        """Codes in ``text`` that ``context`` (the cell's row, or the cell) never follows by a name."""
        found = []
        for match in self.code_pattern.finditer(text):
            code = match.group(1)
            names = self.names[code]
            if not any(f"{code} {name}" in context for name in names if name):
                found.append(code)
        return found


def _enum_values() -> frozenset[str]:
    """Every value of every StrEnum of the application's modules."""
    values: set[str] = set()

    def walk(cls: type[enum.Enum]) -> Iterator[type[enum.Enum]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    for cls in walk(enum.Enum):
        if not cls.__module__.startswith("erp."):
            continue
        for member in cls:  # type: ignore[var-annotated]
            if isinstance(member.value, str) and len(member.value) > 1:
                values.add(member.value)
    return frozenset(values)


def _rules(session: Session) -> Rules:
    """The demo's codes and names, and the raw values of every enum but the users' names (a
    demo user may be called ``steward``, as the role)."""
    names: dict[str, tuple[str, ...]] = {}
    for model in (Company, Warehouse, Material, Supplier, Customer, Segment, TaxCode, Account):
        for code, zh, en in session.execute(select(model.code, model.name_zh, model.name_en)):
            names[code] = (zh, en)
    # Account codes are numbers: only a cell that is nothing but the code counts (a quantity
    # of 1403 is not account 1403); other codes count wherever they stand as a word.
    words = sorted((code for code in names if not code.replace(".", "").isdigit()), key=len, reverse=True)
    pattern = re.compile(r"(?<![\w./-])(" + "|".join(re.escape(code) for code in words) + r")(?![\w/-]|\.\w)")
    usernames = set(session.scalars(select(User.username)))
    return Rules(names=names, code_pattern=pattern, raw_values=_enum_values() - usernames)


def _endpoint(href: str) -> str | None:
    from flask import current_app

    try:
        return str(current_app.url_map.bind("localhost").match(urlsplit(href).path, method="GET")[0])
    except Exception:  # no app here (the check's own test), or not a page of the map
        return None


def check_page(page: str, rules: Rules) -> list[str]:
    """What is wrong with one page: bare codes, raw enum values, links named by a bare id."""
    parser = _Cells()
    parser.feed(page)
    problems: list[str] = []
    for cell, number in parser.cells:
        if PROSE_MARKS.search(cell):
            continue
        row = parser.rows[number] if number is not None else cell
        for code in rules.bare_codes(cell, row):
            problems.append(f"bare code {code!r} in {cell!r}")
        if cell in rules.names and cell.replace(".", "").isdigit() and not any(
                f"{cell} {name}" in row for name in rules.names[cell]):
            problems.append(f"bare account {cell!r}")
        if cell in rules.raw_values:
            problems.append(f"raw value {cell!r}")
    for tag in parser.tags:
        if tag in rules.raw_values:
            problems.append(f"raw value {tag!r} in a tag")
    for href, text in parser.links:
        tail = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
        if text and text == tail and text.isdigit() and _endpoint(href) not in ID_NAMED:
            problems.append(f"link named by its id {text!r} ({href})")
    return sorted(set(problems))


# --- the prepared database and the walk ---------------------------------------------------

@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, sessionmaker[Session], dict[str, list[str]]]]:
    """The app over one database holding the demo group and tests/demo_pages.py's additions:
    on PostgreSQL a copy of the template prepared for the current code (prepared once)."""
    if ON_POSTGRES:
        name = TEST_DATABASE_URL.rsplit("/", 1)[1] + "_pages"
        url, seeds = prepared_database(TEST_DATABASE_URL, name, make_settings)
        engine = make_engine(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'demo.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        seeds = prepare(make_session_factory(engine), make_settings(url), engine)
    settings = make_settings(url)
    factory = make_session_factory(engine)
    app = create_app(settings, engine=engine)
    app.config["TESTING"] = True
    yield app, factory, seeds
    # The database stays until the next run drops it (dropping it takes longer than the walk).
    engine.dispose()


MENU_LINK = re.compile(r'<a class="menu-item[^"]*"\s+href="([^"]+)"')


def _page_endpoints(app: Flask) -> dict[str, Any]:
    """The GET pages of the URL map (the API, static files excepted)."""
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ()) and not rule.rule.startswith(("/api", "/static"))}


def walk_pages(app: Flask, factory: sessionmaker[Session], rules: Rules, seeds: dict[str, list[str]]) -> Walk:
    """Every user's menu, ``seeds`` (pages only a form's answer leads to, by user) and the
    pages they link to (one of each kind per user, ``PER_ENDPOINT`` of a kind in all)."""
    walk = Walk()
    adapter = app.url_map.bind("localhost")
    with factory() as session, session.begin():
        users = [(u.username, u.id) for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))]
        tokens = {name: issue_token(session, user_id, ttl_minutes=60).token for name, user_id in users}
    seen_urls: set[str] = set()
    english: set[str] = set()
    message_ids = _message_ids()
    per_endpoint: dict[str, int] = {}
    for username, _ in users:
        client: FlaskClient = app.test_client()
        client.set_cookie(LANGUAGE_COOKIE, "zh")
        with client.session_transaction() as flask_session:
            flask_session["token"] = tokens[username]
        home = client.get("/", follow_redirects=True)
        queue = list(dict.fromkeys([*MENU_LINK.findall(home.get_data(as_text=True)), *seeds.get(username, [])]))
        opened: set[str] = set()
        followed: set[str] = set()
        while queue:
            url = queue.pop(0)
            if url in opened:
                continue
            opened.add(url)
            response = client.get(url)
            if response.status_code >= 400:
                # the menu or a page offered it: it must open
                walk.findings.append(Finding(username, url, f"answers {response.status_code}"))
                continue
            if 300 <= response.status_code < 400:
                # a sane redirect: to a page of ours that opens, not back to the sign-in
                landed = client.get(url, follow_redirects=True)
                where = landed.request.path
                if urlsplit(response.location).netloc not in ("", "localhost") or landed.status_code != 200 \
                        or where.startswith("/sign-in"):
                    walk.findings.append(Finding(username, url, f"redirects to {response.location} ({where} answers "
                                                                f"{landed.status_code})"))
                continue
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            try:
                endpoint, _ = adapter.match(urlsplit(url).path, method="GET")
            except Exception:  # a redirect or 404 of the map: not a page of ours
                continue
            walk.endpoints.add(endpoint)
            body = response.get_data(as_text=True)
            walk.pages += 1
            if endpoint in MUST_SHOW and MUST_SHOW[endpoint] in body:
                walk.shown.add(endpoint)
            if url not in seen_urls:
                seen_urls.add(url)
                with app.app_context():
                    walk.findings += [Finding(username, url, problem) for problem in check_page(body, rules)]
                walk.findings += [Finding(username, url, problem) for problem in check_text(body, "zh", message_ids)]
            if endpoint not in english:
                # each kind of page once in English too: its heading in English, nothing empty
                english.add(endpoint)
                client.set_cookie(LANGUAGE_COOKIE, "en")
                in_english = client.get(url).get_data(as_text=True)
                client.set_cookie(LANGUAGE_COOKIE, "zh")
                walk.findings += [Finding(username, url + " (en)", problem)
                                  for problem in check_text(in_english, "en", message_ids)]
            for href in re.findall(r'<a\b[^>]*\bhref="([^"#]+)"|\bhx-get="([^"#]+)"', body):
                href = "".join(href)
                href = html.unescape(href)
                parts = urlsplit(href)
                if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIPPED_PATHS):
                    continue
                if href in opened or href in queue:
                    continue
                try:
                    target, _ = adapter.match(parts.path, method="GET")
                except Exception:
                    continue
                # Each user opens one page of each kind they are offered (a form may be theirs
                # only); at most PER_ENDPOINT of a kind over the whole walk beyond that.
                if target in NOT_WALKED or (target in followed and per_endpoint.get(target, 0) >= PER_ENDPOINT):
                    continue
                followed.add(target)
                per_endpoint[target] = per_endpoint.get(target, 0) + 1
                queue.append(href)
    return walk


def test_every_page_names_its_records_and_words_its_statuses(
        demo_app: tuple[Flask, sessionmaker[Session], dict[str, list[str]]]) -> None:
    app, factory, seeds = demo_app
    with factory() as session:
        rules = _rules(session)
    walk = walk_pages(app, factory, rules, seeds)
    missed = set(_page_endpoints(app)) - walk.endpoints - set(NOT_WALKED)
    report = [str(finding) for finding in walk.findings]
    if missed:
        report.append("pages the walk never reached (link them, give tests/demo_pages.py rows for them, "
                      f"or say why in NOT_WALKED): {sorted(missed)}")
    if unshown := set(MUST_SHOW) - walk.shown:
        report.append(f"pages never read with tests/demo_pages.py's rows: {sorted(unshown)}")
    assert report == [], f"{walk.pages} pages read:\n" + "\n".join(report)


def test_the_check_sees_a_bare_code_a_raw_status_and_an_id() -> None:
    """The reading itself: a code with its name passes, alone it fails, in a name column too."""
    rules = Rules(names={"WH-SH1": ("上海一号仓", "Shanghai 1"), "1403": ("原材料", "Raw materials")},
                  code_pattern=re.compile(r"(?<![\w./-])(WH-SH1)(?![\w/-]|\.\w)"), raw_values=frozenset({"posted"}))
    assert check_page("<table><tr><td>WH-SH1 上海一号仓</td></tr></table>", rules) == []
    assert check_page("<table><tr><td>WH-SH1</td><td>上海一号仓</td></tr></table>", rules) == []
    assert check_page("<table><tr><td>WH-SH1</td><td>12</td></tr></table>", rules) == ["bare code 'WH-SH1' in 'WH-SH1'"]
    assert check_page("<table><tr><td>WH-SH1-B7</td></tr></table>", rules) == []
    # each cell is read with its own row, not the first row that holds the same text
    assert check_page("<table><tr><td>WH-SH1</td><td>上海一号仓</td></tr><tr><td>WH-SH1</td><td>5</td></tr></table>",
                      rules) == ["bare code 'WH-SH1' in 'WH-SH1'"]
    assert check_page("<table><tr><td>WH-SH1</td><td>上海一号仓 <ul><li>WH-SH1</li></ul></td></tr></table>", rules) == []
    assert check_page("<dl><dd>posted</dd></dl>", rules) == ["raw value 'posted'"]
    assert check_page('<p><span class="tag">posted</span></p>', rules) == ["raw value 'posted' in a tag"]
    assert check_page('<p><a href="/quality/lots/17">17</a></p>', rules) == ["link named by its id '17' (/quality/lots/17)"]
    assert check_page("<table><tr><td>1403</td></tr></table>", rules) == ["bare account '1403'"]
    assert check_page("<nav><ul><li>WH-SH1</li></ul></nav>", rules) == []


def test_the_check_reads_headings_wording_and_empty_values() -> None:
    """A page's heading in its language, message ids left in English, empty headers, printed Nones."""
    ids = frozenset({"Goods receipts"})

    def page(title: str, h1: str, body: str = "") -> str:
        return f"<html><head><title>{title} · 合一</title></head><body><h1>{h1}</h1>{body}</body></html>"

    assert check_text(page("收货", "收货"), "zh", ids) == []
    assert check_text(page("GR-1", "GR-1"), "zh", ids) == ["a heading not in Chinese (title 'GR-1 · 合一', h1 'GR-1')"]
    assert check_text(page("收货单 GR-1", "GR-1"), "zh", ids) == []  # the title says what it is
    assert check_text(page("Receipts", "Receipts"), "en", ids) == []
    assert check_text(page("Receipts", "收货"), "en", ids) == [
        "a heading not in English (title 'Receipts · 合一', h1 '收货')"]
    assert check_text("<html><head><title>合一</title></head><body></body></html>", "zh", ids) == [
        "no heading (title '合一', h1 [])"]
    assert check_text(page("收货", "收货", "<p>Goods receipts</p>"), "zh", ids) == ["untranslated 'Goods receipts'"]
    assert check_text(page("收货", "收货", '<input placeholder="Goods receipts">'), "zh", ids) == [
        "untranslated 'Goods receipts'"]
    assert check_text(page("收货", "收货", "<table><tr><th>物料</th><th></th></tr></table>"), "zh", ids) == [
        "an empty table header"]
    assert check_text(page("收货", "收货", '<table><tr><th aria-label="操作"></th></tr></table>'), "zh", ids) == []
    assert check_text(page("收货", "收货", "<td>None</td><td>¥nan</td><td>[object Object]</td>"), "zh", ids) == [
        "a printed nothing 'None'", "a printed nothing '[object Object]'", "a printed nothing '¥nan'"]
    assert check_text(page("Chart", "Chart", "<p>None on this day.</p>"), "en", ids) == []
