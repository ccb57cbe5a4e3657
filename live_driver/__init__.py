"""Real Hyper-V hosts over PowerShell Remoting (pypsrp). Not built yet: see issue 6."""
