"""/v1/settings: webhook target, event filter, auth server, service secret."""

from __future__ import annotations

from fastapi import APIRouter

from imapapi.api.deps import ServiceDep
from imapapi.api.schemas.settings import SettingsIn, SettingsOut

router = APIRouter(prefix="/v1", tags=["Settings"])


@router.get("/settings", summary="Read runtime settings (the service secret is never shown)")
async def get_settings(service: ServiceDep) -> SettingsOut:
    return SettingsOut(**await service.runtime.public())


@router.post(
    "/settings",
    summary="Change runtime settings",
    description="Only the given fields change; a field set to `null` is cleared.",
)
async def update_settings(body: SettingsIn, service: ServiceDep) -> SettingsOut:
    values = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name in ("webhooks", "authServer") and value is not None:
            value = str(value)
        elif name == "webhookEvents" and value is not None:
            value = ["*"] if "*" in value else sorted({str(v) for v in value})
        values[name] = value
    return SettingsOut(**await service.runtime.update(values))
