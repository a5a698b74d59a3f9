"""Train: pick a variant and its hyperparameters, watch it learn live, then keep, save or download it."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

import time

import numpy as np
import streamlit as st

from explorer.activations import unit_marks
from explorer.app import identity, jobs, keys, links, models, page, store, training_watch
from explorer.app.catalog import SAVE_DIR
from explorer.app.jobs import TrainingJob
from explorer.checkpoint import checkpoint_bytes, save_new_checkpoint
from explorer.figures import PLOTLY_CONFIG, loss_curves, rows_png, unit_means_chart, waiting_curves
from explorer.objective_values import filled_objective
from explorer.params import log_grid
from explorer.registry import get_variant, variant_names
from explorer.training import TrainSettings, default_epochs
from explorer.views import pick_indices

QUICK_EPOCHS = 20          # a live demo default, unless the variant needs the seeds' full step budget
PREVIEW_COUNT = 10
PROGRESS_EVERY, CHARTS_EVERY = 0.25, 1.0   # seconds between redraws of the progress line, and of the charts
SPEEDS = {"full": 0.0, "slow": 0.1, "slower": 0.3, "slowest": 1.0}   # slow motion: seconds after every batch

def kept_paths(variant_name: str) -> dict:
    """Where a new run is kept when it ends, and as it goes (a killed worker or server loses little)."""
    path = store.new_trained_path(identity.browser_id(), variant_name)
    return {"store_path": path, "keep_path": store.keep_path_for(path)}


def rewind(job: TrainingJob) -> None:
    """Rewind: the same run from its first step again (same start, same batches), waiting to be stepped."""
    job.stop()
    st.session_state[keys.TRAIN_JOB] = job.rewind(**kept_paths(job.variant)).start()


train_page = page.data_page("Train")
data = train_page.data
jobs.prepare_once()

left, right = st.columns([1, 2], gap="large")
with left:
    links.preset("train_variant", "variant", links.one_of(variant_names()), "variant")
    variant_name = st.selectbox("Variant", variant_names(), key="train_variant",
                                help="What each one is: the line below the menu, and its objective on the right.")
    links.publish("train", {"variant": variant_name}, train_page.link_slot)
    variant = get_variant(variant_name)
    st.caption(variant.summary)
    params = {}
    with st.container(border=True):
        st.markdown("**Hyperparameters** (the variant's defaults)")
        for name, spec in variant.config_class.field_specs().items():
            if name == "input_dim":
                continue
            key, help_text = f"hp_{variant_name}_{name}", f"{spec['help']} Allowed: {spec['range']}."
            label = f"{name} ({spec['symbol']})" if spec["symbol"] and spec["symbol"] != name else name
            if spec["choices"]:
                params[name] = st.selectbox(label, spec["choices"], key=key, help=help_text)
            elif isinstance(spec["default"], tuple):
                params[name] = st.text_input(label, ",".join(map(str, spec["default"])), key=key,
                                             help=f"{help_text} Empty: no hidden layer.", placeholder="none")
            elif isinstance(spec["default"], int):
                params[name] = st.number_input(label, min_value=int(spec["low"] or 1), max_value=4096,
                                               value=spec["default"], step=1, key=key, help=help_text)
            elif spec["log_scale"]:
                params[name] = st.select_slider(label, log_grid(spec), value=spec["default"], key=key,
                                                help=help_text, format_func=lambda v: f"{v:g}")
            else:
                params[name] = st.slider(label, float(spec["ui_low"]), float(spec["ui_high"]),
                                         float(spec["default"]), step=0.05, key=key, help=help_text)
    with st.container(border=True):
        st.markdown("**Training**")
        batch_size = st.select_slider("Batch size", [16, 32, 64, 128, 256, 512],
                                      value=variant.default_batch_size, key=f"bs_{variant_name}")
        budget = default_epochs(len(data.train_x), batch_size)
        quick = budget if variant.demo_needs_full_budget else min(QUICK_EPOCHS, budget)
        epochs = st.number_input("Epochs", 1, 5000, quick, key=f"epochs_{variant_name}_{batch_size}_{data.name}",
                                 help=f"The seeds' budget (10 epochs of 60,000 images) is {budget} epochs of "
                                      f"{data.name} at this batch size.")
        lr = st.select_slider("Learning rate", [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1, 1.0, 10.0],
                              value=1e-3, key="lr", format_func=lambda v: f"{v:g}",
                              help="Adam's step size; 1e-3 is the seeds'. Very large values make the loss diverge.")
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="train_seed", help="Same seed, same run.")

    job: TrainingJob | None = st.session_state.get(keys.TRAIN_JOB)
    busy = job is not None and job.running
    if st.button("Train", type="primary", disabled=busy, icon=":material/play_arrow:", width="stretch"):
        try:
            settings = TrainSettings(epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), seed=int(seed))
            preview = pick_indices(data.test_y, PREVIEW_COUNT, seed=0).tolist()
            st.session_state[keys.TRAIN_JOB] = TrainingJob(variant_name, params, data, settings, preview,
                                                           prune_browser=identity.browser_id(),
                                                           **kept_paths(variant_name)).start()
            st.rerun()
        except ValueError as exc:
            st.error(f"Cannot train with these settings: {exc}", icon=":material/warning:")

with right:
    st.latex(variant.objective_latex)          # the wide column: a formula never cut on a projector
    job = st.session_state.get(keys.TRAIN_JOB)
    if job is None:
        st.info("Choose a variant and press **Train**. Loss curves and reconstructions of the same "
                f"{PREVIEW_COUNT} test images update every epoch; **Stop** keeps what was learned.")
        # The empty panels say where the curves will be; drawn now, the browser's one-off start of the chart
        # library (about 1 s) is over before the click, not in the way of the first reconstructions.
        shown = tuple(t.name for t in variant.charted_terms())
        st.plotly_chart(waiting_curves(variant.term_titles(), shown, int(epochs)), config=PLOTLY_CONFIG,
                        key="curves_waiting")
        st.stop()

    # Training runs in a child process; this loop only redraws. A click anywhere interrupts the
    # loop (Streamlit reruns the page) and the rerun simply picks the drawing up again.
    progress_slot, stop_slot, formula_slot = st.empty(), st.empty(), st.empty()
    curves_slot, strip_slot, units_slot = st.empty(), st.empty(), st.empty()
    st.caption(" · ".join(f"**{t.title}**: {t.about}" for t in get_variant(job.variant).charted_terms()))

    draws = iter(range(10**9))   # each redraw needs its own element key within one script run
    # The progress line every PROGRESS_EVERY; the chart and the strip only for a new epoch, and at most every
    # CHARTS_EVERY: each redraw costs the server and the browser CPU that the training process (on the same
    # few cores, in a classroom) would otherwise have.
    drawn: dict = {"epochs": -1, "preview": None, "at": 0.0}

    def draw(final: bool = False) -> None:
        if job.status == "queued":
            progress_slot.progress(0.0, text="Queued: another training run is using the CPU; this one starts "
                                             "when it ends.")
            return
        epoch, history = job.snapshot()
        paused = job.paused
        loss_now = f" · loss {job.step_terms.get('total', float('nan')):.4g}" if job.step_terms else ""
        others = job.together - 1
        together = f" · trained with {others} other run{'s' * (others > 1)} of this shape at once" if others else ""
        where = (f"paused after step {paused.step} of epoch {paused.epoch} ({paused.global_step} in all): Step, "
                 "Epoch or Resume" if paused else f"epoch {epoch}/{job.settings.epochs} · {job.elapsed:.1f} s")
        progress_slot.progress(min(job.fraction, 1.0), text=f"{job.variant} on {job.data.name}: {where}{loss_now}"
                                                            f"{together}")
        now = time.perf_counter()
        shown_at = ("step", paused.global_step) if paused else ("epoch", job.preview_epoch)
        stepped = paused is not None and shown_at != drawn["preview"]      # a Step's result: drawn at once
        if not final and not stepped and drawn["epochs"] > 0 and now - drawn["at"] < CHARTS_EVERY:
            return          # the first epoch is drawn at once: a class sees its digits as soon as there are any
        variant_class = get_variant(job.variant)
        if (filled := filled_objective(job.model, job.step_terms)) is not None:
            formula_slot.latex(filled.latex())
        if final or len(history["epoch"]) != drawn["epochs"]:
            drawn["epochs"], drawn["at"] = len(history["epoch"]), now
            shown = tuple(t.name for t in variant_class.charted_terms())
            curves_slot.plotly_chart(loss_curves(history, variant_class.term_titles(), only=shown),
                                     config=PLOTLY_CONFIG, key=f"curves_{next(draws)}")
        if job.preview is not None and (final or shown_at != drawn["preview"]):
            drawn["preview"], drawn["at"] = shown_at, now
            after = f"step {paused.global_step}" if paused else f"epoch {job.preview_epoch}"
            strip_slot.image(rows_png([job.preview_x.numpy(), job.preview], job.data.image_shape, scale=4),
                             caption=f"Top: fixed test images · Bottom: reconstructions after {after}")
            if job.units is not None:
                marks = unit_marks(job.units.stats, variant_class.code)
                rho = job.model.target_firing_rate()
                with units_slot.container():
                    st.plotly_chart(unit_means_chart(np.asarray(job.units.stats.unit_mean_activation),
                                                     f"ρ̂ⱼ per unit, after {after}", marks, rho),
                                    config=PLOTLY_CONFIG, key=f"units_{next(draws)}")
                    st.caption(f"Each unit's mean activation ρ̂ⱼ on {job.units.images} test images"
                               + (f", against the target ρ = {rho:g} (dashed)" if rho is not None else "")
                               + f". {marks.meaning}")

    if job.running:
        with stop_slot.container(horizontal=True, vertical_alignment="bottom", gap="small"):
            st.button("Stop", icon=":material/stop:", on_click=job.stop, key="stop",
                      help="Stop now and keep what was learned.")
            if job.together == 1:            # several runs trained as one computation cannot wait for one
                st.button("Pause", icon=":material/pause:", on_click=job.pace, args=("pause",), key="pause",
                          help="Wait after the step under way: then Step, Step epoch or Resume.")
                st.button("Step", icon=":material/skip_next:", on_click=job.pace, args=("step",), key="step",
                          help="One batch: one optimizer step, then wait.")
                st.button("Epoch", icon=":material/fast_forward:", on_click=job.pace, args=("epoch",),
                          key="step_epoch", help="To the end of this epoch, then wait.")
                st.button("Resume", icon=":material/play_arrow:", on_click=job.pace, args=("resume",),
                          key="resume", help="Train on without waiting.")
                st.button("Rewind", icon=":material/replay:", on_click=rewind, args=(job,), key="rewind",
                          help="Back to the same start and the same batch order (the same numbers again), "
                               "waiting after the first step.")
                st.select_slider("Speed", list(SPEEDS), value=next(n for n, d in SPEEDS.items() if d == job.pace_delay),
                                 key=f"speed_{job.key}", width=150,
                                 on_change=lambda: job.pace("delay", SPEEDS[st.session_state[f"speed_{job.key}"]]),
                                 help="Slow motion: a wait after every batch.")
    while job.running:
        draw()
        time.sleep(PROGRESS_EVERY)
    stop_slot.empty()
    draw(final=True)

    if job.status == "failed":
        st.error(job.error, icon=":material/error:")
        st.stop()
    if job.status == "cancelled":
        st.info("Cancelled before it started; nothing was trained.")
        st.stop()
    metrics, summary = job.metrics, job.summary or {}
    assert metrics is not None                  # a finished or stopped job has been evaluated
    model_key = job.saved_key or job.key        # on disk in this browser's folder, or (failing that) in memory
    if training_watch.list_finished(job):       # once: the sidebar above was drawn before it ended
        st.rerun()
    if job.interrupted:
        st.warning(job.interrupted, icon=":material/warning:")
    verb = "Stopped early" if job.status == "stopped" else "Finished"
    speed = "" if "samples_per_second" not in summary else " (paused or slowed: its seconds count the waits)" \
        if job.paced else f" ({summary['samples_per_second']:,.0f} images/s)"
    st.success(f"{verb} after {len(job.history['epoch'])} epochs in {job.elapsed:.1f} s{speed}. "
               f"Test MSE {metrics.recon_mse:.4f}, "
               f"variance explained {metrics.explained_variance:.1%}, mean L0 {metrics.code.mean_l0:.1f}, "
               f"dead units {metrics.code.dead_fraction:.0%}.", icon=":material/check_circle:")
    if metrics.learned_nothing_reason:
        st.warning(metrics.learned_nothing_reason, icon=":material/warning:")
    if job.store_error:
        st.warning(f"Kept for this tab only: {job.store_error}.", icon=":material/warning:")
    else:
        st.caption("Kept for this browser: it stays in the sidebar's model list after a reload or a server "
                   "restart, and no other browser sees it. **Save** below publishes a copy for everyone.")
    c1, c2, c3 = st.columns([1.2, 1, 1], vertical_alignment="bottom")
    name = c1.text_input("Checkpoint name", f"{job.variant}-{time.strftime('%H%M%S')}", key=f"name_{job.key}")
    saved = st.session_state.setdefault(keys.TRAIN_SAVED, {})
    if c1.button("Save as checkpoint", icon=":material/save:"):
        try:
            path = save_new_checkpoint(SAVE_DIR, name, job.model, job.data.name, metrics.to_dict(), job.history,
                                       summary)
            saved[job.key] = models.saved_key(path)      # Make active now shows the saved one: a link names it
            st.toast(f"Saved {path}")
            c1.caption(f"Saved to `{path}`: listed in every browser's model list as *saved*.")
        except (ValueError, OSError) as exc:
            c1.error(str(exc))
    c2.download_button("Download .pt",
                       checkpoint_bytes(job.model, job.data.name, metrics.to_dict(), job.history, summary),
                       file_name=f"{name or job.variant}.pt", mime="application/octet-stream",
                       icon=":material/download:")
    active_key = saved.get(job.key, model_key)
    c3.button("Make active", type="primary", icon=":material/check_circle:",
              help="Show this model on every page: the saved checkpoint once you have saved it (everyone's, and "
                   "a link can name it), else this browser's own copy.",
              disabled=st.session_state.get(keys.ACTIVE_MODEL) == active_key,
              on_click=models.activate, args=(active_key, job.data.name))
    st.button("Rewind and step through", icon=":material/replay:", on_click=rewind, args=(job,), key="rewind_done",
              help="The same run again from the same start and the same batch order (the same numbers), waiting "
                   "after its first step: then Step, Epoch, Resume or slow motion.")
