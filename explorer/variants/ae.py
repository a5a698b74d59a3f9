"""`ae`: the seed's plain autoencoder, 784-128-32 / 32-128-784, ReLU code, Sigmoid output, MSE."""
from __future__ import annotations

from ..registry import register
from .base import Autoencoder, AutoencoderConfig


@register
class PlainAutoencoder(Autoencoder):
    """Objective: min E ‖x − g(f(x))‖²  (MSE, mean per pixel)."""

    name = "ae"
    order = 10
    summary = "Plain autoencoder: reconstruct the input through a small code."
    paper = "Hinton & Salakhutdinov, Reducing the dimensionality of data with neural networks, Science 2006"
    config_class = AutoencoderConfig
    objective_latex = r"\min_{\theta,\phi}\ \mathbb{E}_{x}\,\lVert x - g_\phi(f_\theta(x)) \rVert^2"
