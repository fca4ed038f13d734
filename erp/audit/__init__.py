"""The audit trail: who changed which master record, price, limit, right or user, when,
from what to what, and why; sign-ins and token revocations too.

Other modules call ``erp.audit.services.record_change`` (or ``record_event``) inside their
own transaction, so the change and its audit row commit or roll back together.
"""
