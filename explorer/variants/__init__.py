"""One module per autoencoder variant; importing this package registers them all, in menu order."""
from . import ae, sparse_l1, sparse_kl, denoising, contractive, vae  # noqa: F401
