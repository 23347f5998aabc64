from browser import browser, open_page  # noqa: F401  (the fixtures of this folder's tests)
