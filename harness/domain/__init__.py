"""The domain: entities, state machines, configuration keys and errors. No I/O here."""
