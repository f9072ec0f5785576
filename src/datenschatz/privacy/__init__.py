"""The privacy gate: column roles, detectors and the privacy report of every version.

No version becomes public or partner data without a passing report (see
:func:`datenschatz.privacy.gate.evaluate` and ``services.publish.check_privacy``).
"""

from datenschatz.db import privacy_ledger_models as _ledger_models  # noqa: F401
from datenschatz.db import privacy_models as _models  # noqa: F401  (mappers before use)
