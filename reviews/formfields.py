"""Form fields shared by the pages' forms."""

from __future__ import annotations

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes: easier to use than a multiple select, by mouse or keyboard
    (no Ctrl-click), and readable on a phone."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
