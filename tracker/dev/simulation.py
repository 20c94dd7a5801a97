"""What the CLI knows of the simulated fleet without loading it (tracker.dev.simulate brings
the terminal and platform clients, the scene and aiohttp's client: a third of a second
that every `hazmat` process paid at start, `hazmat worker` too)."""
from __future__ import annotations

PROTOCOLS = ("http", "jt808", "jt809", "mixed")


class SimulationError(RuntimeError):
    """The API refused a request of the simulator; `status` is the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
