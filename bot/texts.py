"""Every sentence a member or a staffer reads, in one place. HTML; {fields} are escaped."""

from __future__ import annotations

ASPECT_LABELS = {
    "overview": "概况",
    "process": "办理流程",
    "materials": "所需材料",
    "basis": "法定依据",
    "department": "负责部门",
    "contact": "联系与监督",
}

WELCOME = (
    "您好！我是<b>{union}</b>服务助手。\n\n"
    "您可以直接用文字提问，例如“会员服务卡怎么办理”“困难职工帮扶要什么材料”，"
    "我会按照{union}公布的职责清单为您解答。\n"
    "• /menu 按类别浏览服务事项\n"
    "• /apply 在线申请会员服务卡、困难帮扶、建会等\n"
    "• /mycases 查看申请进度\n"
    "• /human 转人工，由工作人员为您解答\n"
    "• /help 查看使用说明\n\n"
    "隐私提示：您的提问仅用于答复和改进服务，转人工时会转给相关部门工作人员，不会用于其他用途。"
    "未能解答的问题（去掉其中的号码）保存{miss}。/privacy 查看保存期限和您的权利，"
    "/mydata 查看我们保存的您的全部信息，/deleteme 删除。"
)
HELP = (
    "使用说明：\n"
    "1. 直接输入您的问题，如“建会需要哪些材料”“民主管理部电话是多少”。\n"
    "2. /menu 浏览全部服务事项，查看流程、材料、依据和联系方式。\n"
    "3. /human 转人工：工作人员会在工作时间内回复您，回复会由我转给您。\n"
    "4. /apply 在线申请：按提示逐项填写，提交后会得到受理编号；/mycases 查看进度。\n"
    "5. /cancel 取消正在填写的申请，或结束当前的人工咨询。\n"
    "6. /mydata 查看我们保存的您的全部个人信息；/deleteme 删除您的个人信息；"
    "/withdraw 撤回对敏感个人信息的同意；/privacy 查看保存期限。"
)
COMMANDS = {
    "start": "开始使用",
    "menu": "浏览服务事项",
    "human": "转人工咨询",
    "apply": "在线申请",
    "mycases": "我的申请",
    "profile": "我保存的资料",
    "mydata": "查看我的全部个人信息",
    "deleteme": "删除我的个人信息",
    "withdraw": "撤回敏感信息同意",
    "privacy": "个人信息保护说明",
    "help": "使用说明",
    "cancel": "结束人工咨询",
}

MENU_TITLE = "请选择服务类别："
AREA_TITLE = "<b>{area}</b>\n请选择具体事项："
BUTTON_BACK = "« 返回"
BUTTON_MENU = "全部事项"
BUTTON_HUMAN = "转人工"
BUTTON_NONE = "都不是"
BUTTON_END = "结束人工咨询"

CLARIFY = "您是想问：\n{options}"
CLARIFY_VAGUE = (
    "请问您想了解哪方面的服务？可以说得具体一些，例如“会员服务卡怎么办理”，或点下方按钮浏览。"
)
NONE_OF_THESE = "抱歉没能理解您的问题。您可以换个说法再问一次，或点「转人工」由工作人员为您解答。"
OUT_OF_SCOPE = "您问的{topic}事项不属于工会的职责范围，建议您咨询{refer_to}。"
OUT_OF_SCOPE_UNKNOWN = (
    "抱歉，这个问题不属于工会的职责范围，我暂时无法回答。"
    "如需政务咨询，可拨打 12345 政务服务便民热线。"
)
OUT_OF_SCOPE_UNION = "如有工会方面的问题，欢迎随时问我，也可以联系{union}：\n{contacts}"

SMALLTALK = {
    "greeting": "您好！请问有什么可以帮您？您可以直接输入问题，或发送 /menu 浏览服务事项。",
    "thanks": "不客气，很高兴为您服务！还有其他问题随时问我。",
    "identity": (
        "我是{union}服务助手，可以为您解答工会服务事项的办理流程、所需材料、法定依据和联系方式，"
        "也可以帮您转人工。"
    ),
    "farewell": "再见，祝您工作顺利、生活愉快！",
    "ack": "好的。还有其他问题随时问我。",
    "laugh": "😊 还有什么可以帮您？直接输入问题就行，也可以发送 /menu 浏览服务事项。",
}
EMOJI_ONLY = "😊 收到。还有什么可以帮您？直接输入问题就行，也可以发送 /menu 浏览服务事项。"
ENGLISH = (
    "Hello! This is the service assistant of the Hedong District Federation of Trade "
    "Unions (天津市河东区总工会). It answers in Chinese. You can tap a button below, send "
    "/menu to browse the services, /apply to apply online, or /human to reach a member of "
    "staff."
)
ENGLISH_DUTY = "事项 {duty}（中文）Details in Chinese"
ENGLISH_TOPICS = (
    # (English words, the button, its callback data)
    (
        ("membership card", "member card", "service card", "union card"),
        "会员服务卡 Membership card",
        "duty:3.2:overview",
    ),
    (
        ("hardship", "financial aid", "financial help", "poverty", "difficult"),
        "困难帮扶 Hardship aid",
        "duty:3.1:overview",
    ),
    (
        ("join", "become a member", "sign up as a member"),
        "加入工会 Join the union",
        "faq:join",
    ),
    (("person", "human", "staff", "someone", "agent", "talk"), "转人工 Talk to a person", "human"),
)

DUTY_HEADING = "<b>{name}</b>"
DEPARTMENT_LINE = "负责部门：{department}"
BOUNDARY_LINE = "职责边界：{boundary}"
PROCESS_HEADING = "<b>办理流程</b>"
# What a member does, before the union's own steps (issue 10 §1): a form's title, its button.
HOW_TO_APPLY_HEADING = "<b>怎么办理</b>"
# How long a duty takes: the duty list publishes no time for any of them.
TIMING_NOT_PUBLISHED = (
    "办理要多长时间、什么时候有结果，区总工会没有公布。想了解大概时间，请联系{department}"
    "（电话 {phone}），或点「转人工」问工作人员。"
)
TIMING_ONLINE = (
    "在这里在线申请的，受理和办理的每一步都会在这里通知您，也可以随时发送 /mycases 查看进度。"
)
HOW_TO_APPLY_ONLINE = "• 在这里就能在线办理《{title}》：点下方「{button}」，按提示逐项填写。"
HOW_TO_APPLY_AFTER = "  提交后，{next_steps}"
PROCESS_INTERNAL_NOTE = "<i>以下是区总工会内部的办理环节，供您了解：</i>"
MATERIALS_HEADING = "<b>所需材料</b>"
BASIS_HEADING = "<b>法定依据</b>"
CONTACT_HEADING = "<b>联系与监督</b>"
NOT_IN_CATALOGUE = "职责清单中暂未列明{what}，如需了解请点「转人工」咨询工作人员。"
PHONE_LINE = "电话：{phone}"
EMAIL_LINE = "邮箱：{email}"
ADDRESS_LINE = "地址：{address}"
DEPARTMENT_ANSWER = "<b>{department}</b>负责以下事项："

