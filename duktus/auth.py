from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest

from duktus import crypto


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by practice owners (and seed_demo), not by open sign-up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.ACCOUNT_ALLOW_SIGNUPS)


class MFAAdapter(DefaultMFAAdapter):
    """TOTP seeds and recovery-code seeds are stored encrypted under the master key."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt_system(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt_system(encrypted_text)
