"""Health probes: /health says the process is alive, /health/ready that it can serve requests."""

from fastapi import APIRouter, HTTPException

from app.database import database_answers

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
def health():
    """Tell a monitor the app is up."""
    return {"status": "ok"}


@router.get("/ready")
def ready():
    """Tell a load balancer whether the app can serve requests: its database answers."""
    if not database_answers():
        raise HTTPException(status_code=503, detail="The database does not answer")
    return {"status": "ready"}