MEDIA_NOT_UNDERSTOOD = "目前我只能读懂文字消息。请用文字描述您的问题，或点「转人工」联系工作人员。"
GROUP_ONLY_PRIVATE = "为保护您的隐私，请私聊我咨询：@{bot_username}"
BUTTON_EXPIRED = "这个按钮已过期，请重新提问或发送 /menu。"
ERROR = "抱歉，系统出了点问题，请稍后再试。您也可以发送 /human 联系工作人员。"
FLOOD_WARNING = "您发送得太快了，请稍等半分钟再发。已经收到的消息不会丢失。"
CONSULTATIONS_LIMIT = (
    "您今天已经发起了{count}次人工咨询，请明天再试；着急的话可以直接拨打电话：\n{contacts}"
)
DATABASE_BUSY = "系统正忙，您的消息已经收到，稍后会为您处理，请不要重复发送。"

HANDOFF_ASK = "请用一两句话描述您要咨询的问题，我会转给工作人员。"
HANDOFF_DONE = (
    "已为您转接人工（咨询编号 <b>{number}</b>），相关部门工作人员会在工作时间内回复您。\n"
    "在此期间，您发来的消息都会转给工作人员；不需要时请点「结束人工咨询」或发送 /cancel。"
)
HANDOFF_RELAYED = "已转给工作人员（{number}）。"
HANDOFF_ENDED = "人工咨询 {number} 已结束。还有问题随时问我。"
HANDOFF_CANCELLED = "好的，已取消转人工。"
FORM_PAUSED = "您的《{title}》草稿已保存，发送 /apply 可继续填写。"
HANDOFF_NONE_OPEN = "您当前没有进行中的人工咨询。"
HANDOFF_CLOSED_BY_STAFF = "工作人员已结束人工咨询 {number}。感谢您的咨询，还有问题随时问我。"
STAFF_REPLY = (
    "<b>{union}工作人员回复</b>（{number}）：\n{text}\n\n<i>“回复”本消息即可答复工作人员。</i>"
)
STAFF_MEDIA_REPLY = "<b>{union}工作人员</b>给您发来了附件（{number}）。"

STAFF_CARD = (
    "<b>人工咨询 {number}</b>\n"
    "事项：{duty}\n"
    "部门：{department}\n"
    "会员：{member}\n"
    "问题：\n{question}\n\n"
    "回复本消息即可答复会员；回复 /close 结束咨询。"
)
STAFF_CARD_UNKNOWN_DUTY = "未能识别"
STAFF_MEMBER_MESSAGE = "<b>{number}</b> 会员追加消息：\n{text}"
STAFF_MEMBER_MEDIA = "<b>{number}</b> 会员发来了附件，见下条。"
STAFF_MEMBER_ENDED = "<b>{number}</b> 会员已结束人工咨询。"
STAFF_RELAYED = "已转给会员（{number}）。"
STAFF_CLOSED = "已结束人工咨询 {number}。"
STAFF_CLOSE_ONLY_CONSULTATIONS = "/close 只用于结束人工咨询；{number} 是申请，请按办理结果处理。"
STAFF_CASE_CLOSED = "{number} 已结束，回复不会再转给会员。"
STAFF_REPLY_UNKNOWN = "这条消息不对应任何咨询，回复未转出。请回复咨询卡片或会员追加的消息。"
STAFF_MEMBER_BLOCKED = "会员已停用机器人，{number} 的回复无法送达。"
# union-bot misses (for staff, in the terminal)
MISSES_NONE = "还没有记录到未能解答的问题。"
MISSES_HEADER = "  次数  原因                问题"
MISSES_TOTAL = "\n共 {questions} 个不同的问题，{times} 次。"
ADMIN_STAFF_CHAT_FAILED = (
    "员工群 {chat} 拒收消息（{error}），已改发综合工作群。"
    "请检查机器人是否仍在该群、群 ID 是否正确。"
)
ADMIN_ERROR = "union-bot 出错：{error}（update {update_id}）"
TRUNCATED = "……（全文 {length} 字，已存入咨询记录）"

