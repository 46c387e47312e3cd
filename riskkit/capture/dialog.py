"""The capture form's question bar: one question at a time, with a button that goes on and one that cancels."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from markupsafe import Markup

from .fields import fragment


class Question(w.HBox):
    """Empty until asked; answering closes the question's widgets and runs the chosen button's action."""

    def ask(self, question: str, yes: str, cancel: str, action: Callable[[], None],
            on_cancel: Callable[[], None] = lambda: None) -> None:
        """Show `question` (plain text) with a `yes` button that runs `action` and a `cancel` button that runs
        `on_cancel`."""
        self.choose(fragment("strong", question), [(yes, action)], cancel, on_cancel)

    def choose(self, question: Markup, choices: list[tuple[str, Callable[[], None]]], cancel: str,
               on_cancel: Callable[[], None] = lambda: None) -> None:
        """Show `question` (markup from the form's templates) with a button per choice and a `cancel` button."""
        message = w.HTML(question, layout=w.Layout(width="100%"))
        buttons = []
        for text, action in choices:
            button = w.Button(description=text, layout=w.Layout(width="auto"))
            button.add_class("rk-warning-button")  # ipywidgets' "warning" style is white on orange, below 4.5:1
            button.on_click(lambda _, action=action: answer(action))
            buttons.append(button)
        stop = w.Button(description=cancel)
        stop.on_click(lambda _: answer(on_cancel))

        def answer(action: Callable[[], None]) -> None:
            for child in self.children:
                child.close()
            self.children = []
            action()

        self.children = [message, *buttons, stop]
        self.layout = w.Layout(flex_flow="row wrap", border="2px solid #8a3b00", padding="6px")
        self.add_class("rk-row")
