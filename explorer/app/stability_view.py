"""Compare's "Stability across seeds" section, drawn only when the compared models are one setting trained
from different seeds (explorer.stability decides): the matched-atom score, its interval and what it means."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ..compare import ComparedModel
from ..stability import why_not_seed_runs
from . import caches


def section(compared: list[ComparedModel]) -> None:
    """The section, or nothing when these are not seed runs of one setting (a sweep over k, two variants…)."""
    models, labels, training = [c.model for c in compared], [c.setting for c in compared], [c.train for c in compared]
    if why_not_seed_runs(models, labels, training) is not None:
        return
    result = caches.seed_stability(tuple(c.key for c in compared), models, tuple(labels), training)
    mean, shared = result.mean, result.shared
    st.subheader("Stability across seeds")
    c1, c2 = st.columns(2)
    c1.metric("Mean matched decoder cosine", f"{mean.value:.3f}",
              help="Each pair of models: every decoder atom matched one to one with the other model's "
                   "(Hungarian algorithm on cosine similarity), the matched cosines averaged; then the mean over "
                   "the pairs. Paulo & Belrose 2025.")
    c1.caption(f"95 % interval {mean.low:.3f} – {mean.high:.3f} (bootstrap over atoms)")
    c2.metric(f"Shared units (matched cosine > {result.threshold:g})", f"{shared.value:.0%}",
              help=f"Of each model's {result.atoms} units, those whose matched atom in the other seed's model has a "
                   f"cosine above {result.threshold:g}, the count Paulo & Belrose call shared features.")
    c2.caption(f"95 % interval {shared.low:.0%} – {shared.high:.0%}")
    st.caption(f"How much of what these {len(compared)} models learned comes back from another seed: 1 would be "
               f"the same dictionary in another order; the untrained dictionaries of these seeds score "
               f"{result.untrained:.3f}. Paulo & Belrose found about 30 % of units shared in a 131K-unit SAE of "
               f"Llama 3 8B.")
    st.dataframe(pd.DataFrame([{"pair": f"seed {result.seeds[p.first]} – seed {result.seeds[p.second]}",
                                "mean matched cosine": p.score, "shared units": p.shared_fraction,
                                "encoder filters' matched cosine": p.encoder_score} for p in result.pairs]),
                 hide_index=True, width="stretch",
                 column_config={"mean matched cosine": st.column_config.NumberColumn(format="%.3f"),
                                "shared units": st.column_config.NumberColumn(format="percent"),
                                "encoder filters' matched cosine": st.column_config.NumberColumn(
                                    format="%.3f", help="The same reading of the encoder filters (what a unit "
                                                        "reads), matched on their own")})
