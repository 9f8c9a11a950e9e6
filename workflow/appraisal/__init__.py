"""Assessment (考核): facts derived from clocks, disputes, and the monthly bulletin and its files."""
