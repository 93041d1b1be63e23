"""The HTTP gateway: FastAPI app for case managers, clerks, the DPO and admins."""
