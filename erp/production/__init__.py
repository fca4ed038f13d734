"""Production: bills of materials, the standard cost roll-up, production orders and their
variances (docs/production.md)."""
