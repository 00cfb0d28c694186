"""Chat handlers, one module per user journey; thin and channel-neutral: parse, call below,
reply. `handlers.router.handle` is the one entry; `handlers.commands` the one registry."""
