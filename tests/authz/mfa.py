"""Two-step verification pages. The suite runs with VRPS_REQUIRE_MFA off (DEBUG is on in
test settings), so these rows are for a login that has not set up an app: anyone logged in
may set one up; the code page sends them to set-up first. tests/test_mfa.py covers the rest.
"""

from tests.authz import EVERYONE, POST_ONLY

#                   anon outsider gov  staff office deputy head  dsl
TO_ENROLMENT = (302, 302, 302, 302, 302, 302, 302, 302)

MATRIX: dict[str, tuple[int, ...]] = {
    "mfa_manage": EVERYONE,
    "mfa_enrol": EVERYONE,
    "mfa_verify": TO_ENROLMENT,
    "mfa_recovery_codes": POST_ONLY,
}
