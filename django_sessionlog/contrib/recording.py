"""What the library adapters (``instructor``, ``pydantic_ai``) share: a session recorded from outside the loop.

The adapters watch a loop they do not run, so every value they read comes
from another library and may have a shape they did not expect. These
helpers turn such values into the row's parts, and an odd value costs a
warning and that part only, never the call. Nothing here imports either
library.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..conf import conf
from ..write.records import Usage

logger = logging.getLogger("django_sessionlog")

NO_JSON = "no_json"
VALIDATION_FAILED = "validation_failed"
ACCEPTED = "accepted"


def check_kind(kind: object, where: str) -> str:
    """The kind, or a clear ``TypeError`` / ``ValueError`` at the adapter's call."""
    if not isinstance(kind, str):
        raise TypeError(f"{where}: kind must be a non-empty string, got {type(kind).__name__}")
    if not kind.strip():
        raise ValueError(f"{where}: kind must be a non-empty string, got {kind!r}")
    return kind


def check_provider(provider: object, where: str) -> str:
    if not isinstance(provider, str):
        raise TypeError(f"{where}: provider must be a string, got {type(provider).__name__}")
    return provider


def adapter_failed(what: str, raise_errors: bool | None = None) -> None:
    """Say that the adapter itself failed (inside ``except``); raise instead with ``RAISE_ERRORS``."""
    if conf.RAISE_ERRORS if raise_errors is None else raise_errors:
        raise  # noqa: PLE0704 (called inside an except block, re-raises what it caught)
    logger.warning("django_sessionlog: %s; the call goes on unchanged", what, exc_info=True)


def _count(value: object) -> int | None:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def usage_of(
    input_tokens: object,
    output_tokens: object,
    cache_read_tokens: object = 0,
    cache_write_tokens: object = 0,
    reasoning_tokens: object = 0,
    *,
    source: str,
) -> Usage | None:
    """A ``Usage`` from a provider's counts; ``None`` (and a warning) when a count is not a count.

    A missing count (``None``) is 0, as the providers mean it.
    """
    counts = [
        _count(value)
        for value in (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
    ]
    if any(count is None for count in counts):
        logger.warning(
            "django_sessionlog: %s gave token counts that are not counts (%r); the attempt is written without usage",
            source,
            (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens),
        )
        return None
    return Usage(*(count or 0 for count in counts))


def artifact_of(result: object, source: str) -> dict[str, Any] | None:
    """The result as the row's artifact: a pydantic model's ``model_dump(mode="json")``.

    A dict is kept as it is; any other value (a list, a string, an int from
    a simple ``response_model``) is kept under ``"value"`` as JSON data.
    What cannot be made JSON costs a warning and the artifact.
    """
    try:
        dump: Callable[..., Any] | None = getattr(result, "model_dump", None)
        if dump is not None:
            data = dump(mode="json")
        else:
            from pydantic_core import to_jsonable_python

            data = to_jsonable_python(result)
        if isinstance(data, dict):
            return data
        return {"value": data}
    except Exception:
        logger.warning(
            "django_sessionlog: %s returned a %s that is not JSON data; the row is written without its artifact",
            source,
            type(result).__name__,
            exc_info=True,
        )
        return None


def message_text(content: object) -> str | None:
    """The text of a chat message's ``content``: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        return "\n".join(texts)
    return None


def last_user_text(messages: object, source: str) -> str:
    """The text of the last ``user`` message of OpenAI-style ``messages`` ("" and a warning when unreadable)."""
    if isinstance(messages, str):
        return messages
    try:
        for message in reversed(list(messages)):  # type: ignore[call-overload]
            role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
            if role != "user":
                continue
            content = (
                message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
            )
            text = message_text(content)
            if text is not None:
                return text
    except Exception:
        pass
    else:
        return ""
    logger.warning(
        "django_sessionlog: could not read the prompt from the %s call's messages; the row is written without it",
        source,
    )
    return ""


def error_text(error: BaseException) -> str:
    """An exception as an attempt's or row's error: its type and message."""
    message = str(error)
    name = type(error).__name__
    return f"{name}: {message}" if message else name


def validation_text(error: BaseException) -> str:
    """A validation error as the validator wrote it: each failed field's message, ``loc: message``.

    For pydantic's ``ValidationError`` the message of a ``ValueError`` or
    ``AssertionError`` raised in a validator is that exception's own text
    (``worker W-9999 is not on the roster``), without pydantic's
    ``Value error, `` prefix; other errors keep pydantic's message
    (``workers: Field required``). Anything else is its ``str``.
    """
    errors = _pydantic_errors(error)
    if not errors:
        return str(error) or type(error).__name__
    parts = []
    for item in errors:
        message = str(item.get("msg", ""))
        raised = (item.get("ctx") or {}).get("error")
        if item.get("type") in {"value_error", "assertion_error"} and isinstance(raised, BaseException):
            message = str(raised) or message
        location = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def is_unparsable_json(error: BaseException) -> bool:
    """Whether a pydantic ``ValidationError`` says only that the text was not JSON at all."""
    errors = _pydantic_errors(error)
    return bool(errors) and all(item.get("type") == "json_invalid" for item in errors)


def _pydantic_errors(error: BaseException) -> list[dict[str, Any]]:
    errors = getattr(error, "errors", None)
    if not callable(errors) or type(error).__name__ != "ValidationError":
        return []
    try:
        found = errors(include_url=False)
    except Exception:
        return []
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []
