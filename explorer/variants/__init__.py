"""One module per autoencoder variant, found and imported here; adding a variant is adding a file.

Each module registers its class with `explorer.registry.register`; menus order them by `order`."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
