"""Use cases. Mutating ones are sans-IO workflows: generators that yield host commands."""
