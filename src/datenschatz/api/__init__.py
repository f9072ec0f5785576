"""HTTP interfaces: thin adapters over the service layer."""
