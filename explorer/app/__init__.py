"""The Streamlit app's glue, one job per module; the rest of `explorer` never imports Streamlit.

    preload       the first import of every script: finish importing what plotly peeks at
    legacy_pages  leave Streamlit's legacy pages/-folder mode (the one place that handles it)
    language      the reader's language (a link's lang=, the sidebar's switch) for explorer.i18n
    keys          every st.session_state key the app reads or writes
    caches        cached datasets, models and results, shared by every session
    catalog       which models exist: shipped checkpoints on disk, a session's own models
    models        this session's model list: the active model, uploads, trained models
    page          page scaffolding: the active model and dataset, or the reason there is none
    timing        server-side page times for the load test
    jobs, worker  training runs in a worker process, mirrored for live pages
    messages      what the worker and its job say to each other
"""
