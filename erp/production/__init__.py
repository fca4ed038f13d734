"""Production: bills of materials, the standard cost roll-up, production orders and their
variances (docs/production.md).

Importing the package registers the settlement of order variances with the month-end
close (``erp.production.variances``), so every close that can see production tables
settles them: the app, its jobs and commands import it with the models.
"""

from erp.production import variances  # noqa: F401 - registers the close extension
