"""What Agent OS reads in the Markdown people write, and how it quotes text it did not write.

Code fences are examples, not instructions (`blank_code_blocks`). Text an agent or a model wrote
is data when we quote it on GitHub (`defuse`): it closes no issue and mentions no one.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
ZERO_WIDTH_SPACE = "\u200b"

# What GitHub reads as an issue reference after a closing keyword: #N, GH-N, owner/repo#N, or an
# issue or pull request URL (on any host: GitHub Enterprise has its own).
_REFERENCE = r"#\d|gh-\d|[\w.-]+/[\w.-]+#\d|https?://\S+?/(?:issues|pull|pulls)/\d"
# Between the keyword and the reference: blanks, a colon, Markdown emphasis, brackets, quotes or
# HTML tags. More than GitHub accepts, on purpose: breaking a keyword GitHub would not have read
# costs nothing.
_BETWEEN = r"(?:[\s:*_~`'\"\[(>]|<[^<>]*>)*"
# No letter or digit just before (an underscore may be emphasis: `_Fixes #3_`), none just after.
_CLOSING = re.compile(
    rf"(?<![A-Za-z0-9])(close[sd]?|fix(?:e[sd])?|resolve[sd]?)(?![A-Za-z0-9_])"
    rf"(?={_BETWEEN}(?:{_REFERENCE}))",
    re.IGNORECASE,
)
# A mention as GitHub finds one in the rendered text (@user, @org/team, **@user**, _@user_): an
# @ after no letter or digit, before one. An e-mail address's @ follows a letter or digit.
_MENTION = re.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])")
# A character reference (&#64; is @, &#67; is C) would spell either of them after rendering, and
# an HTML comment would hide text, or forge one of our markers (<!-- agentos:… -->).
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_COMMENT = re.compile(r"<(?=!--)")


def blank_code_blocks(text: str) -> str:
    """Return `text` with every fenced code block's characters turned into spaces.

    Line breaks are kept, so offsets still match the original and nothing inside a fence is read
    as a heading or a line.
    """
    return FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def defuse(text: str) -> str:
    """Return text an agent or a model wrote as data GitHub does not act on when we quote it.

    A closing keyword (close, Fixes, resolved: …) before an issue reference gets a zero-width
    space after its first letter, so GitHub no longer reads it as one (only our own `Closes #N`
    closes); an @mention gets one after the @, as Dependabot quotes release notes. Character
    references and HTML comments are broken the same way, so neither can spell a keyword or a
    mention after rendering, hide text, or forge a marker. A person reads the same words; code
    spans and fences are treated alike (mentions there are inert, but a guess about where
    GitHub's code ends is not worth the risk). Applying it twice changes nothing more.
    """
    text = _ENTITY.sub("&" + ZERO_WIDTH_SPACE, text)
    text = _COMMENT.sub("<" + ZERO_WIDTH_SPACE, text)
    text = _CLOSING.sub(lambda m: m.group(1)[0] + ZERO_WIDTH_SPACE + m.group(1)[1:], text)
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, text)
