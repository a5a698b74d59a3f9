"""Compare's "Stability across seeds" section, drawn only when the compared models are one setting trained
from different seeds (explorer.stability decides): the matched-atom score, its interval and what it means."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ..compare import ComparedModel
from ..i18n import tr
from ..stability import why_not_seed_runs
from . import caches


def section(compared: list[ComparedModel]) -> None:
    """The section, or nothing when these are not seed runs of one setting (a sweep over k, two variants…)."""
    models, labels, training = [c.model for c in compared], [c.setting for c in compared], [c.train for c in compared]
    if why_not_seed_runs(models, labels, training) is not None:
        return
    result = caches.seed_stability(tuple(c.key for c in compared), models, tuple(labels), training)
    mean, shared = result.mean, result.shared
    st.subheader(tr("Stability across seeds"))
    c1, c2 = st.columns(2)
    c1.metric(tr("Mean matched decoder cosine"), f"{mean.value:.3f}",
              help=tr("Each pair of models: every decoder atom matched one to one with the other model's "
                      "(Hungarian algorithm on cosine similarity), the matched cosines averaged; then the mean over "
                      "the pairs. Paulo & Belrose 2025."))
    c1.caption(tr("95 % interval {low:.3f} – {high:.3f} (bootstrap over atoms)", low=mean.low, high=mean.high))
    c2.metric(tr("Shared units (matched cosine > {threshold:g})", threshold=result.threshold), f"{shared.value:.0%}",
              help=tr("Of each model's {atoms} units, those whose matched atom in the other seed's model has a "
                      "cosine above {threshold:g}, the count Paulo & Belrose call shared features.",
                      atoms=result.atoms, threshold=result.threshold))
    c2.caption(tr("95 % interval {low:.0%} – {high:.0%}", low=shared.low, high=shared.high))
    st.caption(tr("How much of what these {count} models learned comes back from another seed: 1 would be the same "
                  "dictionary in another order; the untrained dictionaries of these seeds score {untrained:.3f}. "
                  "Paulo & Belrose found about 30 % of units shared in a 131K-unit SAE of Llama 3 8B.",
                  count=len(compared), untrained=result.untrained))
    # The columns in the reader's language (column_config is keyed by the names shown).
    pair, score, shared_units, encoder = (tr("pair"), tr("mean matched cosine"), tr("shared units"),
                                          tr("encoder filters' matched cosine"))
    st.dataframe(pd.DataFrame([{pair: tr("seed {first} – seed {second}", first=result.seeds[p.first],
                                         second=result.seeds[p.second]),
                                score: p.score, shared_units: p.shared_fraction,
                                encoder: p.encoder_score} for p in result.pairs]),
                 hide_index=True, width="stretch",
                 column_config={score: st.column_config.NumberColumn(format="%.3f"),
                                shared_units: st.column_config.NumberColumn(format="percent"),
                                encoder: st.column_config.NumberColumn(
                                    format="%.3f", help=tr("The same reading of the encoder filters (what a unit "
                                                           "reads), matched on their own"))})