# ------------------------------------------------------------------ applications (forms)
BUTTON_APPLY = "在线申请：{button}"
BUTTON_APPLY_MENU = "在线申请"
APPLY_MENU = "可以在线办理的申请："
APPLY_NONE = "暂无可在线办理的申请。"
FORM_PRIVACY = (
    "<b>{title}</b>\n{intro}\n\n"
    "<b>个人信息告知</b>\n"
    "收集内容：{collected}\n"
    "用途：{purpose}\n"
    "查看人员：{recipients}\n"
    "保存期限：{retention}\n"
    "{sensitive}"
    "您同意我们按上述方式处理您的个人信息吗？"
)
FORM_SENSITIVE = "<b>敏感个人信息</b>：{sensitive}（下一步将单独征求您的同意）\n"
BUTTON_CONSENT = "同意并开始填写"
FORM_SENSITIVE_CONSENT = (
    "<b>敏感个人信息单独同意</b>\n{sensitive}\n\n"
    "根据《个人信息保护法》，处理敏感个人信息需要您的单独同意。您同意吗？"
)
BUTTON_SENSITIVE_CONSENT = "同意处理上述敏感个人信息"
FORM_NOTICE_UPDATED = "个人信息告知的内容刚刚更新，请阅读更新后的告知后再确认。"
FORM_NOTICE_CHANGED = (
    "个人信息告知的内容已更新。您已填写的内容都保留着，请阅读更新后的告知并重新确认，"
    "确认后即可提交。"
)
BUTTON_OTHER_FORMS = "查看其他申请"
FORM_UNKNOWN_TITLE = "申请"
BUTTON_NO_CONSENT = "不同意"
FORM_NO_CONSENT = (
    "好的，未经您同意我们不会收集您的信息，本次申请已取消。"
    "您也可以联系{department}（电话 {phone}）了解线下办理方式。"
)
FORM_FIELD = "（{number}/{total}）{prompt}"
FORM_HELP = "<i>{help}</i>"
FORM_CURRENT = "当前填写：{value}"
FORM_FOOTER = "发送 /cancel 可随时取消。"
BUTTON_PREVIOUS = "« 上一项"
BUTTON_SKIP = "跳过"
BUTTON_KEEP = "保持不变"
BUTTON_USE_PROFILE = "使用已保存的：{value}"
PROFILE_OFFER = (
    "下次申请时，要自动填入您这次填写的以下信息吗？\n{lines}\n（可随时用 /profile 查看或删除）"
)
BUTTON_PROFILE_SAVE = "好的，记住"
BUTTON_PROFILE_NO = "不用了"
PROFILE_SAVED = "已保存。下次申请时可一键填入；发送 /profile 可查看或删除。"
PROFILE_NOT_SAVED = "好的，不保存。"
PROFILE_SHOW = "您保存的资料（仅用于下次申请时自动填写）：\n{lines}\n保存时间：{when}"
PROFILE_NONE = "您没有保存任何资料。提交申请后可以选择记住姓名、电话和单位，方便下次填写。"
BUTTON_PROFILE_DELETE = "删除我保存的资料"
PROFILE_DELETED = "已删除您保存的资料。"
PROFILE_LABELS = {
    "name": "姓名",
    "phone": "电话",
    "unit": "工作单位",
    "grassroots_union": "所属基层工会",
}
BUTTON_YES = "是"
BUTTON_NO = "否"
BUTTON_DONE_CHOOSING = "完成"
BUTTON_DONE_UPLOADING = "完成"
FORM_CHOICE_HINT = "请点选下方按钮，或输入选项序号。"
FORM_MULTI_HINT = "可多选：点选后按「完成」，或输入序号，如 1,3。"
FORM_UPLOAD_HINT = (
    "请发送照片或文件（最多 {max_count} 个，每个不超过 {max_size} MB），发完后点「完成」。"
)
FORM_UPLOAD_RECEIVED = "已收到第 {count} 个文件。"
FORM_UPLOAD_MORE = "还可以继续发送，发完后点「完成」。"
FORM_UPLOAD_EXPECTED = "这一项需要上传照片或文件，请直接发送；发完后点「完成」。"
FORM_TEXT_EXPECTED = "这一项需要文字回答，请输入文字。"
FORM_UPLOAD_TOO_BIG = "文件超过 20 MB，无法接收。请压缩后或拍照后重新发送。"
FORM_UPLOAD_DUPLICATE = "这个文件已经收到过了，无需重复发送。"
FORM_UPLOAD_FAILED = "文件没有保存成功，请稍后重新发送。"
FORM_SUMMARY = (
    "<b>请核对您的《{title}》</b>\n\n{lines}\n\n确认无误请点「提交」；需要修改请点「修改」。"
)
BUTTON_SUBMIT = "提交"
BUTTON_EDIT = "修改"
BUTTON_DISCARD = "放弃申请"
FORM_EDIT_MENU = "请选择要修改的项目："
BUTTON_BACK_TO_SUMMARY = "« 返回核对"
FORM_FILED = (
    "您的《{title}》已提交，受理编号 <b>{number}</b>。\n\n"
    "<b>接下来</b>\n{steps}\n"
    "办理的每一步都会在这里通知您，也可以随时发送 /mycases 查看进度。\n\n"
    "如有疑问请联系{department}：\n{contacts}"
)
FORM_ALREADY_FILED = "这份申请已经提交过了，受理编号 <b>{number}</b>，无需重复提交。"
FORM_CANCELLED = "已取消《{title}》，您填写的内容已删除。"
FORM_RESUME = "您有一份未完成的《{title}》（最后填写于 {when}），要接着填写吗？"
FORM_OTHER_ACTIVE = "您还有一份未完成的《{title}》。要先接着填写它，还是放弃它并开始新的申请？"
BUTTON_CONTINUE = "继续填写"
BUTTON_DISCARD_AND_START = "放弃并开始新申请"
FORM_REMINDER = "您的《{title}》还没有提交，草稿将于 {when} 过期删除。发送 /apply 可继续填写。"
FORM_EXPIRED = "您的《{title}》草稿已超过保存期限，已删除。如需办理，请发送 /apply 重新开始。"
STAFF_APPLICATION_CARD = (
    "<b>新申请 {number}</b>\n"
    "{title}（职责 {duty}）\n"
    "部门：{department}\n"
    "会员：{member}\n\n"
    "{lines}\n\n"
    "附件：{attachments}"
)
ANONYMOUS_MEMBER = "匿名反映（身份不向工作人员显示）"
STAFF_ATTACHMENT = "<b>{number}</b> 附件 {index}/{total}：{label}"

# ------------------------------------------------------------------ my cases
MYCASES_NONE = (
    "您还没有在这里提交过申请或咨询。在这里提交的申请，随时发送 /mycases 就能查看进度；"
    "通过单位工会办理的，请向您所在单位的工会询问。发送 /apply 可以在线申请。"
)
MYCASES_TITLE = "您的申请与咨询（最近 {count} 件）："
MYCASE_LINE = "{number} {title} · {status}"
MYCASE_DRAFT = "继续填写《{title}》（未提交）"
MYCASE_DETAIL = "<b>{number}</b>\n{title}\n状态：{status}\n提交时间：{created}\n\n{lines}"
BUTTON_WITHDRAW = "撤回申请"
BUTTON_MYCASES = "« 我的申请"
BUTTON_MYCASES_OLDER = "更早的申请 »"
MYCASE_WITHDRAW_CONFIRM = "确定要撤回 {number} 吗？撤回后如需办理要重新申请。"
BUTTON_CONFIRM_WITHDRAW = "确定撤回"
MYCASE_WITHDRAWN = "{number} 已撤回。"
MYCASE_CANNOT_WITHDRAW = "{number} 已由工作人员受理，不能在线撤回，请联系{department}。"
STAFF_WITHDRAWN = "<b>{number}</b> 会员已撤回申请。"
UNION_SHORT = "区总工会"  # who to ask when a case has no department
CASE_STATUS = {
    "open": "已提交",
    "accepted": "已受理",
    "in_progress": "办理中",
    "waiting_member": "待补件",
    "completed": "已办结",
    "rejected": "已驳回",
    "withdrawn": "已撤回",
    "closed": "已结束",
    "expired": "已过期关闭",
}

# ------------------------------------------------------------------ case handling: the card
CASE_KIND = {"consultation": "人工咨询", "application": "申请"}
CARD_HEAD = "<b>{kind} {number}</b> · {status}"
CARD_TITLE_APPLICATION = "{title}（职责 {duty}）"
CARD_TITLE_CONSULTATION = "事项：{duty}"
CARD_DEPARTMENT = "部门：{department}"
CARD_MEMBER = "会员：{member}"
CARD_ASSIGNEE = "经办人：{name}"
CARD_UNASSIGNED = "经办人：待受理"
CARD_DUE = "时限：{date} 前（{days} 个工作日）"
CARD_DUE_PAUSED = "时限：{date} 前（等待会员补件，暂停计时）"
CARD_OVERDUE = "⚠️ 时限 {date}，已超期 {days} 个工作日"
CARD_CLOSED_AT = "结束：{when}"
CARD_RATING = "评价：{rating}"
CARD_RATING_COMMENT = "评价：{rating}（{comment}）"
CARD_QUESTION = "问题：\n{question}"
CARD_ATTACHMENTS = "附件：{count} 个（点「查看材料」私聊发给您）"
CARD_NO_ATTACHMENTS = "附件：无"
CARD_HOW_TO_REPLY = "回复本卡片即可答复会员。"
CARD_MOVED = "<b>{number}</b> 已转派至{department}，请在该部门工作群办理。"
CARD_PURGED = "（已过保存期限，内容已删除）"
UNKNOWN_DEPARTMENT = "综合"
RATING_LABELS = {"satisfied": "满意", "fair": "基本满意", "unsatisfied": "不满意"}

BUTTON_ACCEPT = "受理"
BUTTON_TRANSFER = "转派"
BUTTON_REASSIGN = "改派经办人"
BUTTON_MORE = "补件"
BUTTON_DONE = "办结"
BUTTON_REJECT = "驳回"
BUTTON_NOTE = "备注"
BUTTON_MATERIALS = "查看材料"
BUTTON_FULL = "查看完整信息"
BUTTON_OPEN_CARD = "展开 {number}"
BUTTON_CANCEL_PICK = "« 返回"
BUTTON_GENERAL_CHAT = "综合工作群"
BUTTON_START_PRIVATE = "私聊机器人"

# ------------------------------------------------------------------ case handling: staff
STAFF_NOT_ON_ROSTER = "您不在工作人员名单中，无法办理案件。如需开通，请联系管理员。"
STAFF_ANONYMOUS = "请关闭匿名管理员身份后再操作：每一步办理都需要记录到具体的工作人员。"
STAFF_OTHER_DEPARTMENT = "{number} 由{department}办理，您所在的{own}不能操作。"
STAFF_NOT_ASSIGNEE = "{number} 由 {name} 经办，请联系经办人或部门负责人。"
STAFF_LEAD_ONLY = "只有部门负责人或管理员可以这样做。"
STAFF_ADMIN_ONLY = "只有管理员可以这样做。"
STAFF_ILLEGAL = "{number} 当前为「{status}」，不能{action}。"
STAFF_ALREADY = "{number} 已经{state}了。"
# What a double press finds done already, by status.
STAFF_ALREADY_STATES = {
    "accepted": "受理",
    "waiting_member": "要求补件",
    "completed": "办结",
    "rejected": "驳回",
    "closed": "结束",
    "withdrawn": "撤回",
    "in_progress": "开始办理",
}
STAFF_SOMEONE = "其他工作人员"
STAFF_NO_PHONE = "（未留电话，请在工作群回复卡片，经机器人答复会员）"
STAFF_CASE_GONE = "找不到这件案件，可能已被删除。"
STAFF_ACTIONS = {
    "accept": "受理",
    "transfer": "转派",
    "reassign": "改派",
    "more": "要求补件",
    "done": "办结",
    "reject": "驳回",
    "close": "结束咨询",
    "note": "添加备注",
    "supplied": "补齐材料",
    "withdraw": "撤回",
    "reply": "答复",
}
STAFF_ACCEPTED = "{number} 已由 {name} 受理，办理时限至 {due}。会员的联系方式已私聊发给经办人。"
STAFF_PRIVATE_ACCEPTED = (
    "您已受理 <b>{number}</b>（{title}）。\n会员：{member}\n联系电话：{phone}\n"
    "办理时限：{due} 前。请妥善使用会员信息，勿转发。"
)
STAFF_TRANSFERRED = "{number} 已转派至{department}。"
STAFF_REASSIGNED = "{number} 已改由 {name} 经办。"
STAFF_PICK_DEPARTMENT = "转派 {number} 至："
STAFF_PICK_PERSON = "改派 {number} 的经办人："
STAFF_NO_ONE_TO_PICK = "名单中没有其他可以办理{department}案件的工作人员。"
STAFF_SAME_DEPARTMENT = "{number} 已在{department}。"
STAFF_PROMPT = {
    "more": '<a href="tg://user?id={staff_id}">{name}</a>，请回复本消息，写明需要会员补充的材料和原因（会员可见）。',
    "done": '<a href="tg://user?id={staff_id}">{name}</a>，请回复本消息，写明办理结果（会员可见）。',
    "reject": '<a href="tg://user?id={staff_id}">{name}</a>，请回复本消息，写明驳回原因（会员可见）。',
    "note": '<a href="tg://user?id={staff_id}">{name}</a>，请回复本消息，写下内部备注（会员看不到）。',
}
STAFF_PROMPT_PLACEHOLDER = {
    "more": "需补充的材料和原因",
    "done": "办理结果",
    "reject": "驳回原因",
    "note": "内部备注",
}
STAFF_PROMPT_NOT_YOURS = "这条提示是给 {name} 的。如需操作，请点卡片上的按钮。"
STAFF_PROMPT_USED = "这条提示已经用过了。如需再次操作，请点卡片上的按钮。"
STAFF_PROMPT_EMPTY = "请用文字回复。"
STAFF_MORE_SENT = "已通知会员补充材料（{number}）。会员补齐后卡片会更新。"
STAFF_DONE = "{number} 已办结，已通知会员。"
STAFF_REJECTED = "{number} 已驳回，已通知会员。"
STAFF_NOTED = "已添加备注（{number}，会员看不到）。"
STAFF_NOTE_LINE = "<b>{number}</b> 备注（{name}）：\n{text}"
STAFF_MATERIALS_SENT = "已私聊发给您 {count} 个附件。"
STAFF_FILE_UNAVAILABLE = "第 {index} 个附件的文件暂时无法取得，请稍后再试，或请会员重新发送。"
STAFF_FULL_SENT = "完整信息已私聊发给您。"
STAFF_NO_MATERIALS = "{number} 没有附件。"
STAFF_START_PRIVATE = (
    '<a href="tg://user?id={staff_id}">{name}</a>，为保护会员隐私，材料和完整信息只私聊发送。'
    "请先点下方按钮私聊机器人并点「开始」，再回到这里点一次。"
)
STAFF_START_PRIVATE_SHORT = "请先私聊机器人并点「开始」，再点一次。"
STAFF_PRIVATE_MATERIALS_HEAD = "<b>{number}</b> 的材料，共 {count} 个（仅供办理使用，请勿转发）："
STAFF_PRIVATE_ATTACHMENT = "<b>{number}</b> {index}/{total}：{label}"
STAFF_PRIVATE_FULL = (
    "<b>{number}</b> 完整信息（仅供办理使用，请勿转发）\n{title}\n会员：{member}\n"
    "Telegram ID：{telegram_id}\n\n{lines}"
)
SUPPLEMENT_LABEL = "补充材料"
STAFF_MEMBER_SUPPLIED = "<b>{number}</b> 会员已补齐材料，请继续办理。"
STAFF_MEMBER_FILE = (
    "<b>{number}</b> 会员发来了{what}（共 {count} 个附件，点卡片上的「查看材料」查看）。"
)
STAFF_FILE_CAPTION = "会员说明：{caption}"
STAFF_FILE_PHOTO = "一张照片"
STAFF_FILE_DOCUMENT = "一个文件"
STAFF_MEMBER_RATED = "<b>{number}</b> 会员评价：{rating}"
STAFF_PRIVATE_UNREACHABLE = (
    "无法私聊 {name}（尚未私聊机器人），{number} 的信息未发出。请先私聊机器人并点「开始」。"
)
STAFF_HISTORY_HEAD = "<b>{number}</b> 办理记录："
STAFF_HISTORY_LINE = "{when} {who}：{what}"
STAFF_HISTORY_EARLIER = "（更早的 {count} 条记录略）"
STAFF_HISTORY_ACTIONS = {
    "filed": "提交",
    "accepted": "受理",
    "transferred": "转派至{department}",
    "reassigned": "改派给 {assignee}",
    "materials_requested": "要求补件：{text}",
    "materials_supplied": "会员补齐材料",
    "member_message": "会员留言：{text}",
    "member_file": "会员发来附件",
    "staff_reply": "答复会员：{text}",
    "in_progress": "开始办理",
    "completed": "办结：{text}",
    "rejected": "驳回：{text}",
    "closed": "结束咨询",
    "withdrawn": "会员撤回",
    "note": "备注：{text}",
    "viewed_materials": "查看材料",
    "viewed_full": "查看完整信息",
    "rated": "评价：{rating}",
    "exported": "导出",
    "undeliverable": "消息未送达",
    "purged": "内容到期删除",
    "expiry_warned": "提醒：无办理记录，将过期关闭",
    "expired": "过期关闭",
    "erased": "会员删除个人信息",
    "sensitive_withdrawn": "会员撤回敏感个人信息同意",
}
STAFF_WHO_MEMBER = "会员"
STAFF_WHO_BOT = "系统"

# ------------------------------------------------------------------ case handling: the member
MEMBER_ACCEPTED = (
    "您的{title}（<b>{number}</b>）已由{department}受理，正在办理。\n"
    "办理中如需补充材料，我们会在这里通知您；发送 /mycases 可随时查看进度。"
)
MEMBER_ACCEPTED_CONSULTATION = (
    "您的人工咨询（<b>{number}</b>）已由{department}工作人员接手，回复会发到这里，请留意消息。"
)
MEMBER_TRANSFERRED = "您的{title}（<b>{number}</b>）已转至{department}办理，请耐心等待。"
MEMBER_MORE = (
    "办理您的{title}（<b>{number}</b>）需要补充材料：\n{reason}\n\n"
    "请直接在这里发送照片、文件或文字说明，全部发完后点「补齐了」。"
)
BUTTON_SUPPLIED = "补齐了"
MEMBER_MORE_RECEIVED = (
    "已收到，转给工作人员了（{number}）。还有要补充的请继续发送，全部发完后点「补齐了」。"
)
MEMBER_SUPPLIED = "好的，已通知工作人员继续办理 {number}。如有进展会在这里通知您。"
MEMBER_SUPPLY_FILE_KINDS = "请发送照片或 PDF、JPG、PNG 文件；其他内容可以用文字说明。"
MEMBER_DONE = (
    "您的{title}（<b>{number}</b>）已办结。\n办理结果：{result}\n\n"
    "如有疑问，请联系{department}：\n{contacts}"
)
MEMBER_REJECTED = (
    "很抱歉，您的{title}（<b>{number}</b>）未能通过。\n原因：{reason}\n\n"
    "如有疑问，请联系{department}：\n{contacts}\n情况有变化时，您可以按要求重新申请。"
)
MEMBER_RATE = "请您对 {number} 的办理进行评价："
MEMBER_RATE_THANKS = "感谢您的评价！如愿意，可以直接输入几句意见或建议（可选）。"
BUTTON_NO_COMMENT = "不用了"
MEMBER_COMMENT_THANKS = "已收到您的意见，谢谢！我们会认真改进。"
MEMBER_COMMENT_SKIPPED = "好的，谢谢您！还有问题随时问我。"
MEMBER_ALREADY_RATED = "您已经评价过 {number} 了，谢谢！"
MEMBER_CASE_ENDED = "{number} 已经结束。如有新的问题，请直接提问或发送 /human 转人工。"
MEMBER_CASE_RELAYED = "已转给经办工作人员（{number}）。"
BUTTON_END_TALK = "不是给工作人员的"
MEMBER_TALK_ENDED = "好的，您接下来的消息我会直接回答。请重新发送您的问题。"
MEMBER_TALK_ENDED_WAITING = (
    "好的，您接下来的消息我会直接回答。还要补充材料的话，请“回复”那条补件通知发送，"
    "发完后点「补齐了」。"
)
MEMBER_SUPPLY_NOT_NEEDED = "{number} 目前不需要补充材料，有需要时工作人员会在这里通知您。"
CASE_TITLE_CONSULTATION = "人工咨询"
CASE_TITLE_APPLICATION = "《{title}》"

# ------------------------------------------------------------------ digests
DIGEST_HEAD = "<b>{chat} 每日提醒</b>（{date}）"
DIGEST_OVERDUE = "<b>已超期</b>（{count}）"
DIGEST_DUE_SOON = "<b>一个工作日内到期</b>（{count}）"
DIGEST_UNACCEPTED = "<b>超过 {hours} 个工作小时未受理</b>（{count}）"
DIGEST_HELD = "<b>新案件</b>（{count}，为免刷屏未逐件发卡片，点下方按钮或发送 /case 编号 展开）"
DIGEST_LINE = "• {number} {title} · {status} · {due}"
DIGEST_DUE = "时限 {date}"
DIGEST_MORE = "……另有 {count} 件，发送 /cases 查看。"
DIGEST_NOTHING = "今天没有超期、临期或久未受理的案件。"
HELD_HEAD = "<b>{chat} 新案件汇总</b>：近一小时新到 {count} 件，为免刷屏未逐件发卡片。"

# ------------------------------------------------------------------ the staff roster
ROLE_LABELS = {"handler": "经办人", "lead": "负责人", "admin": "管理员"}
ROSTER_HEAD = "工作人员名单（{count} 人）："
ROSTER_LINE = "{telegram_id}  {name}  {department}  {role}"
ROSTER_EMPTY = (
    "名单是空的。用 union-bot staff add TELEGRAM_ID --name 姓名 --department 部门 --role handler "
    "添加工作人员。"
)
ROSTER_ADDED = "已加入名单：{line}"
ROSTER_UPDATED = "已更新：{line}"
ROSTER_REMOVED = "已移出名单：{line}"
ROSTER_NOT_FOUND = "名单中没有 {telegram_id}。"
ROSTER_BAD_DEPARTMENT = "没有“{department}”这个部门，可选：{known}。"
ROSTER_BAD_ROLE = (
    "没有“{role}”这个角色，可选：handler（经办人）、lead（负责人）、admin（管理员）。"
)
ROSTER_BAD_NAME = "姓名应为 1 至 30 个字。"
ROSTER_LAST_ADMIN = "不能移出最后一位管理员。"
ROSTER_USAGE = (
    "用法：\n/staff 查看名单\n/staff add TELEGRAM_ID 姓名 部门 角色\n/staff remove TELEGRAM_ID\n"
    "部门：组织部、民主管理部、权益保障部、宣传教育部 或 全部；"
    "角色：handler（经办人）、lead（负责人）、admin（管理员）。"
)

