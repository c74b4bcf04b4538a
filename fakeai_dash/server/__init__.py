"""The server side of the assembly: how the app is put together (blueprints, index page, routes)."""
