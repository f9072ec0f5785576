"""OGC API - Features mechanics, free of HTTP and of access decisions.

- :mod:`~datenschatz.ogc.crs`: the coordinate reference systems served (Part 2), their URIs,
  axis order and the SQL that turns stored geometry (CRS84) into each.
- :mod:`~datenschatz.ogc.params`: the items parameters (``limit``, ``bbox``, ``bbox-crs``,
  ``crs``, ``datetime``, property filters, ``offset``, ``cursor``) to a typed request;
  every mistake an InputError naming the parameter.
- :mod:`~datenschatz.ogc.query`: pages of GeoJSON features and single features over one
  version file, built on the shared query layer (:mod:`datenschatz.store.query`: filters,
  counts, time limits, rendering).

Services (:mod:`datenschatz.services.features`) ask the access policy and call these; the
router (:mod:`datenschatz.api.ogc`) turns the results into the wire formats.
"""
