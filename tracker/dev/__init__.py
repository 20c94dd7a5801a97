"""For development and demos: the embedded stack (`hazmat up` without URLs) and the
simulated fleet. Never used by a production role."""
