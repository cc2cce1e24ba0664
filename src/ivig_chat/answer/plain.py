"""Plain-language glosses of abbreviations for the patient audience (the evidence is unchanged)."""

from __future__ import annotations

import re

GLOSSARY: dict[str, str] = {
    "IVIG": "intravenous immunoglobulin: antibodies from donated blood, given through a drip",
    "MS": "multiple sclerosis",
    "RRMS": "relapsing-remitting MS, the form with flare-ups followed by recovery",
    "SPMS": "secondary progressive MS, which steadily worsens after a relapsing phase",
    "PPMS": "primary progressive MS, which worsens steadily from the start",
    "SP": "secondary progressive",
    "PP": "primary progressive",
    "CIS": "clinically isolated syndrome, a first episode of MS-like symptoms",
    "MRI": "a magnetic scan of the brain and spinal cord",
    "EDSS": "a standard score of disability in MS",
    "IVMP": "high-dose steroid (methylprednisolone) given through a drip",
    "IV": "through a vein",
    "FLAIR": "a type of MRI image",
    "T2": "a type of MRI image",
    "DVT": "a blood clot in a deep vein, usually in the leg",
    "PE": "a blood clot in the lungs",
    "RCT": "a randomised controlled trial",
    "AAN": "American Academy of Neurology",
    "EFNS": "European Federation of Neurological Societies",
    "g/kg": "grams per kilogram of body weight",
    "HR": "hazard ratio",
    "OR": "odds ratio",
    "CI": "confidence interval",
}
_TERM = re.compile(
    r"(?<![\w/(])("
    + "|".join(re.escape(k) for k in sorted(GLOSSARY, key=len, reverse=True))
    + r")(?![\w/])(?!\s*\()"
)
_QUOTED = re.compile("\u201c[^\u201d]*\u201d")


def gloss(text: str) -> str:
    """Explain each abbreviation at its first use in plain words.

    Left alone: a term inside parentheses ("(SP)" already defines it), inside a quoted title
    (cited, not explained), or whose expansion the text has already spelled out before it.
    """
    seen: set[str] = set()
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    low = text.lower()

    def explain(match: re.Match[str]) -> str:
        term = match.group(1)
        inside_quote = any(a <= match.start() < b for a, b in quoted)
        expansion = GLOSSARY[term].split(",")[0].split(":")[0].lower()
        if term in seen or inside_quote or expansion in low[: match.start()]:
            return term
        seen.add(term)
        return f"{term} ({GLOSSARY[term]})"

    return _TERM.sub(explain, text)
