"""Assessment (考核): facts derived from clocks, disputes, and the monthly bulletin, its files and its Word 通报."""
