"""Go-live: imports of master data and opening balances from spreadsheets (with a dry run,
all-or-nothing commit, no duplicate partners, undo) and exports of the reports.
See docs/go-live.md."""
