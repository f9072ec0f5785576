"""Governance: accounts, API tokens, the hash-chained audit log, releases and grants.

Importing this package registers its tables with the relational metadata.
"""

from datenschatz.db import governance_models as governance_models

__all__ = ["governance_models"]
