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
from explorer.i18n import N_, tr, trn, trp
from explorer.objective_values import filled_objective
from explorer.params import log_grid
from explorer.registry import get_variant, variant_names
from explorer.training import TrainSettings, default_epochs
from explorer.variants.base import Autoencoder
from explorer.views import pick_indices

QUICK_EPOCHS = 20          # a live demo default, unless the variant needs the seeds' full step budget
PREVIEW_COUNT = 10
PROGRESS_EVERY, CHARTS_EVERY = 0.25, 1.0   # seconds between redraws of the progress line, and of the charts
SPEEDS = {"full": 0.0, "slow": 0.1, "slower": 0.3, "slowest": 1.0}   # slow motion: seconds after every batch
SPEED_NAMES = {"full": N_("full"), "slow": N_("slow"), "slower": N_("slower"), "slowest": N_("slowest")}

def kept_paths(variant_name: str) -> dict:
    """Where a new run is kept when it ends, and as it goes (a killed worker or server loses little)."""
    path = store.new_trained_path(identity.browser_id(), variant_name)
    return {"store_path": path, "keep_path": store.keep_path_for(path)}


def shown_titles(variant_class: type[Autoencoder]) -> dict[str, str]:
    """The variant's term titles in the reader's language (for the charts' panels)."""
    return {name: tr(title) for name, title in variant_class.term_titles().items()}


def rewind(job: TrainingJob) -> None:
    """Rewind: the same run from its first step again (same start, same batches), waiting to be stepped."""
    job.stop()
    st.session_state[keys.TRAIN_JOB] = job.rewind(**kept_paths(job.variant)).start()


train_page = page.data_page(tr("Train"))
data = train_page.data
jobs.prepare_once()

left, right = st.columns([1, 2], gap="large")
with left:
    links.preset("train_variant", "variant", links.one_of(variant_names()), "variant")
    variant_name = st.selectbox(tr("Variant"), variant_names(), key="train_variant",
                                help=tr("What each one is: the line below the menu, and its objective on the right."))
    links.publish("train", {"variant": variant_name}, train_page.link_slot)
    variant = get_variant(variant_name)
    st.caption(tr(variant.summary))
    params = {}
    with st.container(border=True):
        st.markdown(tr("**Hyperparameters** (the variant's defaults)"))
        for name, spec in variant.config_class.field_specs().items():
            if name == "input_dim":
                continue
            key = f"hp_{variant_name}_{name}"
            help_text = tr("{help} Allowed: {range}.", help=tr(spec["help"]), range=spec["range"])
            label = f"{name} ({spec['symbol']})" if spec["symbol"] and spec["symbol"] != name else name
            if spec["choices"]:
                params[name] = st.selectbox(label, spec["choices"], key=key, help=help_text)
            elif isinstance(spec["default"], tuple):
                params[name] = st.text_input(label, ",".join(map(str, spec["default"])), key=key,
                                             help=tr("{help} Empty: no hidden layer.", help=help_text),
                                             placeholder=tr("none"))
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
        st.markdown(tr("**Training**"))
        batch_size = st.select_slider(tr("Batch size"), [16, 32, 64, 128, 256, 512],
                                      value=variant.default_batch_size, key=f"bs_{variant_name}")
        budget = default_epochs(len(data.train_x), batch_size)
        quick = budget if variant.demo_needs_full_budget else min(QUICK_EPOCHS, budget)
        epochs = st.number_input(tr("Epochs"), 1, 5000, quick, key=f"epochs_{variant_name}_{batch_size}_{data.name}",
                                 help=tr("The seeds' budget (10 epochs of 60,000 images) is {budget} epochs of "
                                         "{dataset} at this batch size.", budget=budget, dataset=data.name))
        lr = st.select_slider(tr("Learning rate"),
                              [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1, 1.0, 10.0],
                              value=1e-3, key="lr", format_func=lambda v: f"{v:g}",
                              help=tr("Adam's step size; 1e-3 is the seeds'. Very large values make the loss diverge."))
        seed = st.number_input(tr("Seed"), 0, 2**31 - 1, 0, key="train_seed", help=tr("Same seed, same run."))

    job: TrainingJob | None = st.session_state.get(keys.TRAIN_JOB)
    busy = job is not None and job.running
    if st.button(tr("Train"), type="primary", disabled=busy, icon=":material/play_arrow:", width="stretch"):
        try:
            settings = TrainSettings(epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), seed=int(seed))
            preview = pick_indices(data.test_y, PREVIEW_COUNT, seed=0).tolist()
            st.session_state[keys.TRAIN_JOB] = TrainingJob(variant_name, params, data, settings, preview,
                                                           prune_browser=identity.browser_id(),
                                                           **kept_paths(variant_name)).start()
            st.rerun()
        except ValueError as exc:
            st.error(tr("Cannot train with these settings: {error}", error=exc), icon=":material/warning:")

