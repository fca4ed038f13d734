"""The group's consolidated figures: intercompany trade between the companies and its
elimination from the group trial balance (CAS 33; docs/intercompany.md). Above sales and
payables, whose balances with group companies it eliminates; neither of them uses it."""
