"""The page's fragments through AppTest.

After a run of some fragments alone (a click on Next reruns the stepper), AppTest's page holds
only those, while a browser still shows the rest of the page: `whole_page` draws it whole again.
A grid edit is sent as the browser sends it, the grid's widget state with its edited rows, so
that the grid's on_change callback runs (setting the grid's key in session state runs none).
"""

import json

from streamlit.proto.WidgetStates_pb2 import WidgetStates

from nnviz.ui.app import editor_key


def whole_page(at):
    """The whole page, as a browser shows it after a fragment's rerun."""
    at.run()
    assert not at.exception
    return at


def send_edit(at, key: str, edited_rows: dict):
    """Run the app with the grid of this key holding these edits, {row: {column: value}}."""
    if not any(g.key == key for g in at.data_editor):
        whole_page(at)
    grid = next(g for g in at.data_editor if g.key == key)
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id = grid.proto.id
    state.string_value = json.dumps(
        {
            "edited_rows": {str(r): c for r, c in edited_rows.items()},
            "added_rows": [],
            "deleted_rows": [],
        }
    )
    return at._run(states)


def edit_cell(at, name: str, row: int, column: str, value):
    """Edit one cell of a weight grid ("weights0", "x", "learning_rate", ...) of this rev."""
    return send_edit(at, editor_key(name, at.session_state["lecture"]), {row: {column: value}})
