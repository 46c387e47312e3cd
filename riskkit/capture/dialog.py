"""The capture form's question bar: one question at a time, with a button that goes on and one that cancels."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from .fields import html


class Question(w.HBox):
    """Empty until `ask`; answering closes the question's widgets and, for "yes", runs the action."""

    def ask(self, question: str, yes: str, cancel: str, action: Callable[[], None],
            on_cancel: Callable[[], None] = lambda: None) -> None:
        """Show `question` (plain text) with a `yes` button that runs `action` and a `cancel` button that runs
        `on_cancel`."""
        go_on = w.Button(description=yes, layout=w.Layout(width="auto"))
        go_on.add_class("rk-warning-button")  # ipywidgets' "warning" style is white on orange, below 4.5:1
        stop = w.Button(description=cancel)
        message = html("strong", question)
        message.layout.width = "100%"

        def answer(run: bool) -> None:
            for child in self.children:
                child.close()
            self.children = []
            (action if run else on_cancel)()

        go_on.on_click(lambda _: answer(True))
        stop.on_click(lambda _: answer(False))
        self.children = [message, go_on, stop]
        self.layout = w.Layout(flex_flow="row wrap", border="2px solid #8a3b00", padding="6px")
        self.add_class("rk-row")
