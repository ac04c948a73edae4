"""Every prompt the protocols send, as Jinja2 templates in a prompt set, versioned by what the templates say.

The package ships the set `v1` (the `v1/` folder beside this file). `--prompts DIR` (or a set name
from an installed package) overrides any subset: a template found there wins, the rest come from
`v1`. The version stored with a run or a judgment is a hash of the templates it actually used
(includes too), so two runs whose prompts differ never share a leaderboard row, and a response
cache entry is never reused across prompts (its key covers the rendered messages).

Layout rule, kept here in code rather than in templates: the long shared part (the story, the
question, the transcript so far) comes first and the role-specific instructions last, so prefix
caches (llama.cpp's, vLLM's) serve the shared part to every debater, round and judge. Nothing in a
template may hint which side is correct: both sides get the same words with the letters exchanged.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta
import jinja2.nodes

from oversight.errors import InputError
from oversight.models.types import Message

V1_DIR = Path(__file__).parent / "v1"
DEFAULT_JUDGE_PROMPT = "v1"

Kind = Literal["debate", "consultancy"]
Layout = Literal["shared-first", "role-first"]
Speech = tuple[int, str, str]  # (round, speaker label, text)
Reply = Literal["immediate", "reasoned"]

BLOCKS = ("story.j2", "question.j2", "transcript.j2", "setting.j2")
"""The blocks every judge template is given, rendered; a judge prompt's version covers them."""
SPEAKER_TEMPLATES = ("story.j2", "question.j2", "transcript.j2", "debater.j2", "consultant.j2")
SEARCH_TEMPLATES = ("critic.j2", "revision.j2")
MAX_JUDGE_PROMPT_NAME = 19
"""A judgment's stored version is `<name>-<12 hex>`, which must fit the 32-character column."""


