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
    "• /human 转人工，由工作人员为您解答\n"
    "• /help 查看使用说明\n\n"
    "隐私提示：您的提问仅用于答复和改进服务，转人工时会转给相关部门工作人员，不会用于其他用途。"
)
HELP = (
    "使用说明：\n"
    "1. 直接输入您的问题，如“建会需要哪些材料”“民主管理部电话是多少”。\n"
    "2. /menu 浏览全部服务事项，查看流程、材料、依据和联系方式。\n"
    "3. /human 转人工：工作人员会在工作时间内回复您，回复会由我转给您。\n"
    "4. /cancel 结束当前的人工咨询。"
)
COMMANDS = {
    "start": "开始使用",
    "menu": "浏览服务事项",
    "human": "转人工咨询",
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
}

DUTY_HEADING = "<b>{name}</b>"
DEPARTMENT_LINE = "负责部门：{department}"
BOUNDARY_LINE = "职责边界：{boundary}"
PROCESS_HEADING = "<b>办理流程</b>"
MATERIALS_HEADING = "<b>所需材料</b>"
BASIS_HEADING = "<b>法定依据</b>"
CONTACT_HEADING = "<b>联系与监督</b>"
NOT_IN_CATALOGUE = "职责清单中暂未列明{what}，如需了解请点「转人工」咨询工作人员。"
PHONE_LINE = "电话：{phone}"
EMAIL_LINE = "邮箱：{email}"
ADDRESS_LINE = "地址：{address}"
DEPARTMENT_ANSWER = "<b>{department}</b>负责以下事项："
MORE_ABOUT = "您还可以了解："

MEDIA_NOT_UNDERSTOOD = "目前我只能读懂文字消息。请用文字描述您的问题，或点「转人工」联系工作人员。"
TOO_LONG_NOTE = "（您的消息较长，我按前面的内容为您解答。）"
GROUP_ONLY_PRIVATE = "为保护您的隐私，请私聊我咨询：@{bot_username}"
BUTTON_EXPIRED = "这个按钮已过期，请重新提问或发送 /menu。"
ERROR = "抱歉，系统出了点问题，请稍后再试。您也可以发送 /human 联系工作人员。"

HANDOFF_ASK = "请用一两句话描述您要咨询的问题，我会转给工作人员。"
HANDOFF_DONE = (
    "已为您转接人工（咨询编号 <b>{number}</b>），相关部门工作人员会在工作时间内回复您。\n"
    "在此期间，您发来的消息都会转给工作人员；不需要时请点「结束人工咨询」或发送 /cancel。"
)
HANDOFF_RELAYED = "已转给工作人员（{number}）。"
HANDOFF_ENDED = "人工咨询 {number} 已结束。还有问题随时问我。"
HANDOFF_NONE_OPEN = "您当前没有进行中的人工咨询。"
HANDOFF_CLOSED_BY_STAFF = "工作人员已结束人工咨询 {number}。感谢您的咨询，还有问题随时问我。"
STAFF_REPLY = "<b>{union}工作人员回复</b>（{number}）：\n{text}"
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
STAFF_CASE_CLOSED = "{number} 已结束，回复不会再转给会员。"
STAFF_REPLY_UNKNOWN = "这条消息不对应任何咨询，回复未转出。请回复咨询卡片或会员追加的消息。"
STAFF_MEMBER_BLOCKED = "会员已停用机器人，{number} 的回复无法送达。"
ADMIN_ERROR = "union-bot 出错：{error}（update {update_id}）"
TRUNCATED = "……（全文 {length} 字，已存入咨询记录）"
