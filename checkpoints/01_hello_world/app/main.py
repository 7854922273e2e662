from fastapi_offline import FastAPIOffline

# FastAPIOffline serves /docs from files installed with it; plain FastAPI loads them from a CDN.
app = FastAPIOffline(title="Task Tracker")


@app.get("/")
def read_root():
    """Greet the caller."""
    return {"message": "Hello World"}


@app.get("/health")
def health():
    """Tell a monitor the app is up."""
    return {"status": "ok"}
