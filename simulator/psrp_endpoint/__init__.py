"""The simulated Hyper-V host served over WinRM/PSRP on loopback (a test endpoint).

An unmodified pypsrp client talks to it as to a Windows host: HTTP(S) WS-Management,
NTLM with message encryption (or Basic), PSRP through psrpcore's server classes, and the
Hyper-V cmdlets of :mod:`simulator.psrp_endpoint.cmdlets` executed against one
:class:`~simulator.host.HyperVHost`, instantly or in SimPy time (:mod:`.clock`). Layers,
outermost first: :mod:`.wsman` (HTTP, auth, SOAP), :mod:`.shells` (PSRP), :mod:`.cmdlets`
(cmdlets -> model), :mod:`.objects` (Hyper-V-shaped objects and errors).

Test hooks on ``endpoint.EmulatedHost``: ``host`` (the model: inspect state, read guest data),
``received`` (every cmdlet call exactly as it arrived), ``cmdlets.faults`` (make the next
call of a cmdlet fail with a given ``HostError``) and ``cmdlets.merge_polls`` (report
MergingDisks for that many Get-VM calls after a delete).

psrpcore and pyspnego are needed here only; pyspnego's NTLM acceptor reads credentials
from the file named by the process-global ``NTLM_USER_FILE``, which ``EmulatedHost.start``
sets.
"""
