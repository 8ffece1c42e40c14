"""The editor's pages under /admin, behind a sign-in with the editor token."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/admin", include_in_schema=False)
