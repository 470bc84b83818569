"""The inspection evidence pack: the headteacher and the DSL team; no one else."""

from tests.authz import DSL_DEPUTIES

MATRIX: dict[str, tuple[int, ...]] = {
    "compliance:evidence": DSL_DEPUTIES,
    "compliance:evidence_pdf": DSL_DEPUTIES,
}
