"""The policy's key points, section by section, as staff read them before acknowledging.

Quoted or closely summarised from the school's Mobile and Smart Technology Policy
(shared/policy/mobile-and-smart-technology-policy.md). A review that changes a rule
changes the points here too (and is marked as a material change, so everyone is asked
to acknowledge again).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicySection:
    number: str
    title: str
    points: tuple[str, ...]


KEY_POINTS: tuple[PolicySection, ...] = (
    PolicySection(
        "1",
        "Policy aims and scope",
        (
            "The policy safeguards and promotes the welfare of everyone in the school "
            "community when using mobile devices and smart technology.",
            "The Designated Safeguarding Lead (DSL) has overall responsibility for online safety.",
            "It covers all mobile and smart technology on site: phones, tablets, e-readers, games "
            "consoles and wearables such as smart watches and fitness trackers.",
            "It applies to learners, parents and carers, and all staff, including governors, "
            "contractors, visitors and volunteers.",
        ),
    ),
    PolicySection(
        "2",
        "Links with other policies",
        (
            "It links with the anti-bullying, acceptable use, behaviour, child protection, code "
            "of conduct, curriculum, data protection and social media policies.",
        ),
    ),
    PolicySection(
        "3",
        "Safe use: expectations",
        (
            "Devices brought on site are the owner's responsibility; protect them with a "
            "password or PIN.",
            "Mobile phones and personal devices are not used in classrooms or around pupils.",
            "Sending abusive or inappropriate messages or content is forbidden.",
            "Devices must hold no offensive, derogatory or illegal content.",
        ),
    ),
    PolicySection(
        "4",
        "School-provided phones and devices",
        (
            "Contact with learners or parents is by a work phone, work email or the school phone.",
            "School devices are protected by a passcode and used in line with the acceptable use "
            "policy.",
            "Activity on school devices may be monitored for safeguarding reasons and to ensure "
            "policy compliance.",
        ),
    ),
    PolicySection(
        "5",
        "Staff use of mobile and smart technology",
        (
            "Keep personal devices secure, switched off or silent, with Bluetooth and AirDrop "
            "hidden or off, during lessons.",
            "Do not use a personal device during teaching time without the headteacher's written "
            "permission.",
            "Never use a personal phone or device to contact learners or parents and carers. "
            "Declare any pre-existing relationship that could make this hard: it is discussed "
            "with the DSL and the headteacher.",
            "Use only school equipment to photograph or film learners, to work with learners and "
            "to contact parents.",
            "Remote learning on a personal device only with the headteacher's approval after a "
            "risk assessment.",
            "A breach is dealt with under the staff code of conduct; suspected illegal content "
            "means the police are contacted and the LADO informed.",
        ),
    ),
    PolicySection(
        "6",
        "Learners' use",
        (
            "Learners do not use phones or personal devices on site: they hand them in, switched "
            "off, at the start of the day and collect them at home time.",
            "Staff phone home on a learner's behalf; parents contact their child via the office.",
            "Exceptional use (such as medical monitoring) is agreed with the headteacher, in "
            "writing, before use is permitted.",
            "A device may be searched by the DSL or headteacher, with a second member of staff "
            "where possible and with consent; suspected illegal material goes to the police.",
        ),
    ),
    PolicySection(
        "7",
        "Visitors' use",
        (
            "Visitors use devices only when agreed by staff and for a specific purpose; they are "
            "told the expectations on arrival.",
            "Challenge a visitor whose use concerns you and tell the DSL or headteacher.",
        ),
    ),
    PolicySection(
        "8",
        "Monitoring and review",
        (
            "The policy is reviewed at least annually, and after guidance updates, concerns or "
            "infrastructure changes.",
            "Internet use on school devices and systems is monitored; issues go into the action "
            "plan.",
        ),
    ),
    PolicySection(
        "9",
        "Responding to breaches",
        (
            "Report breaches and concerns through the child protection, code of conduct and "
            "behaviour procedures.",
            "Respect confidentiality; know the complaints and whistleblowing procedures.",
        ),
    ),
)
