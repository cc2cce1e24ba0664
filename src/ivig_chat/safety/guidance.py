"""Emergency guidance shown first in an urgent answer, per category and audience."""

from __future__ import annotations

from typing import Final, Literal

from .red_flags import RedFlag

Audience = Literal["clinician", "patient"]


# ---------------------------------------------------------------------------
# Emergency guidance
# ---------------------------------------------------------------------------

_NUMBERS_PATIENT: Final = (
    "your local emergency number (for example **911** in the US, **112** in the EU or "
    "**999** in the UK)"
)
_NUMBERS_CLINICIAN: Final = (
    "the local emergency number (e.g. 911 in the US, 112 in the EU, 999 in the UK)"
)

_PATIENT_HEADLINE: Final[dict[str, str]] = {
    "anaphylaxis": "This could be a severe allergic reaction (anaphylaxis), which is an emergency.",
    "breathing": "Trouble breathing can be an emergency.",
    "chest_pain": "Chest pain can be an emergency.",
    "stroke": "These can be signs of a stroke, which is an emergency.",
    "meningism": (
        "A severe headache with a stiff neck, fever or sensitivity to light needs urgent "
        "medical care."
    ),
    "thrombosis": "These can be signs of a blood clot, which needs emergency care.",
    "kidney": "Passing very little or no urine after an infusion needs urgent medical care.",
    "seizure": "A seizure needs urgent help.",
    "haemolysis": (
        "Dark or red urine, yellow skin or eyes, or new breathlessness and weakness after an "
        "infusion need urgent medical care."
    ),
    "sepsis": "A fever with confusion, shivering or fast breathing can be sepsis, an emergency.",
    "collapse": "This could be an emergency.",
}

_PATIENT_TIP: Final[dict[str, str]] = {
    "anaphylaxis": (
        "If the person has their own adrenaline (epinephrine) auto-injector, use it the way "
        "they were shown."
    ),
    "breathing": "Help them sit upright, loosen tight clothing and stay calm with them.",
    "chest_pain": "Stop what you are doing, sit down and rest while you wait for help.",
    "stroke": "Note the time the symptoms started; the emergency team will ask for it.",
    "meningism": "Do not drive yourself; ask someone to stay with you.",
    "thrombosis": "Sit or lie still while you wait for help.",
    "kidney": "If you feel very unwell, do not wait for a routine appointment.",
    "seizure": (
        "Do not hold them down or put anything in their mouth. Move hard objects away, time "
        "the seizure and, once the jerking stops, turn them onto their side."
    ),
    "haemolysis": "Tell the team about the IVIG infusion and when it was given.",
    "sepsis": "Do not wait to see if it settles; keep the person warm and stay with them.",
    "collapse": (
        "If they are unresponsive or not breathing normally, tell the call handler; they will "
        "guide you, including CPR if needed."
    ),
}

_CLINICIAN_LABEL: Final[dict[str, str]] = {
    "anaphylaxis": "suspected anaphylaxis",
    "breathing": "respiratory compromise",
    "chest_pain": "chest pain",
    "stroke": "possible stroke",
    "meningism": "possible aseptic meningitis",
    "thrombosis": "possible thromboembolism",
    "kidney": "possible acute kidney injury",
    "seizure": "seizure",
    "haemolysis": "possible haemolysis",
    "sepsis": "possible sepsis",
    "collapse": "collapse or altered consciousness",
}

_CLINICIAN_TIP: Final[dict[str, str]] = {
    "anaphylaxis": "Manage as anaphylaxis according to your institution's anaphylaxis protocol.",
    "breathing": "Monitor oxygen saturation and escalate according to your protocol.",
    "chest_pain": "Follow your institution's chest pain pathway.",
    "stroke": "Record the time last known well and activate your stroke pathway.",
    "meningism": "Arrange urgent medical assessment according to your protocol.",
    "thrombosis": "Assess for thromboembolism according to your institution's protocol.",
    "kidney": "Arrange urgent assessment of fluid status and renal function per protocol.",
    "seizure": "Protect from injury, time the seizure and follow your seizure protocol.",
    "haemolysis": (
        "Check haemoglobin, bilirubin, LDH and renal function urgently according to your protocol."
    ),
    "sepsis": "Follow your institution's sepsis pathway (assess, cultures, antibiotics, fluids).",
    "collapse": (
        "Check responsiveness and breathing; start CPR if indicated and follow your "
        "resuscitation protocol."
    ),
}


def _self_harm_guidance(audience: Audience) -> str:
    if audience == "clinician":
        return (
            "**Take this seriously and act now.** If your patient, or anyone, is at immediate "
            "risk of harming themselves, do not leave them alone, remove access to means where it "
            "is safe to do so, and call emergency services on " + _NUMBERS_CLINICIAN + " or "
            "follow your institution's suicide-risk / crisis protocol.\n\n"
            "In the US, the **988 Suicide & Crisis Lifeline** (call or text **988**) offers "
            "24/7 crisis support; elsewhere, use your local crisis line or emergency number. "
            "If you are the one having these thoughts, please call or text 988 (US) or your "
            "local crisis line now.\n\n"
            "This chatbot cannot assess risk or provide crisis care."
        )
    return (
        "**I'm really sorry you're going through this. You deserve support right now, and you "
        "don't have to face it alone.**\n\n"
        "If you, or the person you are worried about, might act on these thoughts or are in "
        "immediate danger, call emergency services now on " + _NUMBERS_PATIENT + ".\n\n"
        "You can also reach a crisis line right now: in the US, call or text **988** (the 988 "
        "Suicide & Crisis Lifeline). Elsewhere, contact your local crisis line or emergency "
        "number. If you can, reach out to someone you trust and stay with them.\n\n"
        "This chatbot cannot provide crisis support, but the people at these services can, at "
        "any time of day or night."
    )


def urgent_guidance(flag: RedFlag, audience: Audience) -> str:
    """Markdown emergency guidance to show *first* in the answer for ``flag``."""
    category = flag.category if flag.category in _PATIENT_HEADLINE else "collapse"
    if flag.category == "self_harm":
        return _self_harm_guidance(audience)
    if audience == "clinician":
        return (
            f"**Possible emergency ({_CLINICIAN_LABEL[category]}): stop the infusion now if it "
            "is running and follow your institution's emergency protocol.**\n\n"
            "- Assess airway, breathing and circulation and call for help: your rapid-response "
            "or resuscitation team, or emergency services on " + _NUMBERS_CLINICIAN + " "
            "outside hospital.\n"
            f"- {_CLINICIAN_TIP[category]}\n"
            "- Do not wait for this chatbot: it summarises published evidence and cannot "
            "assess a patient."
        )
    return (
        f"**{_PATIENT_HEADLINE[category]} Call emergency services now** on "
        + _NUMBERS_PATIENT
        + ". Do not wait for this chatbot.\n\n"
        "- If an IVIG infusion is running, stop it or ask the nurse to stop it straight away.\n"
        f"- {_PATIENT_TIP[category]}\n"
        "- Tell the emergency team about the IVIG treatment, and stay with the person until "
        "help arrives.\n\n"
        "This chatbot cannot check symptoms or give emergency care."
    )
