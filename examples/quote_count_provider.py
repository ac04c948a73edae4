"""A model provider written outside the package: a judge that needs no model at all.

`quotecount/<anything>` answers a judge's prompt by counting the verified quotes (<v_quote>) each
debater's turns carry in the transcript it is shown, and backs the side with more, at 50% plus 10
points per quote of difference (capped at 90%). It is the baseline "does evidence alone decide?"
judge, and an example of the one method a provider implements: `generate`. Retries, the response
cache, concurrency limits and accounting come from the wrapper every provider is used through.

    oversight --plugin examples/quote_count_provider.py run --protocol debate --dataset q.jsonl --judge quotecount/v1
"""

from __future__ import annotations

import re

from oversight.models.provider import ModelProvider
from oversight.models.types import Completion, GenerateConfig, Message, Usage
from oversight.plugins import provider

SPEAKER = re.compile(r"^(Debater [AB]|[A-Z][a-z ()A-Z]*?): ", re.M)


@provider("quotecount")
class QuoteCountJudge(ModelProvider):
    @property
    def default_concurrency(self) -> int:
        return 64

    async def generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        prompt = messages[-1].content
        counts = {"A": 0, "B": 0}
        # a speaker's text runs from its label to the next label or blank line; only debaters' quotes count
        marks = list(SPEAKER.finditer(prompt))
        for mark, following in zip(marks, [*marks[1:], None], strict=True):
            text = prompt[mark.end() : following.start() if following else len(prompt)].split("\n\n")[0]
            if mark.group(1).startswith("Debater "):
                counts[mark.group(1)[-1]] += text.count("<v_quote>")
        lead = "A" if counts["A"] >= counts["B"] else "B"
        confidence = min(90, 50 + 10 * abs(counts["A"] - counts["B"]))
        text = f"{lead} {confidence}%"
        return Completion(text=text, usage=Usage(prompt_tokens=len(prompt.split()), completion_tokens=2), finish_reason="stop")
