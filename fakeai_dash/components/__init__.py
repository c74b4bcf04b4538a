"""One module per seed component: its layout and its callbacks (registered on import)."""
