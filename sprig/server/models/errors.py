"""Errors of the model layer, all inside the server's one error tree."""

from __future__ import annotations

from collections.abc import Iterable

from sprig.server.errors import BadRequestError, SprigError, UpstreamError

HOW_TO_ADD = (
    "To add one, set its provider's key in the server's environment (OPENAI_API_KEY for "
    "gpt-… models, ANTHROPIC_API_KEY for anthropic/…, OLLAMA_API_BASE for ollama/…) or list "
    "it in SPRIG_MODELS (see docs/configuration.md)."
)


class UnknownModelError(BadRequestError):
    code = "unknown_model"

    def __init__(self, name: str, available: Iterable[str]) -> None:
        listed = ", ".join(sorted(available)) or "(none)"
        super().__init__(f"Unknown model {name!r}. Available models: {listed}. {HOW_TO_ADD}")
        self.model = name


class InvalidModelOutputError(UpstreamError):
    """The model's reply breaks the requested format (e.g. JSON mode gave no valid JSON)."""

    code = "invalid_model_output"


class ProviderRequestError(BadRequestError):
    """The provider refused the request as invalid (its 400/404/422)."""

    code = "provider_bad_request"


class ProviderAuthenticationError(BadRequestError):
    """The provider refused the credentials configured (or passed) for the model.

    A 400, not a 401: the caller's Sprig key is fine; retrying will not help either.
    """

    code = "provider_authentication_error"


class ProviderRateLimitError(UpstreamError):
    status_code = 429
    code = "rate_limited"
    type = "rate_limit_error"


class ModelConfigError(SprigError):
    """A model is configured wrongly (bad `models` entry, missing weights or library)."""

    code = "model_config_error"
