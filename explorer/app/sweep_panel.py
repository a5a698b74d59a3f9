"""Compare's "Run a sweep" panel: the form that starts one, and this browser's sweeps with live
progress per trial; finished trials join the comparison as they land."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ..datasets import DEFAULT_DATA_DIR, Dataset
from ..i18n import N_, tr
from ..registry import variant_names
from . import identity, keys, models, sweeps
from .catalog import FileEntry
from .jobs import MAX_CONCURRENT

SHOWN_SWEEPS = 3          # the newest few; older ones stay listed as presets and in the model list
TRIAL_STATES = {"pending": N_("queued"), "interrupted": N_("not finished")}     # a waiting trial's word


def _trial_keys(folder: Path) -> list[str]:
    """Model-list keys of a sweep's finished trials, in the sweep's order."""
    entries = models.model_entries()
    by_path = {Path(e.path): k for k, e in entries.items() if isinstance(e, FileEntry)}
    trials = sweeps.read_manifest(folder)["trials"]
    return [by_path[folder / t["checkpoint"]] for t in trials
            if t["status"] == "done" and t.get("checkpoint") and folder / t["checkpoint"] in by_path]


def _compare(folder: Path) -> None:
    st.session_state[keys.SWEEP_COMPARE_NEXT] = _trial_keys(folder)[:10]


def apply_pending_selection() -> None:
    """Put a sweep's finished trials into the comparison (before the model picker is drawn)."""
    if (pending := st.session_state.pop(keys.SWEEP_COMPARE_NEXT, None)) is not None:
        st.session_state[keys.COMPARE_MODELS] = pending


def launcher(data: Dataset, data_dir: str = DEFAULT_DATA_DIR) -> None:
    """The form: a variant, one of its parameters and values (suggested across its range), epochs."""
    browser = identity.browser_id()
    with st.expander(tr("Run a sweep"), icon=":material/science:",
                     expanded=any(v.running for v in sweeps.browser_sweeps(browser))):
        c1, c2, c3 = st.columns([1.2, 1.2, 1])
        variant = c1.selectbox(tr("Variant"), [v for v in variant_names() if sweeps.sweepable(v)], key="sweep_variant")
        params = sweeps.sweepable(variant)
        param = c2.selectbox(tr("Parameter"), list(params), key=f"sweep_param_{variant}",
                             format_func=lambda p: f"{params[p].get('symbol') or p} ({p})" if params[p].get("symbol")
                             and params[p]["symbol"] != p else p)
        epochs = int(c3.number_input(tr("Epochs per trial"), 1, 500, 20, key="sweep_epochs",
                                     help=tr("Epochs of {dataset} ({count:,} images) for each trial.",
                                             dataset=data.name, count=len(data.train_x))))
        spec = params[param]
        suggested = sweeps.suggested_values(spec)
        values = st.multiselect(tr("Values"), suggested, default=suggested, key=f"sweep_values_{variant}_{param}",
                                accept_new_options=True,
                                help=tr("{help} Range: {range}. Type a value and press Enter to add it.",
                                        help=tr(str(spec.get("help", ""))), range=tr(str(spec.get("range", "")))))
        values = sorted(values, key=lambda v: float(v) if _is_number(v) else float("inf"))
        seeds = tr("each from its own seed") if param == "seed" else tr("seed 0")
        st.caption(tr("{trials} trials × {epochs} epochs on {dataset}, {seeds}. They queue with every other "
                      "training on this server ({at_once} at once) and land below one by one.", trials=len(values),
                      epochs=epochs, dataset=data.name, seeds=seeds, at_once=MAX_CONCURRENT))
        if st.button(tr("Run the sweep"), type="primary", icon=":material/play_arrow:", disabled=len(values) < 2,
                     help=tr("Needs at least two values.") if len(values) < 2 else None):
            try:
                live = sweeps.start_sweep(browser, variant, param, values, epochs, data, data_dir)
            except (ValueError, OSError) as exc:        # OSError: files.WriteError, naming the file
                st.error(tr("Cannot run this sweep: {error}", error=exc), icon=":material/error:")
            else:
                st.session_state[keys.SWEEP_FOLLOWED] = str(live.folder)
                st.session_state[keys.SWEEP_SEEN_DONE] = -1
    _progress(browser, data, data_dir)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _progress(browser: str, data: Dataset, data_dir: str) -> None:
    views = sweeps.browser_sweeps(browser)[:SHOWN_SWEEPS]
    running = any(v.running for v in views)

    @st.fragment(run_every=1.0 if running else None)
    def panel() -> None:
        shown = sweeps.browser_sweeps(browser)[:SHOWN_SWEEPS]
        for view in shown:
            _one_sweep(browser, view, data, data_dir)
        followed = next((v for v in shown if str(v.folder) == st.session_state.get(keys.SWEEP_FOLLOWED)), None)
        if followed is not None:
            done = followed.count("done")
            if done != st.session_state.get(keys.SWEEP_SEEN_DONE):   # a trial landed: redraw the comparison
                st.session_state[keys.SWEEP_SEEN_DONE] = done
                if done >= 2:
                    _compare(followed.folder)
                st.rerun(scope="app")
            if not followed.running:
                st.session_state.pop(keys.SWEEP_FOLLOWED, None)
        if running and not any(v.running for v in shown):
            st.rerun(scope="app")            # the last one finished: stop refreshing

    if views:
        panel()


