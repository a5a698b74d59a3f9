"""The lessons shipped with the app, in the seed notes' order: the autoencoder, sparse codes (L1, then KL),
denoising, contractive and variational, and the modern sparse autoencoders. Each step opens a view of the
shipped checkpoints; the formulas are the seeds' own. Every text is marked N_() (a catalogue key) and shown
with tr() on the Lessons page; the formulas stay as they are."""
from __future__ import annotations

from .i18n import N_
from .lessons import Lesson, Step

SWEEP_L1 = "sweeps/sparse_l1-lam/sparse_l1-lam=0,sweeps/sparse_l1-lam/sparse_l1-lam=1e-4," \
           "sweeps/sparse_l1-lam/sparse_l1-lam=1e-3,sweeps/sparse_l1-lam/sparse_l1-lam=3e-3"
SWEEP_TOPK = ",".join(f"sweeps/topk-k/topk-k={k}" for k in (2, 5, 10, 20, 32))

LESSONS = (
    Lesson("autoencoder", N_("The autoencoder: learning a code by reconstructing"),
           N_("An encoder squeezes each image into a small code, a decoder draws the image back from it, and both "
              "learn by making the drawing match the input."),
           (Step(N_("The objective"), "home", {"model": "ae"},
                 N_("The seed's plain autoencoder: 784 pixels → 128 → a code of 32 numbers → 128 → 784."),
                 r"\min_{\theta,\phi}\ \mathbb{E}_{x\sim P}\, d\big(x, g_\phi(f_\theta(x))\big)",
                 N_("The strip under the formula: the top row is the input, the bottom row what the code keeps."),
                 N_("32 numbers for 784 pixels: what is lost first?")),
            Step(N_("Watch it learn"), "train", {"variant": "ae"},
                 N_("Train it live: the loss falls, and the strip sharpens from the mean digit to digits."),
                 look=N_("The reconstructions of the first two or three epochs: which strokes come first?"),
                 question=N_("Why does the test loss follow the training loss so closely here?")),
            Step(N_("Where it fails"), "reconstructions", {"model": "ae"},
                 N_("The error per class and per pixel, and the worst-reconstructed test images."),
                 look=N_("The per-pixel map: where on the page is the error?"),
                 question=N_("Are the worst images badly written digits, or a weakness of the code?")),
            Step(N_("The code as a map"), "latent", {"model": "ae", "map": "pca"},
                 N_("Each test image's code, projected to two dimensions: nobody told the model the classes."),
                 look=N_("Which classes sit apart, which overlap? Click a point to see its neighbours."),
                 question=N_("Would a t-SNE map of the same codes tell another story?")))),
    Lesson("sparse", N_("Sparse codes: first L1, then KL"),
           N_("A sparsity constraint lets only a few code units fire for any one image."),
           (Step(N_("L1: a penalty on the code's size"), "activations", {"model": "sparse_l1", "view": "firing"},
                 N_("The L1 penalty adds λ·‖z‖₁ to the reconstruction error: every active unit costs."),
                 r"\min\ \mathbb{E}_x \lVert x - g(z) \rVert^2 + \lambda \lVert z \rVert_1",
                 N_("The firing rates and L0: how many units does one image use?"),
                 N_("What happens to the units that never pay for themselves?")),
            Step(N_("Turning λ up"), "compare", {"models": SWEEP_L1},
                 N_("The same model trained at four values of λ, side by side."),
                 look=N_("The trade-off curve: reconstruction error against mean L0."),
                 question=N_("Where would you stop turning λ up, and why?")),
            Step(N_("KL: a target firing rate"), "activations", {"model": "sparse_kl", "view": "kl"},
                 N_("The seed's sparse AE: sigmoid units, each pulled to fire on a fraction ρ of the images."),
                 r"\hat\rho_j = \frac{1}{N}\sum_i z_j(x_i),\quad "
                 r"\mathrm{KL}(\rho\,\Vert\,\hat\rho_j) = \rho\log\frac{\rho}{\hat\rho_j}"
                 r" + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j}",
                 N_("ρ̂ⱼ against ρ, and the KL penalty of each unit."),
                 N_("Why is a unit with ρ̂ⱼ = 0.5 far more expensive than one with ρ̂ⱼ = 0.01?")),
            Step(N_("Does sparsity disentangle?"), "claims", {"models": SWEEP_TOPK, "claim": "selectivity"},
                 N_("The seed notes say sparse units each come to mean one thing. Measured, with intervals."),
                 look=N_("The verdict, and whether the intervals of the sparsest and densest codes separate."),
                 question=N_("Does 'one unit, one class' mean the same as 'one unit, one meaning'?")))),
    Lesson("denoising", N_("Denoising: robust features from corrupted inputs"),
           N_("Train on noisy inputs against clean targets: the code must keep what survives the noise."),
           (Step(N_("Noisy in, clean out"), "reconstructions",
                 {"model": "denoising", "noise": "gaussian", "level": "0.3"},
                 N_("The denoising AE sees x̃ = x + noise and is scored against the clean x."),
                 r"\min\ \mathbb{E}_{x,\tilde x}\lVert x - g(f(\tilde x)) \rVert^2",
                 N_("Noisy input, denoised output and the original, row by row."),
                 N_("Turn the noise level up: where does it break?")),
            Step(N_("And the plain AE?"), "reconstructions", {"model": "ae", "noise": "gaussian", "level": "0.3"},
                 N_("The same noise, through a model never trained for it."),
                 look=N_("Compare its worst tiles with the denoiser's."),
                 question=N_("Is the denoiser better because of its training, or because of its size?")),
            Step(N_("Is it more robust?"), "claims", {"claim": "denoising"},
                 N_("The seed's claim that denoising training gives robust features, measured."),
                 look=N_("The code's cosine similarity under noise, for each model."),
                 question=N_("What would convince you the difference is not chance?")))),
    Lesson("contractive-variational", N_("Contractive and variational codes"),
           N_("Two other ways to shape the code: make it insensitive to small input changes, or make it a "
              "distribution you can sample from."),
           (Step(N_("A code that barely moves"), "activations", {"model": "contractive", "view": "units"},
                 N_("The contractive AE penalises the Jacobian of the code: small input changes, small code changes."),
                 r"\min\ \mathbb{E}_x \lVert x - g(f(x)) \rVert^2 + \lambda \left\lVert \frac{\partial f(x)}"
                 r"{\partial x} \right\rVert_F^2",
                 N_("Every unit's histogram: how spread out are the activations?"),
                 N_("What does a unit that is always on tell you about an image?")),
            Step(N_("A code you can walk through"), "latent", {"model": "vae-2d", "map": "raw"},
                 N_("A VAE with a 2-D code: every point of the plane decodes to an image."),
                 r"\min\ \mathbb{E}_x\big[-\mathbb{E}_{q(z|x)}\log p(x|z) + \beta\,\mathrm{KL}(q(z|x)\,\Vert\,"
                 r"\mathcal{N}(0, I))\big]",
                 N_("Move the pointer between the points: the decoder's picture of each place."),
                 N_("Why are there no empty holes between the classes?")))),
    Lesson("modern-saes", N_("The modern sparse autoencoders"),
           N_("TopK, BatchTopK and JumpReLU choose the active units directly, as the field's SAEs do."),
           (Step(N_("Exactly k units"), "activations", {"model": "topk", "view": "unit"},
                 N_("TopK keeps each image's k largest units and zeroes the rest."),
                 r"z = \mathrm{ReLU}(\mathrm{TopK}_k(W x + b))",
                 N_("One unit's feature page: its decoder atom, its top images, its classes."),
                 N_("Is this unit a stroke, a part of a digit, or a whole digit?")),
            Step(N_("All the dictionary"), "activations", {"model": "topk", "view": "filters"},
                 N_("Every unit's encoder filter and decoder atom; click one to open its page."),
                 look=N_("The atoms: which look like strokes?"),
                 question=N_("Why might a larger k give less interpretable atoms?")),
            Step(N_("The frontier"), "compare", {"models": SWEEP_TOPK},
                 N_("TopK at five values of k: how the error falls as more units are allowed."),
                 look=N_("The trade-off curve, then the L0–FVU frontier across sweeps."),
                 question=N_("At the same L0, which architecture reconstructs best?")))),
)