def _digest(parts: Iterable[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for name, source in sorted(parts):
        h.update(name.encode() + b"\x00" + source.encode() + b"\x00")
    return h.hexdigest()[:12]


class PromptSet:
    """The templates in effect for a run: `overrides` (a folder, may be None) over the packaged `v1`."""

    def __init__(self, overrides: Path | None = None) -> None:
        self.overrides = overrides
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(V1_DIR))]
        if overrides is not None:
            if not overrides.is_dir():
                raise InputError(f"--prompts {str(overrides)!r}: not a directory of templates")
            loaders.insert(0, jinja2.FileSystemLoader(str(overrides)))
        self._judge_names: list[str] | None = None
        self._judge_versions: dict[str, str] = {}
        self._judge_replies: dict[str, Reply] = {}
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
            auto_reload=False,  # a run sees one set of files; no stat() per prompt
        )
        self._templates: dict[str, jinja2.Template] = {}

    @classmethod
    def named(cls, value: str | None) -> PromptSet:
        """`None` (the packaged set), a folder, or the name of a prompt set registered by a plugin."""
        if not value or value == "v1":
            return default_prompts()
        path = Path(value).expanduser()
        if not path.is_dir():
            from oversight.plugins import PROMPT_SETS

            if value not in PROMPT_SETS.names():
                raise InputError(f"--prompts {value!r}: neither a folder nor a prompt set ({PROMPT_SETS.help()})")
            path = PROMPT_SETS.get(value)
        return _prompt_set_at(str(path.resolve()))

    # -- templates ----------------------------------------------------------------------------

    def source(self, name: str) -> str:
        try:
            return self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            raise InputError(f"prompt template {name!r} is in neither {self.overrides or V1_DIR} nor the packaged set") from None

    def _parse(self, name: str) -> jinja2.nodes.Template:
        try:
            return self.env.parse(self.source(name), name=name)
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(f"prompt template {name}:{exc.lineno}: {exc.message}") from None

    def _closure(self, names: Iterable[str]) -> dict[str, str]:
        """The templates named and every template they include or extend, with their sources."""
        seen: dict[str, str] = {}
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen[name] = self.source(name)
            for ref in jinja2.meta.find_referenced_templates(self._parse(name)):
                if ref is not None:
                    todo.append(ref)
        return seen

    def version(self, templates: Iterable[str]) -> str:
        """`<set>-<hash>` over `templates` and their includes: the prompt version stored with a run. The set reads
        `custom` when one of them comes from the overriding folder, `v1` when all are the packaged ones."""
        used = self._closure(templates)
        overridden = self.overrides is not None and any((self.overrides / name).is_file() for name in used)
        return f"{'custom' if overridden else 'v1'}-{_digest(used.items())}"

    def render(self, name: str, **values: Any) -> str:
        try:
            template = self._templates.get(name)
            if template is None:
                template = self._templates.setdefault(name, self.env.get_template(name))
                # Jinja layers a template's globals over the environment's in a ChainMap and walks it on every
                # render; one flat dict, made once, takes that walk (about a tenth of a judge call's CPU) away
                template.globals = dict(template.globals)
            return template.render(**values).rstrip("\n")
        except jinja2.TemplateNotFound as exc:
            raise InputError(f"prompt template {exc.name!r} is in neither {self.overrides or V1_DIR} nor the packaged set") from None
        except jinja2.TemplateError as exc:
            where = f"{getattr(exc, 'filename', None) or name}:{getattr(exc, 'lineno', None) or 1}"
            raise InputError(f"prompt template {where}: {exc.message or type(exc).__name__}") from None

    # -- judge prompts ------------------------------------------------------------------------

    def judge_prompts(self) -> list[str]:
        """The judge templates of the set (`judges/<name>.j2`), read once: a run sees one set of files."""
        if self._judge_names is None:
            names = {n.removeprefix("judges/").removesuffix(".j2") for n in self.env.list_templates() if n.startswith("judges/")}
            self._judge_names = sorted(names)
        return self._judge_names

    def _judge_template(self, name: str) -> str:
        if name not in self.judge_prompts():
            raise InputError(f"--judge-prompt {name!r}: unknown; choose one of {', '.join(self.judge_prompts())}")
        if len(name) > MAX_JUDGE_PROMPT_NAME:
            raise InputError(f"--judge-prompt {name!r}: names are at most {MAX_JUDGE_PROMPT_NAME} characters")
        return f"judges/{name}.j2"

    def judge_version(self, name: str) -> str:
        """`<name>-<hash>` over the judge template and the blocks it is given: stored with each judgment."""
        if name not in self._judge_versions:
            self._judge_versions[name] = f"{name}-{_digest(self._closure([self._judge_template(name), *BLOCKS]).items())}"
        return self._judge_versions[name]

    def judge_reply(self, name: str) -> Reply:
        """How the judge template asks for the verdict: at once (letter + confidence) or after reasoning ("Answer:" line)."""
        if name in self._judge_replies:
            return self._judge_replies[name]
        template = self._judge_template(name)
        reply = "immediate"
        for node in self._parse(template).find_all(jinja2.nodes.Assign):
            if isinstance(node.target, jinja2.nodes.Name) and node.target.name == "reply" and isinstance(node.node, jinja2.nodes.Const):
                reply = node.node.value
        if reply not in ("immediate", "reasoned"):
            raise InputError(f'prompt template judges/{name}.j2: `reply` must be "immediate" or "reasoned", not {reply!r}')
        self._judge_replies[name] = reply
        return reply

    # -- blocks -------------------------------------------------------------------------------

    def story(self, context: str) -> str:
        return self.render("story.j2", context=context)

    def question(self, question: str, option_a: str, option_b: str) -> str:
        return self.render("question.j2", question=question, option_a=option_a, option_b=option_b)

    def transcript(self, speeches: list[Speech]) -> str:
        if not speeches:
            return ""
        rounds: list[dict[str, Any]] = []
        for rnd, speaker, text in speeches:
            if not rounds or rounds[-1]["number"] != rnd:
                rounds.append({"number": rnd, "speeches": []})
            rounds[-1]["speeches"].append({"speaker": speaker, "text": text.strip()})
        return self.render("transcript.j2", rounds=rounds)

    def setting(self, kind: Kind) -> str:
        return self.render("setting.j2", kind=kind)

    # -- messages -----------------------------------------------------------------------------

    @staticmethod
    def _join(shared: list[str], role: str, layout: Layout) -> list[Message]:
        parts = [*shared, role] if layout == "shared-first" else [role, *shared]
        return [Message(role="user", content="\n\n".join(p for p in parts if p))]

    def speaker_messages(
        self,
        *,
        kind: Kind,
        context: str,
        question: str,
        option_a: str,
        option_b: str,
        side: str,
        round_no: int,
        rounds: int,
        history: list[Speech],
        word_limit: int,
        judge_question: str | None = None,
        layout: Layout = "shared-first",
    ) -> list[Message]:
        """A debater's or consultant's turn: shared story, question and transcript first, its role last."""
        role = self.render(
            "debater.j2" if kind == "debate" else "consultant.j2",
            side=side, other="B" if side == "A" else "A", round_no=round_no, rounds=rounds, word_limit=word_limit,
            history=bool(history), judge_question=judge_question,
        )  # fmt: skip
        shared = [self.story(context), self.question(question, option_a, option_b), self.transcript(history)]
        return self._join(shared, role, layout)

    def revision_messages(self, base: list[Message], argument: str, critique: str) -> list[Message]:
        """The speaker's own prompt, its draft and a critique: rewrite the draft."""
        return [
            *base,
            Message(role="assistant", content=argument),
            Message(role="user", content=self.render("revision.j2", critique=critique.strip())),
        ]

    def critic_messages(
        self, *, context: str, question: str, option_a: str, option_b: str, side: str, argument: str, history: list[Speech]
    ) -> list[Message]:
        shared = [self.story(context), self.question(question, option_a, option_b), self.transcript(history)]
        return self._join(shared, self.render("critic.j2", side=side, argument=argument.strip()), "shared-first")

    def choice_messages(self, *, context: str, question: str, option_a: str, option_b: str) -> list[Message]:
        """Open roles: the strong model picks the answer it will argue for."""
        shared = [self.story(context), self.question(question, option_a, option_b)]
        return self._join(shared, self.render("choice.j2"), "shared-first")

    def judge_messages(
        self,
        *,
        question: str,
        option_first: str,
        option_second: str,
        context: str | None = None,
        speeches: list[Speech] | None = None,
        kind: Kind = "debate",
        judge_prompt: str = DEFAULT_JUDGE_PROMPT,
    ) -> list[Message]:
        content = self.render(
            self._judge_template(judge_prompt),
            story=self.story(context) if context else "",
            question=self.question(question, option_first, option_second),
            transcript=self.transcript(speeches or []),
            setting=self.setting(kind) if speeches else "",
            kind=kind,
        )
        return [Message(role="user", content=content)]

    def judge_question_messages(
        self, *, question: str, option_first: str, option_second: str, speeches: list[Speech], kind: Kind
    ) -> list[Message]:
        """Interactive protocols: the judge may put one question to a participant before the next round."""
        content = self.render(
            "judge_question.j2",
            question=self.question(question, option_first, option_second),
            transcript=self.transcript(speeches),
            setting=self.setting(kind),
            kind=kind,
        )
        return [Message(role="user", content=content)]


@functools.cache
def _prompt_set_at(path: str) -> PromptSet:
    return PromptSet(Path(path))


@functools.cache
def default_prompts() -> PromptSet:
    return PromptSet()


__all__ = [
    "BLOCKS", "DEFAULT_JUDGE_PROMPT", "SEARCH_TEMPLATES", "SPEAKER_TEMPLATES", "V1_DIR", "Kind", "Layout",
    "PromptSet", "Reply", "Speech", "default_prompts",
]  # fmt: skip
