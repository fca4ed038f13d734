"""The warehouse's tables are the stock ledger's, owned by the posting module.

Batches, stock documents, ledger rows and balances are defined in ``erp.posting.models``
and written only through ``erp.posting``; the names are re-exported here so that readers
of stock (queries, pages, reports) can keep importing them from the warehouse module.
"""

from erp.posting.models import (  # noqa: F401 - re-exported
    DOCUMENT_PREFIXES,
    NO_BATCH,
    NUMBER_DIGITS,
    Batch,
    CloseClass,
    MovementType,
    StockBalance,
    StockDocument,
    StockMovement,
    StockStatus,
    document_number,
)
