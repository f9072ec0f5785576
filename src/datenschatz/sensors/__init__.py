"""OGC SensorThings API 1.1: entity model, OData query options and the service layer."""

from datenschatz.db import sensor_models as sensor_models  # registers the sta_* tables