def _one_sweep(browser: str, view: sweeps.SweepView, data: Dataset, data_dir: str) -> None:
    n, done = len(view.trials), view.count("done")
    state = (tr("running") if view.running else
             tr("stopped: {done} of {total} finished", done=done, total=n) if view.unfinished else tr("finished"))
    with st.container(border=True):
        head, buttons = st.columns([3, 2], vertical_alignment="center")
        if failed := view.count("failed"):
            line = tr("**{title}** — {done} of {total} trials done, {failed} failed · {state}", title=view.title,
                      done=done, total=n, failed=failed, state=state)
        else:
            line = tr("**{title}** — {done} of {total} trials done · {state}", title=view.title, done=done, total=n,
                      state=state)
        head.markdown(line)
        b1, b2 = buttons.columns(2)
        if view.running:
            b1.button(tr("Stop"), icon=":material/stop:", key=f"stop_{view.folder.name}", width="stretch",
                      on_click=view.live.stop if view.live else None, help=tr("Finished trials are kept."))
        elif view.unfinished and view.trials and view.trials[0]["settings"]:
            if b1.button(tr("Run again"), icon=":material/replay:", key=f"resume_{view.folder.name}", width="stretch",
                         help=tr("Trains the trials that did not finish; finished ones are kept.")):
                try:
                    sweeps.resume(browser, view, data, data_dir)
                    st.session_state[keys.SWEEP_FOLLOWED] = str(view.folder)
                except (ValueError, OSError) as exc:
                    st.error(tr("Cannot run it again: {error}", error=exc), icon=":material/error:")
                st.rerun(scope="app")
        b2.button(tr("Compare these"), icon=":material/compare_arrows:", key=f"cmp_{view.folder.name}",
                  width="stretch", disabled=done < 2, on_click=_compare, args=(view.folder,))
        jobs = view.live.jobs if view.live else {}
        for column, trial in zip(st.columns(min(n, 4)) * ((n + 3) // 4), view.trials, strict=False):
            job = jobs.get(trial["name"])
            m = trial.get("metrics") or {}
            value = ", ".join(f"{k}={v}" for k, v in trial["params"].items())
            if trial["status"] == "done":
                column.progress(1.0, text=f"{value}: FVU {m.get('fvu', float('nan')):.3f}, L0 "
                                          f"{m.get('mean_l0', float('nan')):.1f}")
            elif trial["status"] == "running" and job is not None:
                column.progress(job.fraction, text=tr("{value}: epoch {epoch} of {epochs}", value=value,
                                                      epoch=job.epoch, epochs=job.settings.epochs))
            elif trial["status"] == "failed":
                # sweep.json keeps the message in English: a fixed one (sweeps.STOPPED…) is shown translated
                message = trial.get("message")
                column.error(f"{value}: {tr(message) if isinstance(message, str) else message}",
                             icon=":material/error:")
            else:
                label = TRIAL_STATES.get(trial["status"], trial["status"])
                column.progress(0.0, text=f"{value}: {tr(label)}")