with right:
    st.latex(variant.objective_latex)          # the wide column: a formula never cut on a projector
    job = st.session_state.get(keys.TRAIN_JOB)
    if job is None:
        st.info(tr("Choose a variant and press **Train**. Loss curves and reconstructions of the same "
                   "{count} test images update every epoch; **Stop** keeps what was learned.", count=PREVIEW_COUNT))
        # The empty panels say where the curves will be; drawn now, the browser's one-off start of the chart
        # library (about 1 s) is over before the click, not in the way of the first reconstructions.
        shown = tuple(t.name for t in variant.charted_terms())
        st.plotly_chart(waiting_curves(shown_titles(variant), shown, int(epochs)), config=PLOTLY_CONFIG,
                        key="curves_waiting")
        st.stop()

    # Training runs in a child process; this loop only redraws. A click anywhere interrupts the
    # loop (Streamlit reruns the page) and the rerun simply picks the drawing up again.
    progress_slot, stop_slot, formula_slot = st.empty(), st.empty(), st.empty()
    curves_slot, strip_slot, units_slot = st.empty(), st.empty(), st.empty()
    st.caption(" · ".join(tr("**{title}**: {about}", title=tr(t.title), about=tr(t.about))
                          for t in get_variant(job.variant).charted_terms()))

    draws = iter(range(10**9))   # each redraw needs its own element key within one script run
    # The progress line every PROGRESS_EVERY; the chart and the strip only for a new epoch, and at most every
    # CHARTS_EVERY: each redraw costs the server and the browser CPU that the training process (on the same
    # few cores, in a classroom) would otherwise have.
    drawn: dict = {"epochs": -1, "preview": None, "at": 0.0}

    def draw(final: bool = False) -> None:
        if job.status == "queued":
            progress_slot.progress(0.0, text=tr("Queued: another training run is using the CPU; this one starts "
                                                "when it ends."))
            return
        epoch, history = job.snapshot()
        paused = job.paused
        loss_now = tr(" · loss {loss:.4g}", loss=job.step_terms.get("total", float("nan"))) if job.step_terms else ""
        others = job.together - 1
        together = trn(" · trained with {count} other run of this shape at once",
                       " · trained with {count} other runs of this shape at once", others) if others else ""
        where = (tr("paused after step {step} of epoch {epoch} ({steps} in all): Step, Epoch or Resume",
                    step=paused.step, epoch=paused.epoch, steps=paused.global_step) if paused else
                 tr("epoch {epoch}/{epochs} · {seconds:.1f} s", epoch=epoch, epochs=job.settings.epochs,
                    seconds=job.elapsed))
        progress_slot.progress(min(job.fraction, 1.0),
                               text=tr("{variant} on {dataset}: {where}{loss}{together}", variant=job.variant,
                                       dataset=job.data.name, where=where, loss=loss_now, together=together))
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
            curves_slot.plotly_chart(loss_curves(history, shown_titles(variant_class), only=shown),
                                     config=PLOTLY_CONFIG, key=f"curves_{next(draws)}")
        if job.preview is not None and (final or shown_at != drawn["preview"]):
            drawn["preview"], drawn["at"] = shown_at, now
            after = (tr("step {step}", step=paused.global_step) if paused else
                     tr("epoch {epoch}", epoch=job.preview_epoch))
            strip_slot.image(rows_png([job.preview_x.numpy(), job.preview], job.data.image_shape, scale=4),
                             caption=tr("Top: fixed test images · Bottom: reconstructions after {after}", after=after))
            if job.units is not None:
                marks = unit_marks(job.units.stats, variant_class.code)
                rho = job.model.target_firing_rate()
                with units_slot.container():
                    st.plotly_chart(unit_means_chart(np.asarray(job.units.stats.unit_mean_activation),
                                                     tr("ρ̂ⱼ per unit, after {after}", after=after), marks, rho),
                                    config=PLOTLY_CONFIG, key=f"units_{next(draws)}")
                    st.caption(tr("Each unit's mean activation ρ̂ⱼ on {count} test images, against the target "
                                  "ρ = {rho:g} (dashed). {meaning}", count=job.units.images, rho=rho,
                                  meaning=marks.meaning) if rho is not None else
                               tr("Each unit's mean activation ρ̂ⱼ on {count} test images. {meaning}",
                                  count=job.units.images, meaning=marks.meaning))

    if job.running:
        with stop_slot.container(horizontal=True, vertical_alignment="bottom", gap="small"):
            st.button(tr("Stop"), icon=":material/stop:", on_click=job.stop, key="stop",
                      help=tr("Stop now and keep what was learned."))
            if job.together == 1:            # several runs trained as one computation cannot wait for one
                st.button(tr("Pause"), icon=":material/pause:", on_click=job.pace, args=("pause",), key="pause",
                          help=tr("Wait after the step under way: then Step, Step epoch or Resume."))
                st.button(trp("training", "Step"), icon=":material/skip_next:", on_click=job.pace, args=("step",),
                          key="step",
                          help=tr("One batch: one optimizer step, then wait."))
                st.button(tr("Epoch"), icon=":material/fast_forward:", on_click=job.pace, args=("epoch",),
                          key="step_epoch", help=tr("To the end of this epoch, then wait."))
                st.button(tr("Resume"), icon=":material/play_arrow:", on_click=job.pace, args=("resume",),
                          key="resume", help=tr("Train on without waiting."))
                st.button(tr("Rewind"), icon=":material/replay:", on_click=rewind, args=(job,), key="rewind",
                          help=tr("Back to the same start and the same batch order (the same numbers again), "
                                  "waiting after the first step."))
                st.select_slider(tr("Speed"), list(SPEEDS),
                                 value=next(n for n, d in SPEEDS.items() if d == job.pace_delay),
                                 key=f"speed_{job.key}", width=150, format_func=lambda n: tr(SPEED_NAMES[n]),
                                 on_change=lambda: job.pace("delay", SPEEDS[st.session_state[f"speed_{job.key}"]]),
                                 help=tr("Slow motion: a wait after every batch."))
    while job.running:
        draw()
        time.sleep(PROGRESS_EVERY)
    stop_slot.empty()
    draw(final=True)

    if job.status == "failed":
        st.error(job.error, icon=":material/error:")
        st.stop()
    if job.status == "cancelled":
        st.info(tr("Cancelled before it started; nothing was trained."))
        st.stop()
    metrics, summary = job.metrics, job.summary or {}
    assert metrics is not None                  # a finished or stopped job has been evaluated
    model_key = job.saved_key or job.key        # on disk in this browser's folder, or (failing that) in memory
    if training_watch.list_finished(job):       # once: the sidebar above was drawn before it ended
        st.rerun()
    if job.interrupted:
        st.warning(job.interrupted, icon=":material/warning:")
    speed = "" if "samples_per_second" not in summary else tr(" (paused or slowed: its seconds count the waits)") \
        if job.paced else tr(" ({rate:,.0f} images/s)", rate=summary["samples_per_second"])
    ended = dict(epochs=len(job.history["epoch"]), seconds=job.elapsed, speed=speed, mse=metrics.recon_mse,
                 explained=metrics.explained_variance, l0=metrics.code.mean_l0, dead=metrics.code.dead_fraction)
    st.success(tr("Stopped early after {epochs} epochs in {seconds:.1f} s{speed}. Test MSE {mse:.4f}, variance "
                  "explained {explained:.1%}, mean L0 {l0:.1f}, dead units {dead:.0%}.", **ended)
               if job.status == "stopped" else
               tr("Finished after {epochs} epochs in {seconds:.1f} s{speed}. Test MSE {mse:.4f}, variance "
                  "explained {explained:.1%}, mean L0 {l0:.1f}, dead units {dead:.0%}.", **ended),
               icon=":material/check_circle:")
    if metrics.learned_nothing:
        st.warning(metrics.learned_nothing_text(), icon=":material/warning:")
    if job.store_error:
        st.warning(tr("Kept for this tab only: {error}.", error=job.store_error), icon=":material/warning:")
    else:
        st.caption(tr("Kept for this browser: it stays in the sidebar's model list after a reload or a server "
                      "restart, and no other browser sees it. **Save** below publishes a copy for everyone."))
    c1, c2, c3 = st.columns([1.2, 1, 1], vertical_alignment="bottom")
    name = c1.text_input(tr("Checkpoint name"), f"{job.variant}-{time.strftime('%H%M%S')}", key=f"name_{job.key}")
    saved = st.session_state.setdefault(keys.TRAIN_SAVED, {})
    if c1.button(tr("Save as checkpoint"), icon=":material/save:"):
        try:
            path = save_new_checkpoint(SAVE_DIR, name, job.model, job.data.name, metrics.to_dict(), job.history,
                                       summary)
            saved[job.key] = models.saved_key(path)      # Make active now shows the saved one: a link names it
            st.toast(tr("Saved {path}", path=path))
            c1.caption(tr("Saved to `{path}`: listed in every browser's model list as *saved*.", path=path))
        except (ValueError, OSError) as exc:
            c1.error(str(exc))
    c2.download_button(tr("Download .pt"),
                       checkpoint_bytes(job.model, job.data.name, metrics.to_dict(), job.history, summary),
                       file_name=f"{name or job.variant}.pt", mime="application/octet-stream",
                       icon=":material/download:")
    active_key = saved.get(job.key, model_key)
    c3.button(tr("Make active"), type="primary", icon=":material/check_circle:",
              help=tr("Show this model on every page: the saved checkpoint once you have saved it (everyone's, and "
                      "a link can name it), else this browser's own copy."),
              disabled=st.session_state.get(keys.ACTIVE_MODEL) == active_key,
              on_click=models.activate, args=(active_key, job.data.name))
    st.button(tr("Rewind and step through"), icon=":material/replay:", on_click=rewind, args=(job,), key="rewind_done",
              help=tr("The same run again from the same start and the same batch order (the same numbers), waiting "
                      "after its first step: then Step, Epoch, Resume or slow motion."))
