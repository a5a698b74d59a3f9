"""English left on a page shown in Chinese: every text an AppTest run put on the page (labels, help,
captions, messages, options, table headers, chart titles and hovers), less names and formulas."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import fields

from google.protobuf.json_format import MessageToDict

from explorer.datasets import DATASETS
from explorer.registry import get_variant, variant_names

# Names the app shows as they are: --param names (`latent_dim`, `seed`) and the papers a variant cites.
PARAMETERS = {name for v in variant_names() for f in fields(get_variant(v).config_class)
              for name in (f.name, f.metadata.get("symbol")) if name} | {"seed"}
PAPERS = {get_variant(v).paper for v in variant_names() if get_variant(v).paper}

# What stays as it is in every language: names (variants, datasets, the product's own terms of art that
# the seed notes and the field write in English), units and formats, the maths' own abbreviations.
NAMES = {*variant_names(), *DATASETS, *PARAMETERS, "MNIST", "Fashion", "Fashion-MNIST", "scikit-learn", "topk-linear",
         "mlxtend", "scikit", "learn", "torchvision", "PyTorch", "TopK", "BatchTopK", "JumpReLU", "Matryoshka",
         "ReLU", "AuxK", "SAE", "SAEs", "SAELens", "Neuronpedia", "overcomplete", "VAE", "ELBO", "KL", "MSE",
         "FVU", "L0", "L1", "PCA", "NMF", "OMP", "t-SNE", "tSNE", "UMAP", "MIG", "CPU", "GPU", "CUDA", "cuda",
         "cpu", "auto", "mps", "PNG", "CSV", "JSON", "pt", "npz", "safetensors", "Ray", "Spearman", "Gaussian",
         "Adam", "Sigmoid", "sigmoid", "relu", "linear", "gaussian", "masking", "salt_pepper", "Ng", "Gao",
         "Bussmann", "Costa", "Burda", "Kingma", "Welling", "Vincent", "Rifai", "Makhzani", "Frey",
         "Rajamanoharan", "Morpho", "Jaccard", "Pearson", "openTSNE", "constant", "pan", "orbit", "zoom", "lasso",
         "select", "Morcos", "logit", "English", "Streamlit", "Autoencoder", "Explorer", "AE", "FIT5215",
         "Lipton", "Sharkey", "al", "et", "arXiv", "GiB", "MiB", "KiB", "ms", "px", "ln", "log", "exp", "min",
         "max", "argmax", "sup", "std", "var", "Var", "E", "pid", "lr", "id", "SVG", "Chen", "Castro", "Gurnee",
         "Karvonen", "Paulo", "Belrose", "NeurIPS", "SAEBench", "Morpho-MNIST", "Llama", "Disentanglement"}
# Math written with ASCII letters: single letters, subscripted symbols, the code's own names of things
# (--param names, loss keys) that the app prints as code.
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
STRIPPED = [re.compile(p, re.S) for p in (
    r"<style>.*?(?:</style>|$)", r"\b[\w.-]*-[0-9a-f]{6,}\b", r"(?<![\w/])/[\w-]*\?\S*",
    r"\$\$.*?\$\$", r"\$[^$]*\$", r"\\\(.*?\\\)",
    r"`[^`]*`", r"https?://\S+", r":material/[a-z_]+:",
    r"\b[\w.-]+\.(?:pt|png|csv|json|npz|safetensors|py|po|tsv)\b", r"\b\w+=[\w.,/-]+", r"%\{[^}]*\}",
    r"<[^>]+>", r"\w+_\w+", r":(?:red|orange|green|blue|violet|gray|grey|rainbow|primary)(?:-badge)?(?=\[)",
    r"\\[a-zA-Z]+", r"\{[^}]*\}", r"\b[a-z]+/[\w./=-]+")]
SKIPPED_FIELDS = {"id", "formId", "key", "icon", "url", "data", "arrowData", "styler", "uuid", "type", "dtype",
                  "bdata", "default", "value", "rawValue", "setValue", "fragmentId", "deltaPath", "name_", "theme",
                  "useContainerWidth", "mimeType", "fileName", "fieldNames", "style", "src", "dataUrl",
                  "componentName", "jsonArgs", "page", "pageScriptHash", "queryString", "language", "format",
                  "color", "width", "height", "uirevision", "template", "hoverformat", "tickformat", "xaxis",
                  "yaxis", "legendgroup", "layout_template", "meta", "jsContent", "cssContent", "htmlContent",
                  "javascript", "customdata", "domain", "anchor", "ids", "config", "selectionMode", "xanchor",
                  "yanchor", "xref", "yref", "dash", "barmode", "bgcolor", "mode", "shape", "fill", "line",
                  "marker", "symbol", "textposition", "hoverinfo", "orientation", "scaleanchor", "constrain",
                  "side", "overlaying", "valign", "align", "layer", "visible", "autorange", "showlegend",
                  "dragmode", "hovermode", "fillcolor", "colorscale", "bordercolor", "ticks", "tickmode",
                  "histnorm", "histfunc", "xaxis2", "yaxis2", "yaxis3", "xaxis3", "font", "deferredFileId",
                  "itemsizing"}


def english_words(text: str, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The English words in text once formulas, code, file names, names and abbreviations are taken out."""
    for paper in PAPERS:
        text = text.replace(paper, " ")
    for pattern in STRIPPED:
        text = pattern.sub(" ", text)
    return [w for w in WORD.findall(text) if w not in NAMES and w not in allowed and w.upper() != w
            and not re.fullmatch(r"[a-z]{1,2}", w)]


def _strings(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value.lstrip()[:1] in ("{", "["):    # a Plotly spec, a table's column settings: their values
            try:
                yield from _strings(json.loads(value), where + ".json")
                return
            except ValueError:
                pass
        yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in SKIPPED_FIELDS:
                yield from _strings(v, f"{where}.{k}")
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, where)


def page_texts(at) -> Iterator[tuple[str, str]]:   # noqa: ANN001 — an AppTest
    """(where, text) for every string on the page's elements (main, sidebar), charts' specs included."""
    def walk(node):  # noqa: ANN001, ANN202
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "DESCRIPTOR"):
            yield from _strings(MessageToDict(proto), type(node).__name__)
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
    for root in (at.main, at.sidebar):
        yield from walk(root)
    for df in at.dataframe:     # table headers are in Arrow bytes: a column without a label shows its name
        settings = json.loads(df.proto.columns or "{}")
        order = list(df.proto.column_order) or [str(c) for c in df.value.columns]
        unlabelled = [c for c in order if not (settings.get(c) or {}).get("label") and c in map(str, df.value.columns)]
        if unlabelled:
            yield "dataframe.columns", " · ".join(unlabelled)


def english_left(at, allowed: set[str] = frozenset()) -> list[tuple[str, str, list[str]]]:  # type: ignore[assignment]
    """(where, text, its English words) for each text of the page that still has English in it."""
    found = []
    for where, text in page_texts(at):
        words = english_words(text, allowed)
        if words:
            found.append((where, text[:160], words))
    return found
