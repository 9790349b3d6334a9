"""kb side effects. Indexing hooks arrive with the search issue."""


def register_signal_handlers() -> None:
    return None
