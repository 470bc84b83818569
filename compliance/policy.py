"""The sections of the policy that forms carry out, quoted where people act.

Each form page shows the section it applies (number and a short quote from
`shared/policy/mobile-and-smart-technology-policy.md`), so a teacher at the
register or a clerk at reception sees the rule at the moment they apply it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyRule:
    section: str
    title: str
    quote: str


RULES: dict[str, PolicyRule] = {
    "key_details": PolicyRule(
        "Key details",
        "Key details",
        "This policy will be reviewed at least annually. It will also be revised following any "
        "concerns and/or updates to national and local guidance or procedures.",
    ),
    "scope": PolicyRule(
        "1",
        "Policy aims and scope",
        "This policy applies to learners, parents/carers and all staff, including the governing "
        "body, leadership team, teachers, support staff, external contractors, visitors, "
        "volunteers and other individuals who work for, or provide services on behalf of the "
        "setting.",
    ),
    "school_devices": PolicyRule(
        "4",
        "School/setting-provided mobile phones and devices",
        "Where staff and learners are using the school's provided mobile phones or devices, they "
        "will be informed prior to use via our Acceptable Use Policy (AUP) that activity may be "
        "monitored for safeguarding reasons and to ensure policy compliance.",
    ),
    "staff": PolicyRule(
        "5",
        "Staff use of mobile and smart technology",
        "Members of staff are not permitted to use their own personal phones or devices for "
        "contacting learners or parents and carers.",
    ),
    "learners": PolicyRule(
        "6",
        "Learners use of mobile and smart technology",
        "Mobile phones and/or personal devices will not be used on site by learners.",
    ),
    "hand_in": PolicyRule(
        "6",
        "Learners use of mobile and smart technology",
        "Handing personal devices and mobile phones into the teacher at the start of the day and "
        "switching them off. They can be collected from the teacher, on the playground, as "
        "pupils leave the school.",
    ),
    "parents": PolicyRule(
        "6",
        "Learners use of mobile and smart technology",
        "If a learner needs to contact their parents or carers whilst on site, a member of staff "
        "will phone home and contact on their behalf. Parents are advised to contact their "
        "child via the school office.",
    ),
    "calls_home": PolicyRule(
        "6",
        "Learners use of mobile and smart technology",
        "If a learner needs to contact their parents or carers whilst on site, a member of staff "
        "will phone home and contact on their behalf. Parents are advised to contact their child "
        "via the school office.",
    ),
    "visitors": PolicyRule(
        "7",
        "Visitors' use of mobile and smart technology",
        "Mobile phones and personal devices are only permitted to be used when agreed by members "
        "of staff and for specific purposes e.g. as part of multi-agency working arrangements.",
    ),
    "visits": PolicyRule(
        "7",
        "Visitors' use of mobile and smart technology",
        "Verbal information is in place to inform visitors of our expectations for safe and "
        "appropriate use of personal devices and mobile phones.",
    ),
    "breaches": PolicyRule(
        "9",
        "Responding to policy breaches",
        "If we are unsure how to proceed with an incident or concern, the DSL (or a deputy) or "
        "headteacher will seek advice from the Education People's Education Safeguarding "
        "Service or other agency in accordance with our child protection policy.",
    ),
    "confidentiality": PolicyRule(
        "9",
        "Responding to policy breaches",
        "All members of the community will respect confidentiality and the need to follow the "
        "official procedures for reporting concerns.",
    ),
}
