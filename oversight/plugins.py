"""Extension points: protocols, model providers, dataset formats and prompt sets.

Each is a `Registry` filled from three places, so a researcher never has to edit the package:
- the package itself (built-ins, named lazily as "module:attribute" so nothing heavy is imported
  until a run names it);
- installed packages' entry points (groups `oversight.protocols`, `oversight.providers`,
  `oversight.datasets`, `oversight.prompts`);
- a user's own file: named directly where an option takes one (`--protocol my_protocols.py:SelfCritiqueDebate`,
  `--dataset-format my_formats.py:load`), or imported with `--plugin FILE.py` (or `OVERSIGHT_PLUGINS`)
  so that its `@protocol` / `@provider(...)` / `@dataset_format(...)` decorators register names.

CLI help and error messages list what the registries hold; there is no hand-kept list anywhere else.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Generic, TypeVar

from oversight.errors import InputError

T = TypeVar("T")
PLUGINS_ENV = "OVERSIGHT_PLUGINS"
"""Files (or modules) to import before any registry is read, separated by the platform's path separator."""


def is_reference(name: str) -> bool:
    """`file.py:Name` or `package.module:Name` (a plain registry name has no colon)."""
    return ":" in name and not name.startswith(("http://", "https://"))


def _import_file(path: Path) -> Any:
    """Import a user's file as a module of its own (named after its absolute path, so two files called
    `plugins.py` never collide and importing the same file twice returns the same module)."""
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise InputError(f"{path}: no such file")
    name = "oversight_user_" + hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise InputError(f"{path}: cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except InputError:
        sys.modules.pop(name, None)
        raise
    except Exception as exc:  # a user's file: say where it failed, in one line
        sys.modules.pop(name, None)
        raise InputError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from None
    return module


def import_plugin(target: str) -> Any:
    """A user's file (`my_plugins.py`) or an importable module (`mylab.oversight_plugins`)."""
    if target.endswith(".py") or os.sep in target or "/" in target:
        return _import_file(Path(target))
    try:
        return importlib.import_module(target)
    except ImportError as exc:
        raise InputError(f"--plugin {target!r}: cannot import it: {exc}") from None


def load_reference(reference: str, option: str) -> Any:
    """The object a `file.py:Name` or `module:Name` reference names; one clear error otherwise."""
    target, _, attribute = reference.rpartition(":")
    if not target or not attribute:
        raise InputError(f"{option} {reference!r}: write FILE.py:NAME or MODULE:NAME")
    try:
        module = import_plugin(target)
    except InputError as exc:
        raise InputError(f"{option} {reference!r}: {exc}") from None
    obj = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{option} {reference!r}: {target} has no {attribute!r}")
        obj = getattr(obj, part)
    return obj


_loaded_env: set[str] = set()


def load_env_plugins() -> None:
    """Import the files named in `OVERSIGHT_PLUGINS` once per process (the web app and subprocesses get them too)."""
    for target in filter(None, os.environ.get(PLUGINS_ENV, "").split(os.pathsep)):
        if target not in _loaded_env:
            _loaded_env.add(target)
            import_plugin(target)


def add_plugins(targets: list[str]) -> None:
    """`--plugin` values: imported now and, once imported, passed on to child processes through the environment
    (a file that fails to import is reported and never handed on)."""
    load_env_plugins()
    current = [t for t in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if t]
    for target in targets:
        absolute = str(Path(target).expanduser().resolve()) if target.endswith(".py") else target
        if absolute not in current:
            import_plugin(absolute)
            _loaded_env.add(absolute)
            current.append(absolute)
            os.environ[PLUGINS_ENV] = os.pathsep.join(current)


class Registry(Generic[T]):
    """Names to objects for one extension point.

    `check` turns what was found (a class, a function) into what the registry holds, or raises
    `InputError` saying what is wrong with it; it runs on every source, built-in or not.
    """

    def __init__(self, kind: str, group: str, option: str, builtins: dict[str, str], check: Callable[[Any, str], T]) -> None:
        self.kind = kind
        self.group = group
        self.option = option
        self._builtins = dict(builtins)
        self._check = check
        self._registered: dict[str, T] = {}
        self._origin: dict[str, str] = {}
        self._loaded: dict[str, T] = {}

    def register(self, name: str, obj: Any, origin: str = "registered") -> T:
        checked = self._check(obj, f"{self.kind} {name!r}")
        if name in self._builtins:
            raise InputError(f"{self.kind} {name!r} is built in; register yours under another name")
        self._registered[name] = checked
        self._origin[name] = origin
        return checked

    def _entry_points(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=self.group)}

    def names(self) -> list[str]:
        load_env_plugins()
        return [*self._builtins, *(n for n in self._registered if n not in self._builtins)] + [
            n for n in self._entry_points() if n not in self._builtins and n not in self._registered
        ]

    def builtin_names(self) -> list[str]:
        return list(self._builtins)

    def origin(self, name: str) -> str:
        if name in self._builtins:
            return "built-in"
        if name in self._registered:
            return self._origin.get(name, "registered")
        ep = self._entry_points().get(name)
        return f"entry point {ep.value}" if ep is not None else "unknown"

    def get(self, name: str) -> T:
        """By registered name, entry-point name or `file.py:Name` reference."""
        if is_reference(name):
            return self._check(load_reference(name, self.option), f"{self.option} {name!r}")
        if name in self._loaded:
            return self._loaded[name]
        load_env_plugins()
        if name in self._builtins:
            module, _, attribute = self._builtins[name].partition(":")
            found = self._check(getattr(importlib.import_module(module), attribute), f"{self.kind} {name!r}")
        elif name in self._registered:
            found = self._registered[name]
        elif (ep := self._entry_points().get(name)) is not None:
            try:
                obj = ep.load()
            except Exception as exc:
                raise InputError(
                    f"{self.option} {name!r}: the entry point {ep.value} failed to load: {type(exc).__name__}: {exc}"
                ) from None
            found = self._check(obj, f"{self.kind} {name!r} (entry point {ep.value})")
        else:
            raise InputError(f"{self.option} {name!r}: unknown; choose one of {', '.join(self.names())} (or FILE.py:NAME)")
        self._loaded[name] = found
        return found

    def help(self) -> str:
        """`a | b | c`, for option help texts (read when the help is printed, so plugins appear)."""
        return " | ".join(self.names())


