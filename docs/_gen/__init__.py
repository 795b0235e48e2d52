"""The generators of the site's pages (run by ``docs/gen_pages.py`` at build time)."""
