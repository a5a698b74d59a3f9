"""Every st.session_state key the app's code reads or writes, in one place (widget-only keys, read
back through the widget's return value, stay beside their widget)."""
from __future__ import annotations

# The sidebar: what every page shows.
ACTIVE_MODEL = "active_model"        # the active entry's key (models.ModelEntry.key)
DATASET = "dataset"                  # a name in explorer.datasets.DATASETS
DEVICE = "device"                    # "auto" or a torch device name
SESSION_MODELS = "session_models"    # {key: ModelEntry}: the models trained or uploaded in this session
UPLOAD = "upload"                    # the sidebar's file uploader
UPLOAD_SEEN = "_upload_seen"         # the file id of the last upload handled
UPLOAD_NOTE = "_upload_note"         # ("success" | "error", message) about the last upload
MODEL_GONE = "_model_gone"           # the selected checkpoint disappeared from disk: say so once
LANGUAGE = "lang"                    # the reader's language, a code of explorer.i18n.LANGUAGES (app/language.py)
MODEL_GROUP = "model_group"          # the sidebar menu's group filter (app/model_menu.GROUPS), None for all

# Who this browser is (app/identity.py).
BROWSER_ID = "_browser_id"           # its id (32 hex digits)
BROWSER_ID_IN_COOKIE = "_browser_id_in_cookie"   # whether the browser already sent it as a cookie
KEEP_UPLOAD = "keep_upload"          # the sidebar's "keep it in this browser" for the next upload

# Draw your own digit (app/sketch.py).
SKETCH_IMAGE = "_sketch_image"       # the last drawing, a PNG data URL: it follows the student between pages

# Latent space (app/latent_choices.py), per dataset: "_lat_<role>_<dataset>" the image (latent.ImageRef) chosen
# for each role (the neighbours', the walk's start and end); "_lat_seen_<map key>" the map's points clicked at
# the last run.

# Links (app/links.py).
LINK_APPLIED = "_link_applied"       # the link values already applied in this session ("name=value")
LINK_NOTICES = "_link_notices"       # messages about unusable link values, shown once
LINK_MODEL_ID = "_link_model_id"     # how a link names the active model (None: it is the browser's own)
LINK_MODEL_OWN = "_link_model_own"   # whether the active model is the browser's own (so not in the link)

# Train.
TRAIN_JOB = "train_job"              # the session's explorer.app.jobs.TrainingJob
TRAIN_LISTED = "_train_listed"       # the job whose finished model the sidebar has been rerun to list
TRAIN_SAVED = "_train_saved"         # {job key: model-list key of the checkpoint Save wrote for it}

# Sweeps run from Compare (app/sweep_panel.py).
SWEEP_FOLLOWED = "_sweep_followed"   # the folder of the sweep this session started: its trials join the comparison
SWEEP_SEEN_DONE = "_sweep_seen_done" # how many of its trials had finished at the last redraw
SWEEP_COMPARE_NEXT = "_sweep_compare_next"   # model keys to compare, applied before the model picker is drawn

# Push the code (app/push_panel.py).
PUSH_HELD = "_push_held"             # {model key: {unit: value}}: the units a student holds across images

# Seeds behind "Reshuffle" / "Other images" / "New samples" buttons.
RECONSTRUCTIONS_SEED = "rec_seed"
ACTIVATIONS_STRIP_SEED = "act_strip_seed"
COMPARE_SEED = "cmp_seed"
PRIOR_SEED = "lat_prior_seed"

# Widgets that code also sets or reads directly.
ACTIVATIONS_UNIT = "act_unit"        # the unit inspected on Activations (also highlighted in the histograms)
ACTIVATIONS_VIEW = "act_view"        # the view Activations shows (a link's `view`; a link's `unit` opens "unit")
COMPARE_MODELS = "cmp_models"        # the models on Compare (presets set it)
CLAIMS_MODELS = "claims_models"      # the models the Claims page judges (presets set it)
CLAIMS_SHOWN = "claims_shown"        # the claim whose section the Claims page shows (a link's `claim`)

# Lessons.
LESSON = "lesson"                    # the lesson shown (a name of lessons.shipped_lessons() or of OWN_LESSONS)
LESSON_STEP = "lesson_step"          # + "_<lesson>": its step shown, 1-based
OWN_LESSONS = "_own_lessons"         # {name: lessons.Lesson}: lesson files opened in this tab
LESSON_UPLOAD_SEEN = "_lesson_upload_seen"   # the file id of the last lesson file handled
