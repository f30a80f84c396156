"""The Bot API's shapes, the limits Telegram enforces and its error answers."""

from __future__ import annotations

from typing import Any, Literal

JSON = dict[str, Any]
FileTuple = tuple[str, bytes, str]
FailureMode = Literal["server_error", "network_error", "timeout"]


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_PHOTO_UPLOAD_SIZE = 10 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_POLL_TIMEOUT = 50


# The update types a bot receives when allowed_updates is unset or empty.
DEFAULT_ALLOWED_UPDATES = words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_join_request "
    "chat_boost removed_chat_boost"
)
CHAT_ACTIONS = words(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "record_audio upload_audio upload_document choose_sticker find_location "
    "pick_up_location record_video_note upload_video_note cancel"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_ID_INVALID = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)


class ApiError(Exception):
    """An error answer of the Bot API: the HTTP status and Telegram's description."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def forbidden(description: str) -> ApiError:
    return ApiError(403, "Forbidden: " + description)


class SimulatedNetworkFailure(Exception):
    """Raised by :meth:`FakeTelegram.handle` for ``fail_next(mode="network_error"|"timeout")``.

    ``processed`` tells whether Telegram carried the call out before the answer was lost (a
    timeout after the message was sent), which is what makes blind retries send duplicates.
    """

    def __init__(self, processed: bool) -> None:
        super().__init__("simulated network failure" + (" after processing" if processed else ""))
        self.processed = processed