# ------------------------------------------------------------------ staff commands
CASES_HEAD = (
    "<b>案件</b>（{filter}）：共 {count} 件，第 {page}/{pages} 页。点一件查看卡片和办理记录。"
)
CASES_NONE = "没有符合条件的案件（{filter}）。"
CASES_FILTER_DEFAULT = "未办结"
CASES_UNKNOWN_WORD = (
    "看不懂“{word}”。可以按状态（已提交、已受理、办理中、待补件、已办结、已驳回、未结、全部）、"
    "部门、类型（咨询、申请或申请名称）、超期、我的 筛选，例如：/cases 待补件 我的"
)
CASES_THOSE = "这些案件"
BUTTON_PREVIOUS_PAGE = "‹ 上一页"
BUTTON_NEXT_PAGE = "下一页 ›"
CASE_USAGE = "用法：/case 编号，例如 /case HD-2026-000123"
CASE_NOT_FOUND = "没有找到 {number}。"
SEARCH_USAGE = "用法：/search 编号、姓名或单位，例如 /search 张三"
SEARCH_HEAD = "“{text}”的搜索结果（{count} 件）："
SEARCH_NONE = "没有找到与“{text}”有关的案件。"
STATS = (
    "<b>统计：{label}</b>（{start} 至 {end}）\n"
    "案件 {total} 件\n"
    "按类型：{by_type}\n"
    "按状态：{by_status}\n"
    "按部门：{by_department}\n"
    "受理用时中位数：{to_accept} 个工作日（{accepted} 件）\n"
    "办结用时中位数：{to_finish} 个工作日（{finished} 件）\n"
    "当前超期未结：{overdue_open} 件；超过时限才办结：{finished_late} 件\n"
    "{satisfaction}"
)
STATS_SATISFACTION = (
    "满意度：{rate}（{rated} 件评价：满意 {satisfied}，基本满意 {fair}，不满意 {unsatisfied}）"
)
STATS_NO_RATINGS = "满意度：暂无评价"
STATS_BAD_PERIOD = "看不懂“{period}”。可以写：本周、本月、上月、今年、30天、2026-11 或 2026。"
STATS_NO_FONT = (
    "未找到中文字体，图表无法正确显示汉字，所以没有绘制。请在服务器上安装 fonts-noto-cjk "
    "或 fonts-wqy-microhei（Debian：apt-get install fonts-wqy-microhei）。"
)
CHART_TITLE = "每周新案件（按部门）：{label}"
CHART_X = "周（起始日）"
CHART_Y = "案件数"
EXPORT_COLUMNS = (
    "编号",
    "类型",
    "事项",
    "部门",
    "状态",
    "会员",
    "经办人",
    "提交时间",
    "受理时间",
    "办理时限",
    "结束时间",
    "超期",
    "评价",
    "评价意见",
)
YES = "是"
NO = "否"
EXPORT_TITLE = "案件导出"
EXPORT_FULL_WORDS = {"全量", "完整", "完整信息", "full"}  # /export 全量: admins only
EXPORT_SENT = "已将 {count} 件案件的导出文件私聊发给您（{masked}）。"
EXPORT_MASKED = "个人信息已脱敏"
EXPORT_FULL = "含完整个人信息，请妥善保管"
EXPORT_CAPTION = "{count} 件案件（{filter}，{masked}），导出于 {when}"
EXPORT_NONE = "没有符合条件的案件可导出（{filter}）。"

# ------------------------------------------------------------------ union-bot doctor
DOCTOR_SETTINGS_OK = "设置齐全。"
DOCTOR_SETTINGS_BAD = "设置有问题：{error}"
DOCTOR_NO_DEPARTMENT_CHAT = "{department}没有单独的工作群，它的案件发到综合工作群。"
DOCTOR_MIGRATION_OK = "数据库结构是最新的（版本 {revision}）。"
DOCTOR_MIGRATION_BEHIND = (
    "数据库结构不是最新的（版本 {revision}，本程序需要 {head}）：请运行 union-bot db upgrade"
    "（启动机器人时也会自动升级）。"
)
DOCTOR_MIGRATION_UNKNOWN = (
    "数据库版本 {revision} 是更新的程序写的，本程序只认到 {head}：请安装与数据库相符的新版 "
    "union-bot，不要用旧版运行。"
)
DOCTOR_DATABASE_EMPTY = (
    "数据库还没有建表：请运行 union-bot db upgrade（启动机器人时也会自动建表）。"
)
DOCTOR_DATABASE_BAD = "数据库打不开（{error}），请检查 UNIONBOT_DATABASE_URL。"
DOCTOR_ROSTER = "工作人员名单：{count} 人，其中管理员 {admins} 人。"
DOCTOR_NOBODY = "{department}还没有工作人员，它的案件没人能办理：union-bot staff add …"
DOCTOR_CALENDAR_OK = "工作日历：已有 {year} 年的节假日和调休安排。"
DOCTOR_CALENDAR_MISSING = (
    "工作日历：还没有 {year} 年的节假日安排，暂按周末计算办理时限；"
    "国务院公布后请升级 chinese-calendar。"
)
DOCTOR_FONT_OK = "中文字体：{font}（统计图表可以正常显示汉字）。"
DOCTOR_OFFLINE = "没有联网检查令牌和工作群（--offline）。"
DOCTOR_TOKEN_OK = "令牌有效：机器人是 @{username}（{name}）。"
DOCTOR_TOKEN_REFUSED = (
    "Bot API 服务器拒绝了 UNIONBOT_TOKEN：请在 @BotFather 用 /token 复制机器人的令牌填入 "
    "UNIONBOT_TOKEN（自建服务器还要检查 UNIONBOT_API_BASE_URL 是否以 /bot 结尾）。"
)
DOCTOR_API_UNREACHABLE = (
    "连不上 Bot API 服务器 {url}（{error}）：请检查网络、代理和防火墙，或 UNIONBOT_API_BASE_URL；"
    "暂时不能联网时用 union-bot doctor --offline。"
)
# A staff chat is named as staff know it, and by the setting that holds its id.
DOCTOR_CHAT_OK = "{chat}（{setting}={chat_id}）：机器人在「{title}」里，身份是{status}。"
DOCTOR_CHAT_NOT_FOUND = (
    "{chat}（{setting}={chat_id}）：Telegram 找不到这个群，机器人没被拉进去过或 ID 写错了："
    "请把机器人加入该群，或改正 {setting}。"
)
DOCTOR_CHAT_REMOVED = (
    "{chat}（{setting}={chat_id}）：机器人已不在这个群里，案件卡片发不进去："
    "请把机器人重新加入该群。"
)
DOCTOR_CHAT_BANNED = (
    "{chat}（{setting}={chat_id}）：机器人被踢出了这个群，案件卡片发不进去："
    "请在群设置里把它移出黑名单，再把机器人加入该群。"
)
DOCTOR_CHAT_MUTED = (
    "{chat}（{setting}={chat_id}）：机器人在这个群里被禁言，案件卡片发不进去："
    "请在群设置里解除对机器人的限制。"
)
DOCTOR_CHAT_RESTRICTED = (
    "{chat}（{setting}={chat_id}）：机器人在这个群里受部分限制，但能发消息；"
    "如无必要，请在群设置里解除限制。"
)
DOCTOR_CHAT_MIGRATED = (
    "{chat}（{setting}={chat_id}）：这个群已升级为超级群，新 ID 是 {new_id}："
    "请把 {setting} 改成 {new_id}。"
)
DOCTOR_CHAT_FAILED = (
    "{chat}（{setting}={chat_id}）：检查失败（{error}）：请确认机器人在该群里，"
    "稍后再运行 union-bot doctor。"
)
DOCTOR_MEMBER_STATUS = {"creator": "群主", "administrator": "管理员", "member": "成员"}
DOCTOR_KEY_OK = "加密密钥：已配置 {count} 个，能读取已保存的数据。"
DOCTOR_KEY_BAD = "加密密钥：{error}"
DOCTOR_SUMMARY_OK = "没有需要处理的问题。"
DOCTOR_SUMMARY_PROBLEMS = "有 {count} 个问题需要处理。"

