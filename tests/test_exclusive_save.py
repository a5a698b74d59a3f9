"""Two students saving under one name at the same instant: one file, one clear "name taken", never a
silent overwrite — checked with two processes released together, round after round."""
from __future__ import annotations

import multiprocessing as mp

import torch
from conftest import ROOT

ROUNDS = 40


def _saver(folder: str, who: int, barrier, results) -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from explorer import build_model
    from explorer.checkpoint import NameTakenError, save_new_checkpoint

    model = build_model("ae", {"latent_dim": 4, "hidden": "8"}, input_dim=64, seed=who)
    for r in range(ROUNDS):
        barrier.wait()                      # both processes save the same name at the same instant
        try:
            save_new_checkpoint(folder, f"round{r}", model, f"by-{who}")
            results.put((r, who, "saved"))
        except NameTakenError as exc:
            results.put((r, who, str(exc)))


def test_two_processes_saving_one_name_at_once_get_one_file_and_one_refusal(tmp_path):
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_saver, args=(str(tmp_path), who, barrier, results)) for who in (0, 1)]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    for r in range(ROUNDS):
        this_round = [o for o in outcomes if o[0] == r]
        saved = [who for _, who, what in this_round if what == "saved"]
        refused = [what for _, _, what in this_round if what != "saved"]
        assert len(saved) == 1 and len(refused) == 1, this_round
        assert f"a checkpoint named round{r}.pt already exists" in refused[0]
        payload = torch.load(tmp_path / f"round{r}.pt", weights_only=True)
        assert payload["dataset"] == f"by-{saved[0]}"                  # the winner's file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"round{r}.pt" for r in range(ROUNDS))  # no temp
