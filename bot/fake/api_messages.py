"""Bot API methods for messages: send, edit, delete, forward and copy messages, photos and
documents, answer callback queries, and getFile; with reply markup and reply checks.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.fake.formatting import checked_link, format_text, link_user_id
from bot.fake.media import TDLIB_FILE_TYPE, StoredFile, image_size
from bot.fake.params import chat_ref, to_bool, to_int, unix_time
from bot.fake.protocol import (
    JSON,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_INLINE_BUTTONS,
    MAX_PHOTO_UPLOAD_SIZE,
    MAX_TEXT_LENGTH,
    MAX_UPLOAD_SIZE,
    NOT_MODIFIED,
    QUERY_ID_INVALID,
    ApiError,
    FileTuple,
    bad,
)
from bot.fake.state import FakeChat, FakeState


class MessageMethods(FakeState):
    """Sending, editing, deleting, forwarding and copying messages; callback answers; files."""

    def _input_file(
        self, params: JSON, files: dict[str, FileTuple], field_name: str
    ) -> FileTuple | StoredFile:
        """The upload for ``field_name`` or the stored file its file_id names."""
        value = params.get(field_name)
        upload = files.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            value = None
        if upload is not None:
            name, data, mime = upload
            if len(data) > MAX_UPLOAD_SIZE:
                raise ApiError(413, "Request Entity Too Large")
            if not data:
                raise bad("file must be non-empty")
            return name, data, mime
        if not value:
            raise bad(f"there is no {field_name} in the request")
        value = str(value).strip()
        if value.lower().startswith(("http://", "https://")):
            raise bad("failed to get HTTP URL content")
        stored = self._files.get(value)
        if stored is None:
            raise bad("wrong file identifier/HTTP URL specified")
        return stored

    def _reply_target(self, chat: FakeChat, params: JSON) -> tuple[str, JSON] | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = to_int(reply.get("message_id"))
            allow = to_bool(reply.get("allow_sending_without_reply", False))
            target_chat = chat
            if reply.get("chat_id") not in (None, ""):
                target_chat = self._resolve_chat(chat_ref(reply["chat_id"]))
        elif params.get("reply_to_message_id"):
            message_id = params["reply_to_message_id"]
            allow = bool(params.get("allow_sending_without_reply", False))
            target_chat = chat
        else:
            return None
        if not message_id:
            return None
        target = target_chat.messages.get(message_id)
        if target is None:
            if allow:
                return None
            raise bad("message to be replied not found")
        if target_chat is chat:
            return "reply_to_message", self._snapshot(target)
        origin = self._origin_for(target["from"], target["date"])
        external = {"origin": origin, "chat": dict(target_chat.info), "message_id": message_id}
        return "external_reply", external

    def _parse_reply_markup(self, value: Any) -> tuple[JSON | None, JSON | None]:
        """Validates reply_markup: (inline keyboard for the message, other keyboard markup)."""
        if value is None:
            return None, None
        if not isinstance(value, dict):
            raise bad("object expected as reply markup")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list):
                raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            clean_rows: list[list[JSON]] = []
            count = 0
            for row in rows:
                if not isinstance(row, list):
                    raise bad(
                        'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array '
                        "of Arrays"
                    )
                clean_row = [self._inline_button(button) for button in row]
                count += len(clean_row)
                if clean_row:
                    clean_rows.append(clean_row)
            if count > MAX_INLINE_BUTTONS:
                raise bad("reply markup is too long")
            return ({"inline_keyboard": clean_rows} if clean_rows else None), None
        if "keyboard" in value:
            rows = value["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
            for row in rows:
                for button in row:
                    if not isinstance(button, str | dict):
                        raise bad(
                            "can't parse keyboard button: KeyboardButton must be a String or "
                            "an Object"
                        )
            return None, dict(value)
        if value.get("remove_keyboard") or value.get("force_reply"):
            return None, dict(value)
        return None, None

    @staticmethod
    def _inline_button(button: Any) -> JSON:
        prefix = "can't parse inline keyboard button: "
        if not isinstance(button, dict):
            raise bad(prefix + "InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str):
            raise bad(prefix + 'Field "text" must be of type String')
        url = button.get("url")
        if url:
            if not isinstance(url, str) or not (checked_link(url) or link_user_id(url)):
                raise bad("BUTTON_URL_INVALID")
            return {"text": text, "url": url}
        data = button.get("callback_data")
        if data not in (None, ""):
            if not isinstance(data, str):
                raise bad(prefix + 'Field "callback_data" must be of type String')
            if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                raise bad("BUTTON_DATA_INVALID")
            return {"text": text, "callback_data": data}
        for key in (
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        ):
            if key in button:
                return {"text": text, key: button[key]}
        raise bad(prefix + "Text buttons are unallowed in the inline keyboard")

    def _caption(self, params: JSON) -> tuple[str, list[JSON], str | None]:
        caption = params.get("caption")
        if caption is None:
            return "", [], None
        text, entities, mode = format_text(
            str(caption), params.get("parse_mode"), params.get("caption_entities")
        )
        if len(text) > MAX_CAPTION_LENGTH:
            raise bad("message caption is too long")
        return text, entities, mode

    def _send(
        self,
        params: JSON,
        content: JSON,
        *,
        source: str | None = None,
        mode: str | None = None,
    ) -> JSON:
        """Stores a bot message built from ``content`` after the checks Telegram makes."""
        inline, other = self._parse_reply_markup(params.get("reply_markup"))
        chat = self._send_target(params.get("chat_id"))
        reply = self._reply_target(chat, params)
        self._check_can_send(chat)
        msg = self._new_message(chat, self.bot_user)
        msg.update(content)
        if reply is not None:
            msg[reply[0]] = reply[1]
        if inline is not None:
            msg["reply_markup"] = inline
        if other is not None:
            msg["_reply_markup"] = other
            if "keyboard" in other:
                chat.reply_keyboard = copy.deepcopy(other)
            elif other.get("remove_keyboard"):
                chat.reply_keyboard = None
        if params.get("protect_content"):
            msg["has_protected_content"] = True
        if mode is not None and source is not None:
            msg["_parse_mode"] = mode
            msg["_source"] = source
            if mode == "html":
                msg["_html"] = source
        self._commit(chat, msg)
        return msg

    def _text_content(self, params: JSON) -> tuple[JSON, str, str | None]:
        raw = params.get("text")
        source = "" if raw is None else str(raw)
        text, entities, mode = format_text(
            source, params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise bad("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise bad("message is too long")
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return content, source, mode

    def _edit_target(self, params: JSON) -> tuple[FakeChat, JSON]:
        if params.get("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params.get("chat_id"))
        message_id = params.get("message_id")
        if not message_id:
            raise bad("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None:
            raise bad("message to edit not found")
        if msg["from"]["id"] != self.bot_id:
            raise bad("message can't be edited")
        self._check_can_send(chat)
        return chat, msg

    def _api_sendMessage(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        content, source, mode = self._text_content(params)
        return self._send(params, content, source=source, mode=mode)

    def _api_editMessageText(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        content, source, mode = self._text_content(params)
        inline, other = self._parse_reply_markup(params.get("reply_markup"))
        if other is not None:
            raise bad("inline keyboard expected")
        _, msg = self._edit_target(params)
        if "text" not in msg:
            raise bad("there is no text in the message to edit")
        same_text = msg["text"] == content["text"] and msg.get("entities", []) == content.get(
            "entities", []
        )
        if same_text and msg.get("reply_markup") == inline:
            raise bad(NOT_MODIFIED)
        msg["text"] = content["text"]
        msg.pop("entities", None)
        if "entities" in content:
            msg["entities"] = content["entities"]
        self._apply_markup(msg, inline)
        self._remember_source(msg, source, mode)
        msg["edit_date"] = unix_time()
        return msg

    def _api_editMessageCaption(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        caption, entities, mode = self._caption(params)
        inline, other = self._parse_reply_markup(params.get("reply_markup"))
        if other is not None:
            raise bad("inline keyboard expected")
        _, msg = self._edit_target(params)
        if not any(key in msg for key in ("photo", "document", "voice", "video", "audio")):
            raise bad("there is no caption in the message to edit")
        same = msg.get("caption", "") == caption and msg.get("caption_entities", []) == entities
        if same and msg.get("reply_markup") == inline:
            raise bad(NOT_MODIFIED)
        msg.pop("caption", None)
        msg.pop("caption_entities", None)
        if caption:
            msg["caption"] = caption
            if entities:
                msg["caption_entities"] = entities
        self._apply_markup(msg, inline)
        self._remember_source(msg, str(params.get("caption") or ""), mode)
        msg["edit_date"] = unix_time()
        return msg

    def _api_editMessageReplyMarkup(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        inline, other = self._parse_reply_markup(params.get("reply_markup"))
        if other is not None:
            raise bad("inline keyboard expected")
        _, msg = self._edit_target(params)
        if msg.get("reply_markup") == inline:
            raise bad(NOT_MODIFIED)
        self._apply_markup(msg, inline)
        msg["edit_date"] = unix_time()
        return msg

    @staticmethod
    def _apply_markup(msg: JSON, inline: JSON | None) -> None:
        if inline is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = inline

    @staticmethod
    def _remember_source(msg: JSON, source: str, mode: str | None) -> None:
        for key in ("_parse_mode", "_source", "_html"):
            msg.pop(key, None)
        if mode is not None:
            msg["_parse_mode"] = mode
            msg["_source"] = source
            if mode == "html":
                msg["_html"] = source

    def _delete_one(self, chat: FakeChat, message_id: int) -> None:
        msg = chat.messages.get(message_id)
        if msg is None:
            raise bad("message to delete not found")
        own = msg["from"]["id"] == self.bot_id
        if chat.type in ("group", "supergroup") and not own and not chat.bot_is_admin:
            raise bad("message can't be deleted")
        chat.deleted.append(chat.messages.pop(message_id))

    def _api_deleteMessage(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if not params.get("message_id"):
            raise bad("message identifier is not specified")
        self._delete_one(chat, params["message_id"])
        return True

    def _api_deleteMessages(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise bad("message identifiers are not specified")
        if len(ids) > 100:
            raise bad("too many message identifiers specified")
        # Telegram skips messages it can't find or delete here instead of failing.
        for message_id in map(to_int, ids):
            msg = chat.messages.get(message_id)
            if msg is None:
                continue
            own = msg["from"]["id"] == self.bot_id
            if chat.type == "private" or own or chat.bot_is_admin:
                chat.deleted.append(chat.messages.pop(message_id))
        return True

    def _api_answerCallbackQuery(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._callback_queries.get(query_id)
        if query is None or query["answered"]:
            raise bad(QUERY_ID_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(dict(params))
        return True

    def _content_copy(self, msg: JSON) -> JSON:
        keys = (
            "text",
            "entities",
            "photo",
            "document",
            "sticker",
            "voice",
            "location",
            "caption",
            "caption_entities",
        )
        return {key: copy.deepcopy(msg[key]) for key in keys if key in msg}

    def _api_forwardMessage(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        source_chat = self._resolve_chat(
            params.get("from_chat_id"), empty='parameter "from_chat_id" is required'
        )
        target_chat = self._send_target(params.get("chat_id"))
        original = source_chat.messages.get(params.get("message_id") or 0)
        if original is None:
            raise bad("message to forward not found")
        if original.get("has_protected_content"):
            raise bad("the message can't be forwarded")
        self._check_can_send(target_chat)
        msg = self._new_message(target_chat, self.bot_user)
        msg.update(self._content_copy(original))
        if "forward_origin" in original:
            msg["forward_origin"] = copy.deepcopy(original["forward_origin"])
        elif source_chat.type == "channel":
            msg["forward_origin"] = {
                "type": "channel",
                "chat": dict(source_chat.info),
                "message_id": original["message_id"],
                "date": original["date"],
            }
        else:
            msg["forward_origin"] = self._origin_for(original["from"], original["date"])
        if params.get("protect_content"):
            msg["has_protected_content"] = True
        self._commit(target_chat, msg)
        return msg

    def _api_copyMessage(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        source_chat = self._resolve_chat(
            params.get("from_chat_id"), empty='parameter "from_chat_id" is required'
        )
        original = source_chat.messages.get(params.get("message_id") or 0)
        if original is None:
            raise bad("message to copy not found")
        if original.get("has_protected_content"):
            raise bad("the message can't be copied")
        content = self._content_copy(original)
        if "caption" in params and "text" not in content:
            caption, entities, _ = self._caption(params)
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
        msg = self._send(params, content)
        return {"message_id": msg["message_id"]}

    def _api_sendPhoto(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        caption, entities, mode = self._caption(params)
        photo = self._input_file(params, files, "photo")
        if isinstance(photo, StoredFile):
            if photo.kind != "photo":
                raise bad(f"can't use file of type {TDLIB_FILE_TYPE[photo.kind]} as Photo")
            sizes = [
                self._photo_size_json(self._files[i]) for i in self._photo_sets[photo.file_id]
            ]
        else:
            _, data, _ = photo
            if len(data) > MAX_PHOTO_UPLOAD_SIZE:
                raise bad("PHOTO_SAVE_FILE_INVALID")
            info = image_size(data)
            if info is None:
                raise bad("IMAGE_PROCESS_FAILED")
            _, width, height = info
            if width + height > 10000 or max(width, height) > 20 * min(width, height):
                raise bad("PHOTO_INVALID_DIMENSIONS")
            sizes = []
        content: JSON = {"photo": sizes}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        # Store the photo only once every check passed, as Telegram does.
        self._parse_reply_markup(params.get("reply_markup"))
        chat = self._send_target(params.get("chat_id"))
        self._reply_target(chat, params)
        self._check_can_send(chat)
        if not sizes:
            assert not isinstance(photo, StoredFile)
            content["photo"] = self._store_photo(photo[1])
        return self._send(params, content, source=str(params.get("caption") or ""), mode=mode)

    def _api_sendDocument(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        caption, entities, mode = self._caption(params)
        document = self._input_file(params, files, "document")
        if isinstance(document, StoredFile):
            if document.kind != "document":
                kind = TDLIB_FILE_TYPE[document.kind]
                raise bad(f"can't use file of type {kind} as Document")
            stored: StoredFile | None = document
        else:
            stored = None
        self._parse_reply_markup(params.get("reply_markup"))
        chat = self._send_target(params.get("chat_id"))
        self._reply_target(chat, params)
        self._check_can_send(chat)
        if stored is None:
            assert not isinstance(document, StoredFile)
            name, data, mime = document
            stored = self._store_file("document", data, mime, name or "document")
        content: JSON = {"document": self._document_json(stored)}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return self._send(params, content, source=str(params.get("caption") or ""), mode=mode)

    def _api_getFile(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        file_id = str(params.get("file_id") or "").strip()
        if not file_id:
            raise bad("file_id not specified")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad("invalid file_id")
        if stored.size > MAX_DOWNLOAD_SIZE:
            raise bad("file is too big")
        if stored.file_path is None:
            folder, extension = {
                "photo": ("photos", ".jpg"),
                "sticker": ("stickers", ".webp"),
                "voice": ("voice", ".oga"),
            }.get(stored.kind, ("documents", ""))
            if stored.kind == "document" and stored.file_name and "." in stored.file_name:
                extension = "." + stored.file_name.rsplit(".", 1)[1]
            stored.file_path = f"{folder}/file_{len(self._paths)}{extension}"
            self._paths[stored.file_path] = stored.file_id
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }
