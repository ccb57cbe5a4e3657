"""CloudStack-compatible HTTP API (issue 5): a thin translator over the service layer.

- ``signing``: CloudStack's request signatures (HMAC-SHA1, ``signatureVersion=3``).
- ``params``: parameter types and their conversion from wire strings.
- ``registry``: the command table and response helpers.
- ``vmsnapshots``, ``instances``, ``catalogue``: one handler per command, each one manager call.
- ``app``: authentication, dispatch, envelopes and errors, without I/O.
- ``server``: the HTTP transport and the assembly that ``hvsnap serve`` runs.
"""
