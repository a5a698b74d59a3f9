"""Run inside a copy of the repository (tests/test_plugin_variant.py): make checkpoints/<stem>.pt the
active model and open every page under AppTest; the Train page must offer the variant with its own
hyperparameter, Compare and Claims must take it beside the plain ae. Prints one JSON line of what it saw."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apptest_support import server_like_pages  # noqa: E402

from explorer.app.catalog import CHECKPOINT_DIR, file_digest  # noqa: E402

stem, variant, hyperparameter = sys.argv[1:4]
key = "file:" + file_digest(CHECKPOINT_DIR / f"{stem}.pt")
ae_key = "file:" + file_digest(CHECKPOINT_DIR / "ae.pt")
seen: dict[str, object] = {}
with server_like_pages():
    for page in ("home", "reconstructions", "activations", "latent", "compare", "claims", "train"):
        at = AppTest.from_file(str(Path.cwd() / "streamlit_app.py"), default_timeout=300)
        at.run()
        at.sidebar.selectbox(key="active_model").set_value(key).run()
        at.switch_page(f"pages/{page}.py")
        at.run()
        if page == "compare":
            at.multiselect(key="cmp_models").set_value([ae_key, key]).run()
        if page == "claims":
            at.multiselect(key="claims_models").set_value([ae_key, key]).run()
        if page == "train":
            at.selectbox(key="train_variant").set_value(variant).run()
        seen[page] = {"exceptions": [e.value for e in at.exception], "errors": [e.value for e in at.error],
                      "markdown": " ".join(m.value for m in at.markdown),
                      "metrics": {m.label: m.value for m in at.metric},
                      "widgets": [w.key for w in (*at.slider, *at.select_slider, *at.number_input, *at.selectbox)
                                  if w.key],
                      "captions": [c.value for c in at.caption],
                      "subheaders": [h.value for h in at.subheader]}
print(json.dumps(seen))
