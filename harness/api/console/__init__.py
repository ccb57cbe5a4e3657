"""The web console: static assets (``static/``) served at ``/console/``, and nothing else.

The console is a pure client of ``/client/api``, as CloudStack's own UI is: every page is
drawn in the browser from API answers (``static/*.js``, plain ES modules, no build step).
This package only serves the files; see :mod:`harness.api.console.assets`.
"""
