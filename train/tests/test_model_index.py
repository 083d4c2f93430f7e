"""update_index: the index's order is the page's model list, so exporting never reshuffles it."""
import json

from model_folder import update_index


def _ids(root):
    return [(m["id"], m.get("default", False)) for m in json.load(open(root / "index.json"))["models"]]


def test_new_models_go_last_and_a_reexport_keeps_its_place(tmp_path):
    update_index(str(tmp_path), {"id": "b-sparse", "name": "B", "kind": "sparse"}, default=True)
    update_index(str(tmp_path), {"id": "a-dense", "name": "A", "kind": "dense"})
    update_index(str(tmp_path), {"id": "c-sparse", "name": "C", "kind": "sparse"})
    update_index(str(tmp_path), {"id": "a-dense", "name": "A2", "kind": "dense"})
    assert _ids(tmp_path) == [("b-sparse", True), ("a-dense", False), ("c-sparse", False)]
    assert json.load(open(tmp_path / "index.json"))["models"][1]["name"] == "A2"


def test_a_new_default_moves_first_and_is_the_only_default(tmp_path):
    for i in ("x", "y", "z"):
        update_index(str(tmp_path), {"id": i, "name": i, "kind": "sparse"}, default=(i == "x"))
    update_index(str(tmp_path), {"id": "z", "name": "z", "kind": "sparse"}, default=True)
    assert _ids(tmp_path) == [("z", True), ("x", False), ("y", False)]