def _check_protocol(obj: Any, what: str) -> Any:
    from oversight.protocols.base import Protocol

    if not (isinstance(obj, type) and issubclass(obj, Protocol)):
        raise InputError(f"{what}: expected a subclass of oversight.protocols.base.Protocol, got {obj!r}")
    if not isinstance(getattr(obj, "name", None), str) or not obj.name:
        raise InputError(f"{what}: the class needs a `name` (the protocol's stored name)")
    return obj


def _check_provider(obj: Any, what: str) -> Any:
    from oversight.models.provider import ModelProvider

    if not (isinstance(obj, type) and issubclass(obj, ModelProvider)):
        raise InputError(f"{what}: expected a subclass of oversight.models.provider.ModelProvider, got {obj!r}")
    return obj


def _check_format(obj: Any, what: str) -> Any:
    if not callable(obj):
        raise InputError(f"{what}: expected a function that reads a file, got {obj!r}")
    return obj


def _check_prompt_set(obj: Any, what: str) -> Path:
    path = Path(str(obj))
    if not path.is_dir():
        raise InputError(f"{what}: {path} is not a directory of templates")
    return path


PROTOCOLS: Registry[Any] = Registry(
    "protocol",
    "oversight.protocols",
    "--protocol",
    {
        "naive": "oversight.protocols.naive:Naive",
        "expert": "oversight.protocols.expert:Expert",
        "debate": "oversight.protocols.debate:Debate",
        "open-debate": "oversight.protocols.debate:OpenDebate",
        "interactive-debate": "oversight.protocols.debate:InteractiveDebate",
        "consultancy": "oversight.protocols.consultancy:Consultancy",
        "open-consultancy": "oversight.protocols.consultancy:OpenConsultancy",
        "interactive-consultancy": "oversight.protocols.consultancy:InteractiveConsultancy",
        "human-arguments": "oversight.protocols.human_arguments:HumanArguments",
    },
    _check_protocol,
)
PROVIDERS: Registry[Any] = Registry(
    "provider",
    "oversight.providers",
    "provider",
    {
        "local": "oversight.models._llama_cpp:LlamaCppProvider",
        "openai": "oversight.models._openai:OpenAIProvider",
        "vllm": "oversight.models._openai:OpenAIProvider",
        "openai-compatible": "oversight.models._openai:OpenAIProvider",
        "gemini": "oversight.models._openai:OpenAIProvider",
        "anthropic": "oversight.models._anthropic:AnthropicProvider",
        "mock": "oversight.models.mock:MockProvider",
    },
    _check_provider,
)
DATASET_FORMATS: Registry[Any] = Registry(
    "dataset format",
    "oversight.datasets",
    "--format",
    {
        "generic": "oversight.data.loaders.generic:load",
        "quality-debate": "oversight.data.loaders.quality:load_debate",
        "quality": "oversight.data.loaders.quality:load_official",
        "gpqa": "oversight.data.loaders.csv_sets:load_gpqa",
        "gpqa-extractive": "oversight.data.loaders.csv_sets:load_gpqa_extractive",
        "boolq": "oversight.data.loaders.hf:load_boolq",
        "mmlu": "oversight.data.loaders.hf:load_mmlu",
        "arc": "oversight.data.loaders.hf:load_arc",
        "gsm8k": "oversight.data.loaders.gsm8k:load",
        "truthfulqa": "oversight.data.loaders.csv_sets:load_truthfulqa",
    },
    _check_format,
)
PROMPT_SETS: Registry[Path] = Registry(
    "prompt set",
    "oversight.prompts",
    "--prompts",
    {"v1": "oversight.prompts:V1_DIR"},
    _check_prompt_set,
)


def protocol(cls: type[T]) -> type[T]:
    """Class decorator: make a protocol runnable as `--protocol <its name>` once its file is imported (`--plugin`)."""
    PROTOCOLS.register(cls.name, cls, origin=f"{cls.__module__}.{cls.__qualname__}")  # type: ignore[attr-defined]
    return cls


def provider(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: make model specs `name/<model>` use this provider."""

    def register(cls: type[T]) -> type[T]:
        PROVIDERS.register(name, cls, origin=f"{cls.__module__}.{cls.__qualname__}")
        return cls

    return register


def dataset_format(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Function decorator: make `--format name` read files with this function (see `oversight.data.custom`)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        DATASET_FORMATS.register(name, fn, origin=f"{fn.__module__}.{fn.__qualname__}")
        return fn

    return register


def prompt_set(name: str, directory: str | Path) -> None:
    """Name a directory of templates, usable as `--prompts name`."""
    PROMPT_SETS.register(name, Path(directory), origin=str(directory))


__all__ = [
    "DATASET_FORMATS", "PROMPT_SETS", "PROTOCOLS", "PROVIDERS", "Registry", "add_plugins", "dataset_format", "import_plugin",
    "is_reference", "load_reference", "prompt_set", "protocol", "provider",
]  # fmt: skip