# ------------------------------------------------------------------ typed words in a form
# What members type for a button they see, besides its label (the label always works too).
# One table for every form: a new form's buttons understand these words without code.
BUTTON_WORDS = {
    BUTTON_CONSENT: (
        "同意",
        "是",
        "是的",
        "对",
        "好的",
        "好",
        "可以",
        "行",
        "嗯",
        "嗯嗯",
        "我同意",
        "同意的",
        "没问题",
        "ok",
    ),
    BUTTON_SENSITIVE_CONSENT: (
        "同意",
        "同意的",
        "是",
        "是的",
        "对",
        "好的",
        "好",
        "可以",
        "行",
        "嗯",
        "嗯嗯",
        "我同意",
        "没问题",
        "ok",
    ),
    BUTTON_NO_CONSENT: ("不同意", "不要", "拒绝", "算了", "不了", "不行"),
    BUTTON_YES: ("是", "是的", "对", "对的", "是啊", "嗯", "嗯嗯", "没错", "有", "要", "需要"),
    BUTTON_NO: ("否", "不是", "不", "不对", "没有", "不用", "不要", "无", "不需要"),
    BUTTON_SUBMIT: (
        "提交",
        "确认",
        "提交吧",
        "确认提交",
        "确定",
        "没问题",
        "对的",
        "好的",
        "可以",
    ),
    BUTTON_EDIT: ("修改", "改一下", "要改", "改", "有错", "不对"),
    BUTTON_DISCARD: ("放弃", "不申请了", "不办了", "不填了"),
    # One label, 完成, ends an upload and a multiple choice alike.
    BUTTON_DONE_UPLOADING: (
        "完成",
        "完成了",
        "好了",
        "传完了",
        "发完了",
        "上传完成",
        "没有了",
        "完了",
        "选好了",
        "就这些",
    ),
    BUTTON_SKIP: ("跳过", "没有", "无", "不填", "略过", "不用填"),
    BUTTON_KEEP: ("保持不变", "不变", "不用改", "不改", "一样"),
    BUTTON_CONTINUE: ("继续", "继续填写", "接着填", "继续吧", "接着"),
    BUTTON_PREVIOUS: ("上一项", "上一步", "返回", "返回上一项", "返回上一步", "后退"),
    BUTTON_BACK_TO_SUMMARY: ("返回核对", "回到核对"),
    BUTTON_PROFILE_SAVE: ("记住", "好的", "可以", "要", "保存"),
    BUTTON_PROFILE_NO: ("不用", "不要", "不用了", "不保存", "算了"),
}
# Words that, with a field's name, ask to change that field at the summary: 不对 我要改电话.
CHANGE_WORDS = ("改", "不对", "错", "更正", "更改", "修改")
# What members call a field, by its type, besides its label.
FIELD_WORDS = {
    "phone": ("电话", "手机", "号码", "手机号"),
    "id_number": ("身份证", "证件号"),
    "name": ("名字", "姓名"),
    "uscc": ("信用代码", "代码"),
    "date": ("日期", "时间"),
}
# 转人工 typed in a form: offered, never taken as an answer.
HUMAN_WORDS = ("转人工", "人工", "人工客服", "人工服务", "找人工", "客服", "真人", "找工作人员")
FORM_PRESS_A_BUTTON = "请点下方的按钮{labels}，也可以直接回复“{word}”。"
FORM_HANDOFF_OFFER = (
    "需要工作人员帮您吗？您的《{title}》会保存下来，咨询结束后点「继续填写」就能接着填。"
)
FORM_ANSWER_OR_QUESTION = "“{text}”是您的{label}，还是想问问题？"
BUTTON_IS_ANSWER = "是我的{label}"
BUTTON_IS_QUESTION = "我想问问题"
FORM_REPEATED = "您又发送了一遍“{text}”。这也是您的{label}吗？"
BUTTON_NOT_ANSWER = "不是，我重新填"
FORM_SENT_EARLIER = "您有几条消息是在这个问题发出之前发送的，没有作为回答。"

FORM_STILL_FILLING = "——\n您的《{title}》还在填写中："
FORM_QUESTION_UNSURE = (
    "这个问题我一时答不准。您可以填完后再问我，或发送 /human 转人工，工作人员会为您解答。"
)
BUTTON_RESUME_FORM = "继续填写《{title}》"
FORM_TOO_LONG = (
    "{label}最多{limit}个字，您写了{length}个字。可以只保留前{limit}个字，或者精简后重新输入。"
)
BUTTON_KEEP_FIRST = "保留前{limit}个字"
BUTTON_RETYPE = "重新输入"

# ------------------------------------------------------------------ curated answers
MATERIALS_ONLINE = "<i>在线申请《{title}》需要：</i>"
MATERIALS_FILL = "• 填写：{fields}"
MATERIALS_UPLOAD = "• 上传：{files}"
MATERIAL_OPTIONAL = "选填"
MATERIAL_COUNT_RANGE = "{low}至{high}个"
MATERIAL_COUNT_MAX = "{high}个以内"
MATERIAL_IF = "视情况"
ELIGIBILITY_LINE = "办理条件：{rule}"
NO_ELIGIBILITY_RULE = "申请表没有另外的资格条件，能否办理以审核为准。"
EVIDENCE_HEADING = "<b>建议先保存好这些证据：</b>"
UNION_HELPS = (
    "工会也能帮您：区总工会{department}（电话 {phone}）可以为您提供咨询、帮您理清情况；"
    "点「转人工」，工作人员会在这里回复您。"
)
ANSWER_SOURCE = "<i>依据：{source}</i>"
BUTTON_ABOUT = "了解：{title}"
BUTTON_MYCASES_NOW = "查看我的申请"

