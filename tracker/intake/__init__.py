"""Intake, shared by every entrance (HTTP, JT/T 808, JT/T 809, checkpoint cameras): items
checked and normalised, sorted into messages and dead letters, handed to the broker, and the
registry's plate -> carrier map each entrance checks ownership against. No entrance imports
another; each calls this."""
