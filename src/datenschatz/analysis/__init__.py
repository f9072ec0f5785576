"""Analysis: derived datasets (recipes) and the effects of the city's measures."""
