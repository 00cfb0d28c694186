"""Channel adapters: the only modules that speak a chat platform's API.

Each turns what arrives into a `handlers.chat.Turn` for `handlers.router.handle`, and each
`Reply` into the platform's calls. A channel also sends reminders and notices to its people.
"""


class ChannelUnavailable(Exception):
    """A channel could not start: its API refused the token, or could not be reached."""

    def __init__(self, channel: str, *, refused: bool, kind: str) -> None:
        super().__init__(f"{channel}: {kind}")
        self.channel, self.refused, self.kind = channel, refused, kind
