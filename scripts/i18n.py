"""Message catalogues: extract, update, compile, check.

    python scripts/i18n.py extract   # scan code and templates, merge new ids into both catalogues
    python scripts/i18n.py compile   # .po -> .mo (make does this at install; tests do it too)
    python scripts/i18n.py check     # list ids without a translation and entries no code uses (exit 1 if any)
    python scripts/i18n.py prune     # drop the entries no code or template uses (listed first)

``extract`` never drops an entry: several people add ids on their own branches, and an
extract run on a branch that does not have another's code yet (or a catalogue merged from
both sides of a rebase) must not lose the other's translated entries. Entries no code uses
any more are removed on purpose, by ``prune``, which lists them, before a branch lands:
``check`` (and the test suite, tests/ui/test_translations.py) fails on an entry no code uses
as on an id without a translation, so the catalogues hold exactly what the code says.

Message ids are the English texts. The English catalogue repeats each id as its own
translation (filled in by ``extract``; edit it to reword English without touching code);
the Chinese one is written by a person. The compiled .mo files are build output, not
committed: ``make install`` and the test suite compile them from the .po files.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "erp" / "translations"
LANGUAGES = ("zh", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None, "Message": None}


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def extracted() -> Catalog:
    """Every message id in the code and templates, with where it was found."""
    method_map = [("erp/**.py", "python"), ("erp/**/templates/**.html", "jinja2")]
    catalog = Catalog(project="heyi", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS,
        options_map={"erp/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        if isinstance(message, tuple):
            message = message[0]
        if message:
            catalog.add(message, locations=[(filename, lineno)], context=context)
    for rule, location in problem_rules():
        catalog.add(rule, locations=[location])
    for phrase, location in scope_phrases():
        catalog.add(phrase, locations=[location])
    return catalog


def scope_phrases() -> list[tuple[str, tuple[str, int]]]:
    """The phrases a refusal of ``Actor.require_role(..., action="...")`` or
    ``Actor.require_company(..., what="...")`` starts with or names (erp/auth/roles.py): message
    ids too, given as keyword arguments at a hundred call sites, which Babel's keyword
    extraction (positional arguments only) does not see."""
    import ast

    found = []
    for path in sorted((ROOT / "erp").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            wanted = {"require_role": "action", "require_company": "what"}.get(name)
            for keyword in node.keywords if wanted else ():
                if keyword.arg == wanted and isinstance(keyword.value, ast.Constant) \
                        and isinstance(keyword.value.value, str):
                    found.append((keyword.value.value, (str(path.relative_to(ROOT)), node.lineno)))
    return found


def problem_rules() -> list[tuple[str, tuple[str, int]]]:
    """The rule each problem type states on its page (/problems/<slug>): the first paragraph
    of its class's docstring, with where the class is."""
    import importlib
    import inspect
    import pkgutil

    sys.path.insert(0, str(ROOT))
    import erp
    from erp.errors import problem_class, problem_types

    for module in pkgutil.walk_packages(erp.__path__, "erp."):
        importlib.import_module(module.name)
    rules = []
    for slug, problem in problem_types().items():
        cls = problem_class(slug)
        path = Path(inspect.getsourcefile(cls) or "").resolve().relative_to(ROOT)
        rules.append((problem.rule, (str(path), inspect.getsourcelines(cls)[1])))
    return rules


def read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, project="heyi", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def write(language: str, catalog: Catalog) -> None:
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = BytesIO()
    # File names without line numbers, and the header's date kept (extract): a line moved or an
    # extract run on two branches at once must not make the catalogues conflict on a rebase.
    write_po(buffer, catalog, width=120, sort_output=True, omit_header=False, include_previous=False,
             include_lineno=False)
    path.write_bytes(buffer.getvalue())


def extract() -> None:
    template = extracted()
    kept = 0
    for language in LANGUAGES:
        catalog = read(language)
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created
        # Entries the code does not use (yet, on this branch) stay, as they were: see the top.
        unused = list(catalog.obsolete.values())
        catalog.obsolete.clear()
        for message in unused:
            catalog[message.id] = message
        kept = max(kept, len(unused))
        for message in catalog:
            if message.id and language == "en" and not message.string:
                message.string = message.id
            message.flags.discard("fuzzy")
        write(language, catalog)
    print(f"{len(template)} message ids; catalogues updated"
          + (f"; {kept} entries no code uses were kept (`prune` drops them)" if kept else ""))


def prune() -> None:
    """Drop the entries of both catalogues whose ids no code or template uses, listing them."""
    used = {message.id for message in extracted() if message.id}
    for language in LANGUAGES:
        catalog = read(language)
        unused = [message.id for message in catalog if message.id and message.id not in used]
        for message_id in unused:
            print(f"{language}: dropped {message_id!r}")
            catalog.delete(message_id)
        write(language, catalog)


def compile_catalogues() -> None:
    for language in LANGUAGES:
        catalog = read(language)
        target = po_path(language).with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalog)


def missing(ids: set[str] | None = None) -> dict[str, list[str]]:
    """Message ids of the code and templates (``ids``: those, if already extracted) that a
    catalogue does not translate."""
    ids = {message.id for message in extracted() if message.id} if ids is None else ids
    gaps: dict[str, list[str]] = {}
    for language in LANGUAGES:
        catalog = read(language)
        gaps[language] = sorted(i for i in ids if not (catalog.get(i) and catalog.get(i).string))
    return gaps


def unused(ids: set[str] | None = None) -> dict[str, list[str]]:
    """Entries of each catalogue whose ids no code or template uses (``prune`` drops them)."""
    ids = {message.id for message in extracted() if message.id} if ids is None else ids
    return {language: sorted(str(m.id) for m in read(language) if m.id and m.id not in ids)
            for language in LANGUAGES}


def main(command: str) -> int:
    if command == "extract":
        extract()
    elif command == "compile":
        compile_catalogues()
    elif command == "prune":
        prune()
    elif command == "check":
        ids = {message.id for message in extracted() if message.id}
        gaps, spare = missing(ids), unused(ids)
        for language, found in gaps.items():
            for message_id in found:
                print(f"{language}: not translated: {message_id!r}")
        for language, found in spare.items():
            for message_id in found:
                print(f"{language}: no code uses: {message_id!r} (`python scripts/i18n.py prune` drops it)")
        return 1 if any(gaps.values()) or any(spare.values()) else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
