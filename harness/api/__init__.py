"""CloudStack-compatible HTTP API: a thin translator over the service layer.

- ``signing``: CloudStack's request signatures (HMAC-SHA1, ``signatureVersion=3``).
- ``params``: parameter types (CloudStack's ``@Parameter``: type, length, since, related)
  and their conversion from wire strings.
- ``shapes``: the response objects as data (CloudStack's ``*Response`` fields and types).
- ``registry``: the command table (from which validation, serialisation and listApis are
  derived) and response helpers.
- ``vmsnapshots``, ``instances``, ``catalogue``, ``accounts``, ``resources``,
  ``policies``: one handler per command, each one manager or service call.
- ``app``: authentication, dispatch, envelopes and errors, without I/O.
- ``server``: the HTTP transport and the assembly that ``hvsnap serve`` runs.
"""
