"""Real Hyper-V hosts over PowerShell Remoting (pypsrp): the live driver behind the host contract."""
