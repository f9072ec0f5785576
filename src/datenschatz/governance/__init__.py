"""Governance: accounts, API tokens, the hash-chained audit log, releases and grants.

Importing this package registers its tables with the relational metadata.
"""

from datenschatz.db import governance_models as governance_models
from datenschatz.db import governance_release_models as governance_release_models

__all__ = ["governance_models", "governance_release_models"]
