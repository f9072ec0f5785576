"""Demo data: real open data shipped with the package plus seeded synthetic data for Herne.

:func:`datenschatz.demo.loader.load_demo` ingests and publishes all of it into a hub.
"""
