"""Imports every module's models so that ``Base.metadata`` knows all tables.

Alembic's env.py and the app factory import this module; add new model modules here.
"""

from erp.auth import models as auth_models  # noqa: F401
from erp.masterdata import models as masterdata_models  # noqa: F401
from erp.purchasing import models as purchasing_models  # noqa: F401
from erp.costing import models as costing_models  # noqa: F401
from erp.inventory import models as inventory_models  # noqa: F401
from erp import idempotency  # noqa: F401
from erp.credit import models as credit_models  # noqa: F401
from erp.payables import models as payables_models  # noqa: F401
from erp.jobs import models as jobs_models  # noqa: F401
from erp.audit import models as audit_models  # noqa: F401
from erp.golive import models as golive_models  # noqa: F401
from erp.quality import models as quality_models  # noqa: F401
from erp.production import models as production_models  # noqa: F401