# ------------------------------------------------------------------ the member's rights
MYDATA_HEAD = (
    "<b>我们保存的您的个人信息</b>\n"
    "首次使用：{first_seen}\n"
    "保存的资料（/profile）：{profile}\n"
    "未提交的申请：{drafts} 份\n"
    "申请和咨询：{cases}\n\n"
    "完整内容（包括填写的每一项、发送的消息和您的同意记录）见下面的文件，只发给您本人。"
    "如需删除，请发送 /deleteme。"
)
MYDATA_NONE = "无"
MYDATA_FROM_MEMBER = "您"  # who wrote a message, in the /mydata file
MYDATA_FROM_STAFF = "工作人员"
MYDATA_FILE = "我的个人信息-{date}.json"
MYDATA_CAPTION = "您在河东区总工会服务助手中的全部个人信息（JSON 格式）。"
DELETEME_CONFIRM = (
    "<b>删除我的个人信息</b>\n"
    "确认后将删除：您保存的资料、未提交的申请和上传的文件、咨询记录中的内容，并撤回您的各项同意。\n"
    "已提交的申请是工会办理业务的记录，需要按规定保存{period}：这些申请会保留，"
    "但其中的姓名、证件号码、电话、情况说明和材料都会删除。\n"
    "删除后无法恢复。确定要删除吗？"
)
BUTTON_DELETEME_YES = "确认删除"
BUTTON_DELETEME_NO = "取消"
DELETEME_CANCELLED = "好的，没有删除任何信息。"
DELETEME_DONE = "您的个人信息已删除，各项同意已撤回。"
DELETEME_KEPT = (
    "以下申请是工会办理业务的记录，按规定匿名保存{period}，到期删除："
    "{numbers}。其中已不含您的姓名、证件号码、电话、情况说明和材料。"
)
# What an erased member's cases show instead of their words and name.
ERASED_TEXT = "（应会员要求已删除）"
ERASED_MEMBER = "（会员已删除个人信息）"
MYDATA_CASE = "{number}（{status}）"
MYDATA_PROFILE_ITEM = "{label}：{value}"
DELETEME_STAFF = (
    "{number}：会员已申请删除个人信息。本案的姓名、证件号码、电话、情况说明和材料已删除，"
    "记录匿名保留。"
)

# ------------------------------------------------------------------ retention (bot.retention)
# A period in words: 3年, 90天, 12小时.
PERIOD_YEARS = "{n}年"
PERIOD_DAYS = "{n}天"
PERIOD_HOURS = "{n}小时"
DRAFT_REMINDED = "，到期前{before}提醒您"
# The retention line of every form's privacy notice, from the settings; a form may add its own.
FORM_RETENTION = (
    "办结后保存{case}，到期删除；{case}没有任何办理记录的申请将关闭并删除；"
    "未提交的草稿在最后一次填写{draft}后删除。"
)
PRIVACY = (
    "<b>个人信息保护说明</b>\n"
    "我们保存什么、保存多久：\n"
    "• 您的提问：用于答复您；最近一条提问保留{question}，转人工时带给工作人员；"
    "没能解答的问题去掉其中的号码后保存{miss}，用于改进服务。\n"
    "• 在线申请：按申请页面的告知收集，只有负责的部门能看到；办结后保存{case}，到期删除。"
    "{case}没有任何办理记录的申请将关闭并删除，部门会提前{warn}收到提醒。\n"
    "• 未提交的草稿：最后一次填写{draft}后删除{remind}。\n"
    "• 人工咨询：转给相关部门答复，结束后与申请一样保存{case}。\n"
    "• 上传的材料：加密保存，随申请内容一起删除。\n"
    "• 您的使用记录：没有申请、草稿和保存资料的，{member}未使用后删除。\n"
    "您的权利：/mydata 查看我们保存的您的全部信息；/deleteme 删除；"
    "/withdraw 撤回对健康等敏感个人信息的单独同意；/profile 查看或删除保存的资料。"
)
STAFF_EXPIRY_WARNING = (
    "⏳ <b>{number}</b>（{status}）已{idle}没有任何办理记录，将于 {date} 按保存期限"
    "过期关闭并删除内容。如仍在办理，请在卡片上操作或点「备注」记录进展。"
)
STAFF_EXPIRED = "<b>{number}</b> 已{idle}没有任何办理记录，已按保存期限过期关闭，内容已删除。"
MEMBER_EXPIRED = (
    "您的{kind} <b>{number}</b> 已{idle}没有进展，已按保存期限关闭，其中的个人信息已删除。"
    "如仍需办理，请发送 /apply 重新申请，或发送 /human 联系工作人员。"
)

# ------------------------------------------------------------------ withdrawing a consent
WITHDRAW_NONE = "您目前没有提供过需要单独同意的敏感个人信息（如健康情况），无需撤回。"
WITHDRAW_LIST = (
    "<b>撤回敏感个人信息同意</b>\n"
    "以下申请中有您单独同意提供的敏感个人信息（如患病、残疾等健康情况）。"
    "撤回后，这些信息和相关材料会被删除，经办人员会收到通知。\n"
    "请选择要撤回的申请："
)
BUTTON_WITHDRAW_CASE = "{title} {number}"
BUTTON_WITHDRAW_DRAFT = "{title}（未提交）"
WITHDRAW_CONFIRM = (
    "确定撤回「{item}」中的敏感个人信息同意吗？\n"
    "撤回后，其中的健康等情况说明和相关材料将被删除，无法恢复；"
    "审核如还需要相关情况，工作人员会在这里与您联系。"
)
BUTTON_WITHDRAW_YES = "确认撤回"
BUTTON_WITHDRAW_NO = "取消"
WITHDRAW_CANCELLED = "好的，没有撤回。"
WITHDRAW_NOTHING = "这份申请中已经没有需要撤回的敏感个人信息。"
WITHDRAWN_CASE = (
    "已撤回您对《{title}》（<b>{number}</b>）中敏感个人信息的同意，{fields}已删除，"
    "经办人员已收到通知。审核如还需要相关情况，工作人员会在这里与您联系。"
)
WITHDRAWN_DRAFT = (
    "已撤回您对《{title}》草稿中敏感个人信息的同意，{fields}已删除。"
    "继续填写时会再次征求您的同意；不同意将无法提交这份申请。"
)
BUTTON_CONTINUE_APPLY = "继续填写"
WITHDRAW_STAFF = (
    "<b>{number}</b>：会员已撤回对敏感个人信息的单独同意，本案的{fields}已删除。"
    "如审核还需要相关情况，请回复本卡片与会员沟通。"
)
