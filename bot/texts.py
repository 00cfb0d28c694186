"""Every sentence a person sees, in one place: Vietnamese first, in the Union's own words.

Handlers and the CLI never spell out user-visible text; they call into this catalog.
Keep messages short: members read them on cheap phones over slow networks.
"""

from __future__ import annotations

from typing import Any

from storage.validation import AgePolicy, Org

# --- names of things -------------------------------------------------------------------------

ORG_NAME = {Org.DOAN: "Đoàn TNCS Hồ Chí Minh", Org.HOI: "Hội LHTN Việt Nam"}
ORG_SHORT = {Org.DOAN: "Đoàn", Org.HOI: "Hội"}
MEMBERSHIP = {Org.DOAN: "Đoàn viên", Org.HOI: "Hội viên"}
STATUS = {
    "introduced": "chờ xét",
    "admitted": "đã kết nạp",
    "declined": "không kết nạp",
    "withdrawn": "đã rút",
}

# --- commands: menu descriptions and /help lines (which command is whose: handlers/commands.py)

MENU_WORDS = {
    "start": "Bắt đầu, ghi danh vào chi đoàn, chi hội",
    "gioithieu": "Ghi tên thanh niên đồng chí giới thiệu",
    "cuatoi": "Xem kết quả 1+1 của tôi",
    "help": "Hướng dẫn sử dụng",
    "huy": "Hủy việc đang làm dở",
    "xoadulieu": "Xóa dữ liệu của tôi",
    "duyet": "Xét kết nạp thanh niên được giới thiệu",
    "daduyet": "Giới thiệu đã quyết định (tìm số để mở lại)",
    "donvi": "Tình hình 1+1 của đơn vị",
    "stats": "Thống kê, biểu đồ theo kỳ",
    "xuat": "Báo cáo Excel để kiểm tra",
    "chitieu": "Đặt chỉ tiêu năm",
    "moi": "Đường dẫn, mã mời đoàn viên, hội viên",
    "nhacnho": "Nhắc đoàn viên, hội viên chưa đạt 1+1",
    "lichnhac": "Lịch nhắc việc",
    "bonhiem": "Bổ nhiệm, gỡ bí thư, chi hội trưởng",
    "moiban": "Mời bạn trẻ tự đăng ký",
    "vinhdanh": "Vinh danh đoàn viên, hội viên, đơn vị tiêu biểu",
}
HELP_LINES = {
    "start": "/start – ghi danh vào chi đoàn, chi hội",
    "gioithieu": "/gioithieu – ghi tên thanh niên đồng chí giới thiệu",
    "cuatoi": "/cuatoi – xem kết quả 1+1 của tôi",
    "huy": "/huy – hủy việc đang làm dở",
    "xoadulieu": "/xoadulieu – xóa mọi dữ liệu của tôi",
    "duyet": "/duyet [đơn vị] – xét kết nạp các thanh niên được giới thiệu",
    "daduyet": "/daduyet [đơn vị] – các giới thiệu đã quyết định, mới nhất trước",
    "donvi": "/donvi – tình hình 1+1 của đơn vị",
    "chitieu": "/chitieu – đặt chỉ tiêu năm",
    "moi": "/moi – đường dẫn, mã mời đoàn viên, hội viên (/moi moi: đổi đường dẫn)",
    "molai": "/molai <số> – mở lại một giới thiệu đã quyết định",
    "nhacnho": "/nhacnho – nhắc ngay đoàn viên, hội viên chưa đạt 1+1",
    "lichnhac": "/lichnhac – lịch nhắc việc",
    "stats": "/stats [kỳ] [đơn vị] – thống kê, biểu đồ (kỳ: 2026, 2026-H1, 2026-Q3)",
    "xuat": "/xuat [kỳ] [đơn vị] – báo cáo Excel để kiểm tra",
    "bonhiem": "/bonhiem – bổ nhiệm, gỡ bí thư, chi hội trưởng; tạo đường dẫn quản trị",
    "moiban": "/moiban – lời mời riêng để bạn trẻ tự đăng ký (/moiban moi: đổi lời mời)",
    "vinhdanh": "/vinhdanh [kỳ] – những đồng chí giới thiệu được nhiều thanh niên nhất",
}
HELP_INTRO = (
    'Phong trào "1+1": mỗi đoàn viên, hội viên giới thiệu ít nhất một thanh niên '
    "được kết nạp vào Đoàn hoặc Hội trong năm."
)
HELP_SECTION = {"leader": "Bí thư, chi hội trưởng:", "admin": "Quản trị:"}


def help_text(sections: list[tuple[str, list[str]]]) -> str:
    """/help: the intro, then each section's lines (members' first, untitled)."""
    parts = [HELP_INTRO]
    for section, lines in sections:
        title = HELP_SECTION.get(section)
        parts.append("\n".join([title, *lines] if title else lines))
    return "\n\n".join(parts)


# --- buttons ---------------------------------------------------------------------------------

BTN_BACK = "⬅️ Quay lại"
BTN_PREV = "◀️ Trước"
BTN_NEXT = "Sau ▶️"
BTN_SKIP = "Bỏ qua"
BTN_SHARE_PHONE = "📱 Gửi số điện thoại"
BTN_CONFIRM = "✅ Xác nhận"
BTN_CANCEL = "✖️ Hủy"
BTN_GUARDIAN_YES = "Đã đồng ý"
BTN_GUARDIAN_NO = "Chưa"
BTN_ORG = {Org.DOAN: "Vào Đoàn", Org.HOI: "Vào Hội"}
BTN_MEMBERSHIP = MEMBERSHIP

# --- general ---------------------------------------------------------------------------------

CANCEL_HINT = "(/huy để hủy)"
MENU = (
    "/gioithieu – ghi tên thanh niên đồng chí giới thiệu\n"
    "/cuatoi – xem những người đã giới thiệu và kết quả 1+1\n"
    "/help – hướng dẫn"
)
UNKNOWN = "Tôi chưa hiểu ý đồng chí. Gõ /help để xem các lệnh."
UNKNOWN_IN_CONVERSATION = "Tôi chưa hiểu. Đồng chí trả lời câu hỏi trên, hoặc gõ /huy để hủy."
IN_PROGRESS = "Đồng chí đang làm dở một việc. Trả lời câu hỏi dưới đây, hoặc gõ /huy để hủy."
USE_BUTTONS = "Đồng chí chọn bằng các nút bên dưới nhé."
USE_NUMBERS = "Đồng chí trả lời bằng một số trong danh sách trên nhé."
NUMBER_HINT = "(Trả lời bằng số thứ tự)"
FILE_NEEDS_SERVER = (
    "Kênh này không gửi được tệp. Đồng chí nhận tệp trên Telegram, "
    "hoặc nhờ quản trị chạy lệnh: motcongmot export."
)


def file_too_big(megabytes: int) -> str:
    return (
        f"Báo cáo nặng {megabytes} MB, quá cỡ gửi qua tin nhắn. Đồng chí chọn đơn vị nhỏ hơn, "
        "hoặc nhờ quản trị chạy lệnh: motcongmot export."
    )


def file_link(caption: str, url: str) -> str:
    return f"{caption}\nTải về (trong 30 phút): {url}"


# --- vinh danh (/vinhdanh) ------------------------------------------------------------------


def honour_member(rank: int, name: str, unit_name: str, admitted: int) -> str:
    return f"{rank}. {name} ({unit_name}): {admitted} thanh niên được kết nạp"


def honour_unit(rank: int, name: str, admitted: int, target: int, expected: float) -> str:
    share = f"{percent(admitted, target)}; mốc {round(expected * 100)}%"
    return f"{rank}. {name}: {admitted}/{target} ({share})"


def honours(unit_name: str, period: str, people: list[str], ahead: list[str]) -> str:
    parts = [f"🏅 Vinh danh phong trào 1+1 – {unit_name}, {period}"]
    parts.append("Đoàn viên, hội viên giới thiệu được kết nạp nhiều nhất:")
    parts += people or ["Chưa có ai trong kỳ này."]
    if ahead:
        parts += ["", "Đơn vị vượt mốc nhiều nhất:", *ahead]
    return "\n".join(parts)


def group_pointer(link: str) -> str:
    return f"Đồng chí nhắn riêng cho bot để dùng phong trào 1+1 nhé: {link}"


TOO_MANY_TRIES = "Đồng chí thử nhiều lần quá. Xin chờ một phút rồi thử lại."
HEAVY_STARTED = "⏳ Đang lập, xong sẽ gửi ngay; đồng chí vẫn dùng bot bình thường."
HEAVY_INTERRUPTED = "Bot vừa khởi động lại nên báo cáo chưa lập xong. Đồng chí gửi lại lệnh nhé."
HEAVY_ALREADY = "Báo cáo của đồng chí đang được lập, xin chờ chút nhé."


def heavy_progress(percent_done: int) -> str:
    return f"⏳ Đang lập… {percent_done}%"


ONLY_TEXT = "Tôi chỉ đọc được tin nhắn chữ. Đồng chí gõ «menu» để xem các việc có thể làm."
NEWCOMER_MENU = (
    'Phong trào "1+1": mỗi đoàn viên, hội viên giới thiệu ít nhất một thanh niên '
    "vào Đoàn hoặc Hội trong năm.\n"
    "Để tham gia: nhắn «start» kèm mã mời của chi đoàn, chi hội (ví dụ: start ABCD-EFGH), "
    "hoặc chọn:"
)
MEMBER_MENU = "Đồng chí muốn làm gì? Trả lời bằng số:"
CODE_UNKNOWN = "Mã này không đúng hoặc đã hết hiệu lực. Đồng chí kiểm tra lại, hoặc chọn đơn vị."
ASK_MEMBER_PHONE_TYPED = (
    "Đồng chí có muốn để lại số điện thoại để đơn vị liên hệ? Gõ số điện thoại, hoặc chọn:"
)
STALE_BUTTON = "Nút này đã cũ, không còn dùng được."
CANCELLED = "Đã hủy, không có gì được lưu."
NOTHING_TO_CANCEL = "Không có việc gì đang làm dở."
NOT_REGISTERED = "Đồng chí chưa ghi danh. Gõ /start để chọn chi đoàn, chi hội trước nhé."
ERROR = "Xin lỗi, có lỗi xảy ra. Đồng chí thử lại sau ít phút."


def ask(question: str) -> str:
    """Every question shows its way out."""
    return f"{question}\n{CANCEL_HINT}"


# --- registration (/start) -------------------------------------------------------------------

WELCOME = (
    'Chào đồng chí! Đây là trợ lý phong trào "1+1" của Đoàn TNCS Hồ Chí Minh và Hội LHTN Việt Nam.'
)
CHOOSE_ROOT = "Đồng chí sinh hoạt ở đơn vị nào? Chọn dần từ trên xuống:"
SEARCH_HINT = "Cũng có thể gõ vài chữ trong tên chi đoàn, chi hội để tìm, hoặc mã mời."
SEARCH_NONE = "Không tìm thấy đơn vị nào có tên như vậy. Thử gõ khác, hoặc chọn bằng nút."
SEARCH_RESULTS = "Các đơn vị tìm thấy:"
NO_UNITS = "Hệ thống chưa có danh sách đơn vị. Đồng chí vui lòng báo cán bộ quản trị."
INVITE_INVALID = (
    "Đường dẫn mời này không còn hiệu lực. "
    "Đồng chí xin bí thư chi đoàn (chi hội trưởng) đường dẫn mới, "
    "hoặc tự chọn đơn vị."
)
ASK_MEMBER_NAME = "Họ và tên đầy đủ của đồng chí (có dấu)? Ví dụ: Nguyễn Thị Minh Anh."
ASK_MEMBERSHIP = "Đồng chí là đoàn viên hay hội viên?"
ASK_MEMBER_PHONE = (
    "Đồng chí có muốn để lại số điện thoại để đơn vị liên hệ? "
    f"Bấm «{BTN_SHARE_PHONE}» hoặc «{BTN_SKIP}»."
)
CONTACT_NOT_OWN = f"Xin gửi số của chính đồng chí bằng nút «{BTN_SHARE_PHONE}»."
CHOOSE_OWN_UNIT = "Đồng chí chọn đơn vị mình sinh hoạt để ghi danh."
ALREADY_REGISTERED_ELSEWHERE = "Đồng chí đã ghi danh rồi, không cần ghi lại."


def choose_in(unit_name: str) -> str:
    return f"Đơn vị trực thuộc {unit_name}:"


def invited_to(unit_name: str) -> str:
    return f"Đồng chí được mời vào: {unit_name}."


def registered(name: str, unit_name: str) -> str:
    return f"Đã ghi danh đồng chí {name} vào {unit_name}. ✅\n\n{MENU}"


def greeting(name: str, unit_name: str) -> str:
    return f"Chào đồng chí {name} ({unit_name})!\n\n{MENU}"


# --- referral (/gioithieu) -------------------------------------------------------------------

ASK_YOUTH_NAME = "Họ và tên đầy đủ của thanh niên đồng chí giới thiệu (có dấu)?"
ASK_BIRTH = (
    "Ngày sinh của thanh niên? Gõ ngày/tháng/năm, ví dụ 05/03/2008, hoặc chỉ năm sinh: 2008."
)
ASK_YOUTH_PHONE = f"Số điện thoại của thanh niên? Gõ số, hoặc bấm «{BTN_SKIP}» nếu không có."
ASK_ORG = "Thanh niên sẽ vào tổ chức nào?"
ASK_GUARDIAN = (
    "Thanh niên này có thể chưa đủ 16 tuổi. Theo luật bảo vệ dữ liệu cá nhân, cần cha mẹ hoặc "
    "người giám hộ đồng ý cho ghi thông tin. Đã có sự đồng ý chưa?"
)
GUARDIAN_MISSING = (
    "Chưa ghi thông tin khi chưa có sự đồng ý của cha mẹ hoặc người giám hộ. "
    "Khi có, đồng chí gõ /gioithieu để ghi lại."
)
DUPLICATE = (
    "Thanh niên này đã được giới thiệu trước đó nên không ghi thêm. "
    "Nếu có nhầm lẫn, đồng chí báo bí thư chi đoàn hoặc chi hội trưởng."
)
CONFIRM_QUESTION = "Đồng chí kiểm tra lại và xác nhận:"
NO_PHONE = "không có"


def referral_summary(
    name: str, birth: str, age: str, phone: str | None, org: Org, guardian: bool
) -> str:
    lines = [
        CONFIRM_QUESTION,
        f"• Họ tên: {name}",
        f"• Ngày sinh: {birth} ({age})",
        f"• Điện thoại: {phone or NO_PHONE}",
        f"• Vào: {ORG_NAME[org]}",
    ]
    if guardian:
        lines.append("• Cha mẹ/người giám hộ đã đồng ý")
    return "\n".join(lines)


def age_text(youngest: int, oldest: int) -> str:
    return f"{youngest} tuổi" if youngest == oldest else f"{youngest}–{oldest} tuổi"


def one_plus_one(year: int, admitted: int) -> str:
    if admitted:
        return f"1+1 năm {year}: đồng chí đã đạt ✅ ({admitted} người được kết nạp)."
    return f"1+1 năm {year}: chưa đạt – cần ít nhất 1 người được kết nạp."


def referral_saved(number: int, name: str, year: int, admitted: int) -> str:
    return (
        f"Đã ghi nhận giới thiệu số {number}: {name}. Chờ xét kết nạp.\n"
        f"{one_plus_one(year, admitted)}"
    )


def mine(year: int, lines: list[str], admitted: int, pending: int, hidden: int) -> str:
    if not lines:
        return (
            f"Năm {year} đồng chí chưa giới thiệu ai.\n{one_plus_one(year, admitted)}\n"
            "Gõ /gioithieu để ghi tên thanh niên đồng chí giới thiệu."
        )
    more = [f"… và {hidden} người nữa."] if hidden else []
    head = f"Năm {year}: {len(lines) + hidden} người, {admitted} đã kết nạp, {pending} chờ xét."
    return "\n".join([head, *lines, *more, one_plus_one(year, admitted)])


def mine_line(number: int, name: str, birth: str, org: Org, status: str) -> str:
    return f"• Số {number}: {name} ({birth}) – {ORG_SHORT[org]} – {STATUS[status]}"


# --- validation messages, by the codes that storage/validation.py raises ---------------------

INVALID = {
    "name_too_short": "Họ tên quá ngắn. Xin gõ đầy đủ họ và tên.",
    "name_too_long": "Họ tên dài quá 80 ký tự. Xin gõ lại.",
    "name_invalid": "Họ tên chỉ gồm chữ cái tiếng Việt và dấu cách, không có số hay ký hiệu.",
    "phone_invalid": "Số điện thoại chưa đúng. Số di động có 10 chữ số, ví dụ 0912 345 678.",
    "phone_not_vietnamese": "Chỉ nhận số di động Việt Nam (bắt đầu bằng 0 hoặc +84).",
    "birth_format": "Chưa đúng dạng. Gõ ngày/tháng/năm, ví dụ 05/03/2008, hoặc năm sinh: 2008.",
    "birth_invalid": "Ngày sinh này không có thật. Xin kiểm tra lại.",
    "birth_in_future": "Ngày sinh không thể ở tương lai.",
}


def invalid(code: str) -> str:
    return INVALID.get(code, "Thông tin chưa đúng. Xin gõ lại.")


def _range(ages: AgePolicy, org: Org) -> str:
    r = ages.ranges[org]
    return f"{ORG_SHORT[org]} {r.low}–{r.high} tuổi"


def age_outside_all(age: str, ages: AgePolicy) -> str:
    ranges = ", ".join(_range(ages, org) for org in Org)
    return f"Thanh niên này {age}, ngoài độ tuổi kết nạp ({ranges}). Xin kiểm tra lại ngày sinh."


def age_outside_org(age: str, org: Org, ages: AgePolicy) -> str:
    r = ages.ranges[org]
    return (
        f"Thanh niên này {age}; {ORG_NAME[org]} kết nạp thanh niên từ {r.low} đến {r.high} tuổi. "
        "Chọn tổ chức khác."
    )


# --- operator messages (CLI, configuration) --------------------------------------------------

_CONFIG_FIELDS = {
    "telegram_bot_token": "TELEGRAM_BOT_TOKEN",
    "telegram_api_base_url": "TELEGRAM_API_BASE_URL",
    "telegram_file_base_url": "TELEGRAM_FILE_BASE_URL",
    "database_path": "DATABASE_PATH",
    "timezone": "TIMEZONE",
    "admin_ids": "ADMIN_IDS",
    "link_secret": "LINK_SECRET",
    "reminders_file": "REMINDERS_FILE",
    "log_level": "LOG_LEVEL",
    "log_format": "LOG_FORMAT",
    "zalo_bot_token": "ZALO_BOT_TOKEN",
    "zalo_api_base_url": "ZALO_API_BASE_URL",
    "zalo_mode": "ZALO_MODE",
    "zalo_webhook_secret": "ZALO_WEBHOOK_SECRET",
    "webhook_listen": "WEBHOOK_LISTEN",
    "public_base_url": "PUBLIC_BASE_URL",
    "telegram_mode": "TELEGRAM_MODE",
    "telegram_webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
    "backup_dir": "BACKUP_DIR",
    "backup_keep": "BACKUP_KEEP",
    "backup_hour": "BACKUP_HOUR",
}
# Problems of the whole configuration rather than one variable: what to name.
_CONFIG_WHOLE = {
    "age_range_order": "AGE_MIN/AGE_MAX",
    "no_channel": "TELEGRAM_BOT_TOKEN hoặc ZALO_BOT_TOKEN",
    "zalo_webhook_needs_secret": "ZALO_WEBHOOK_SECRET",
    "telegram_webhook_needs_secret": "TELEGRAM_WEBHOOK_SECRET",
    "webhook_needs_server": "PUBLIC_BASE_URL và WEBHOOK_LISTEN",
}
_CONFIG_PROBLEMS = {
    "missing": "chưa đặt (đặt biến môi trường hoặc ghi vào tệp .env)",
    "token_shape": "không đúng dạng mã bot của BotFather (số:chuỗi ký tự)",
    "url_shape": "phải là địa chỉ http:// hoặc https://",
    "timezone_unknown": "múi giờ không có, ví dụ đúng: Asia/Ho_Chi_Minh",
    "admin_ids_shape": (
        "phải là các số định danh Telegram hoặc zalo:<mã Zalo>, cách nhau bởi dấu phẩy"
    ),
    "zalo_token_shape": "không đúng dạng mã bot Zalo (số:chuỗi ký tự)",
    "webhook_secret_shape": "phải dài từ 8 đến 256 ký tự",
    "listen_shape": "phải có dạng máy:cổng, ví dụ 0.0.0.0:8080",
    "no_channel": "chưa đặt (cần ít nhất một kênh: Telegram hoặc Zalo)",
    "zalo_webhook_needs_secret": "chưa đặt (bắt buộc khi ZALO_MODE=webhook)",
    "telegram_webhook_needs_secret": "chưa đặt (bắt buộc khi TELEGRAM_MODE=webhook)",
    "telegram_secret_shape": "8–256 ký tự, chỉ gồm chữ không dấu, số, _ và -",
    "webhook_needs_server": "chưa đặt (bắt buộc khi dùng webhook)",
    "log_level_unknown": "chỉ nhận DEBUG, INFO, WARNING hoặc ERROR",
    "age_range_order": "tuổi tối thiểu lớn hơn tuổi tối đa",
    "reminders_file_invalid": "không đọc được tệp lịch nhắc (TOML) hoặc có mục sai",
}


def config_problem(error: dict[str, Any]) -> str:
    """One line per problem; never echoes the value (it may be the bot token)."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    message = str(error.get("msg", ""))
    code = error["type"] if error["type"] == "missing" else message.removeprefix("Value error, ")
    name = _CONFIG_FIELDS.get(field, field.upper() or _CONFIG_WHOLE.get(code, "?"))
    problem = _CONFIG_PROBLEMS.get(code)
    if problem is None:
        problem = "giá trị không hợp lệ" if field else _CONFIG_PROBLEMS.get(code, code)
    return f"Cấu hình sai: {name}: {problem}."


_CSV_PROBLEMS = {
    "csv_header": "dòng tiêu đề phải là: code,name,parent_code,org (thêm ,members nếu có)",
    "csv_columns": "số cột phải đúng như dòng tiêu đề: code,name,parent_code,org[,members]",
    "csv_members": "cột members là số đoàn viên, hội viên của đơn vị (số nguyên), hoặc để trống",
    "csv_code": "mã đơn vị chỉ gồm chữ không dấu, số, _ . - (tối đa 40 ký tự)",
    "csv_duplicate": "mã đơn vị bị lặp",
    "csv_name": "thiếu tên đơn vị hoặc tên dài quá 150 ký tự",
    "csv_org": "cột org phải là doan hoặc hoi",
    "csv_parent": "không có đơn vị cha với mã này",
    "csv_cycle": "đơn vị cha tạo thành vòng lặp",
    "csv_encoding": "tệp không phải UTF-8",
}


def csv_problem(path: str, line: int, code: str, detail: str) -> str:
    shown = f" ({detail})" if detail else ""
    return f"{path}, dòng {line}: {_CSV_PROBLEMS.get(code, code)}{shown}. Không nạp gì từ tệp này."


def units_imported(count: int, created: int, updated: int) -> str:
    return f"Đã nạp {count} đơn vị: {created} mới, {updated} thay đổi."


def file_missing(path: str) -> str:
    return f"Không mở được tệp {path}."


def unit_missing(code: str) -> str:
    return f"Không có đơn vị mã {code}."


def invite_link(unit_name: str, link: str, code: str) -> str:
    return f"Đường dẫn mời vào {unit_name}:\n{link}\n{_code_line(code)}"


def database_problem(detail: str) -> str:
    return f"Lỗi cơ sở dữ liệu: {detail}"


STARTING = "motcongmot đang chạy. Nhấn Ctrl+C để dừng."


# --- leaders and admins ----------------------------------------------------------------------

NO_PERMISSION = "Đồng chí không có quyền làm việc này."
NOT_A_LEADER = "Lệnh này dành cho bí thư, chi hội trưởng và cán bộ quản trị."
NOT_AN_ADMIN = "Lệnh này dành cho cán bộ quản trị."
ALREADY_DECIDED = "Giới thiệu này đã được người khác xử lý trước."
ROLE_NAME = {"leader": "bí thư", "admin": "quản trị"}
# In the Federation's tree a unit's leader is its chi hội trưởng.
LEADER_NAME = {Org.DOAN: "bí thư", Org.HOI: "chi hội trưởng"}
BTN_CHOOSE_HERE = "✔ Chọn đơn vị này"
BTN_RENEW_LINK = "🔄 Đổi đường dẫn mới"
BTN_LEADER_LINK = "➕ Đường dẫn bổ nhiệm bí thư, chi hội trưởng"
BTN_ADMIN_LINK = "➕ Đường dẫn bổ nhiệm quản trị"
BTN_ADMIT = "✅ Đã kết nạp"
BTN_DECLINE = "✖️ Không kết nạp"
BTN_LATER = "⏭ Để sau"
BTN_TODAY = "Hôm nay"
BTN_WITHDRAW_YES = "Rút"
BTN_WITHDRAW_NO = "Không"
PICK_UNIT = "Chọn đơn vị:"
GRANT_PROBLEM = {
    "grant_invalid": "Đường dẫn bổ nhiệm này không đúng.",
    "grant_used": "Đường dẫn bổ nhiệm này đã được dùng.",
    "grant_expired": (
        "Đường dẫn bổ nhiệm đã hết hạn (7 ngày). Xin cán bộ quản trị tạo đường dẫn mới."
    ),
}
NO_PENDING = "Không có giới thiệu nào chờ xét. 👍"
ASK_ADMISSION_DATE = f"Ngày kết nạp? Chọn «{BTN_TODAY}» hoặc gõ ngày/tháng/năm, ví dụ 26/03/2026."


def ask_admission_date(number: int, name: str) -> str:
    return f"Kết nạp {name} (số {number}).\n{ASK_ADMISSION_DATE}"


def referral_changed(number: int) -> str:
    return f"Thông tin giới thiệu số {number} vừa được sửa, chưa ghi quyết định. Xin xem lại:"


ADMISSION_DATE_FORMAT = "Gõ ngày kết nạp dạng ngày/tháng/năm, ví dụ 26/03/2026."
ADMISSION_IN_FUTURE = "Ngày kết nạp không thể ở tương lai."
ASK_REOPEN_REASON = "Lý do mở lại (ít nhất 5 ký tự)?"
REASON_TOO_SHORT = "Lý do cần ít nhất 5 ký tự, tối đa 300."
REOPEN_USAGE = "Gõ /molai kèm số giới thiệu, ví dụ: /molai 12"
NOT_DECIDED = "Giới thiệu này chưa được quyết định nên không cần mở lại."
ASK_TARGET_ORG = "Đặt chỉ tiêu cho tổ chức nào?"
TARGET_INVALID = "Gõ một số nguyên từ 0 đến 1000000."
WITHDRAWN = "Đã rút giới thiệu."
CANNOT_WITHDRAW = "Chỉ rút được giới thiệu của chính đồng chí khi còn chờ xét."


def picker_title(title: str, unit_name: str) -> str:
    return f"{title}\nĐơn vị: {unit_name}"


def _code_line(code: str) -> str:
    return f"Mã mời: {code} (trên Zalo, nhắn cho bot: start {code})"


def member_invite(unit_name: str, link: str | None, code: str) -> str:
    if link is None:
        head = f"Mã mời đoàn viên, hội viên vào {unit_name}: {code}\nNhắn cho bot: start {code}"
    else:
        head = f"Đường dẫn mời đoàn viên, hội viên vào {unit_name}:\n{link}\n{_code_line(code)}"
    return f"{head}\nGửi vào nhóm của đơn vị; ai dùng sẽ ghi danh thẳng vào đơn vị này."


def invite_renewed(unit_name: str, link: str | None, code: str) -> str:
    return f"Đường dẫn và mã cũ đã bị hủy.\n{member_invite(unit_name, link, code)}"


def appoint_panel(
    unit_name: str, leaders: list[str], admins: list[str] | None = None, org: Org = Org.DOAN
) -> str:
    who = ", ".join(leaders) if leaders else "chưa có"
    text = f"Bổ nhiệm – {unit_name}\n{LEADER_NAME[org].capitalize()} hiện nay: {who}"
    if admins:
        text += f"\nQuản trị: {', '.join(admins)}"
    return text


def remove_admin_button(name: str) -> str:
    return f"✖️ Gỡ quản trị {name}"


def role_removed(name: str, role: str, unit_name: str, org: Org) -> str:
    return f"Đã gỡ {name} khỏi vai trò {role_title(role, org)} {unit_name}."


def remove_leader_button(name: str) -> str:
    return f"✖️ Gỡ {name}"


def role_title(role: str, org: Org) -> str:
    return LEADER_NAME[org] if role == "leader" else ROLE_NAME[role]


def grant_link(
    role: str, unit_name: str, link: str | None, org: Org = Org.DOAN, code: str | None = None
) -> str:
    text = (
        f"Đường dẫn bổ nhiệm {role_title(role, org)} {unit_name}"
        f" (dùng một lần, hết hạn sau 7 ngày):\n{link or ''}"
    )
    if code is not None:
        text += f"\nMã bổ nhiệm: {code} (trên Zalo, nhắn cho bot: start {code})"
    return text


def grant_welcome(role: str, unit_name: str, org: Org = Org.DOAN) -> str:
    return f"Đồng chí được mời làm {role_title(role, org)} {unit_name}. Trước hết, xin ghi danh."


def grant_received(role: str, unit_name: str, org: Org = Org.DOAN) -> str:
    title = role_title(role, org)
    return f"Đồng chí đã được giao vai trò {title} {unit_name}. Gõ /help để xem các lệnh."


def grant_used_by(name: str, role: str, unit_name: str, org: Org = Org.DOAN) -> str:
    return f"Đồng chí {name} đã nhận vai trò {role_title(role, org)} {unit_name}."


SELF_REGISTERED = "✍️ Thanh niên tự đăng ký qua lời mời, đã đồng ý lưu thông tin"


def review_card(
    waiting: int,
    number: int,
    name: str,
    age: str,
    org: Org,
    introducer: str,
    unit_name: str,
    introduced_on: str,
    phone: str | None,
    *,
    self_registered: bool = False,
) -> str:
    lines = [
        f"Chờ xét: {waiting}",
        f"Số {number}: {name}, {age}, vào {ORG_SHORT[org]}",
        *([SELF_REGISTERED] if self_registered else []),
        f"Người giới thiệu: {introducer} ({unit_name})",
        f"Ngày giới thiệu: {introduced_on}",
    ]
    if phone:
        lines.append(f"Điện thoại: {phone}")
    return "\n".join(lines)


def admission_too_old(first_day: str) -> str:
    return f"Ngày kết nạp chỉ ghi được từ {first_day} đến hôm nay."


INTRODUCER_GONE = "đã rời bot"  # the member erased their data; the admission stays
INTRODUCER_UNKNOWN = "không rõ"


def admitted_notice(number: int, name: str, org: Org, day: str, first: bool, year: int) -> str:
    text = (
        f"Tin vui! {name} (giới thiệu số {number}) đã được kết nạp vào {ORG_SHORT[org]} ngày {day}."
    )
    if first:
        text += f"\nĐồng chí đã hoàn thành 1+1 năm {year}! 🎉"
    return text


def reopened_notice(number: int, name: str) -> str:
    return f"Giới thiệu số {number} ({name}) được mở lại để xét."


def decided(label: str) -> str:
    return f"→ {label}"


def decided_number(number: int, label: str) -> str:
    return f"Số {number}: {decided(label)}"


def reopened(number: int) -> str:
    return f"Đã mở lại giới thiệu số {number}. Xét lại bằng /duyet."


def withdraw_button(number: int) -> str:
    return f"Rút số {number}"


def confirm_withdraw(number: int, name: str) -> str:
    return f"Rút giới thiệu số {number} ({name})? Việc này không hoàn tác được."


def _assigned_line(assigned: int | None) -> list[str]:
    return [f"Giao cho đơn vị trực thuộc: {assigned}."] if assigned is not None else []


def target_overview(
    unit_name: str, year: int, own: dict[Org, int], target: int, assigned: int | None = None
) -> str:
    parts = [f"{ORG_SHORT[org]}: {own[org]}" for org in Org if org in own]
    current = (
        ", ".join(parts)
        if parts
        else f"chưa đặt; đang tính {target} (chỉ tiêu đơn vị trực thuộc đã đặt, còn lại mỗi"
        " đoàn viên, hội viên 1)"
    )
    return "\n".join([f"Chỉ tiêu {year} – {unit_name}: {current}.", *_assigned_line(assigned)])


def ask_target(org: Org, year: int) -> str:
    return (
        f"Số thanh niên cần kết nạp vào {ORG_SHORT[org]} năm {year}"
        " (của cả đơn vị, kể cả đơn vị trực thuộc)?"
    )


def target_saved(
    unit_name: str, year: int, org: Org, value: int, total: int, assigned: int | None = None
) -> str:
    return "\n".join(
        [
            f"Đã đặt chỉ tiêu {ORG_SHORT[org]} năm {year} của {unit_name}: {value}.",
            f"Tổng chỉ tiêu của đơn vị (kể cả đơn vị trực thuộc): {total}.",
            *_assigned_line(assigned),
        ]
    )


def coverage_line(registered: int, official: int) -> str:
    return f"Đã ghi danh trên bot: {registered}/{official} ({percent(registered, official)})"


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def unit_picture(
    unit_name: str,
    year: int,
    members: int,
    met: int,
    introduced: int,
    admitted: int,
    declined: int,
    pending: int,
    target: int,
    expected: float,
    coverage: tuple[int, int] | None = None,
    assigned: int | None = None,
) -> str:
    return "\n".join(
        [
            f"{unit_name} – năm {year}",
            f"Đoàn viên, hội viên: {members} · đạt 1+1: {met} ({percent(met, members)})",
            *([coverage_line(*coverage)] if coverage else []),
            f"Giới thiệu: {introduced} · kết nạp: {admitted} · không kết nạp: {declined}"
            f" · chờ xét: {pending}",
            f"Kết nạp/chỉ tiêu: {admitted}/{target} ({percent(admitted, target)})"
            f" · mốc quý này: {round(expected * 100)}%",
            *_assigned_line(assigned),
        ]
    )


def names_page(title: str, names: list[str], page: int, pages: int) -> str:
    body = ", ".join(names) if names else "không có"
    suffix = f" (trang {page + 1}/{pages})" if pages > 1 else ""
    return f"{title}{suffix}: {body}"


def not_met_title(count: int) -> str:
    return f"Chưa đạt 1+1 ({count})"


def met_title(count: int) -> str:
    return f"Đã đạt 1+1 ({count})"


BTN_NOT_MET = "👥 Chưa đạt 1+1"
BTN_MET = "🏅 Đã đạt 1+1"


# --- reminders -------------------------------------------------------------------------------


def given_name(full_name: str) -> str:
    """Vietnamese names end with the given name: Nguyễn Thị Lan → Lan."""
    return full_name.split()[-1] if full_name.split() else full_name


def quarter_label(label: str) -> str:
    year, _, part = label.partition("-")
    return f"quý {part[1]}/{year}" if part.startswith("Q") else label


def quarter_warning(
    label: str,
    days: int,
    unit_name: str,
    admitted: int,
    target: int,
    expected: float,
    not_met_names: list[str],
    not_met: int,
    pending: int,
    unreachable: int,
) -> str:
    lines = [
        f"⏰ Còn {days} ngày hết {quarter_label(label)}.",
        f"{unit_name}: kết nạp {admitted}/{target} ({percent(admitted, target)}),"
        f" mốc cuối quý: {round(expected * 100)}%.",
    ]
    if not_met:
        shown = ", ".join(not_met_names)
        more = "…" if not_met > len(not_met_names) else ""
        lines.append(f"Chưa đạt 1+1: {not_met} đồng chí – {shown}{more}")
    if pending:
        lines.append(f"Chờ đồng chí xét: {pending} (/duyet)")
    if unreachable:
        lines.append(f"Không nhắn được: {unreachable} đồng chí (đã chặn bot)")
    return "\n".join(lines)


def quarter_result(
    label: str, unit_name: str, in_quarter: int, admitted: int, target: int, expected: float
) -> str:
    return (
        f"📊 Kết quả {quarter_label(label)} – {unit_name}: kết nạp trong quý {in_quarter}; "
        f"cả năm {admitted}/{target} ({percent(admitted, target)}), "
        f"mốc: {round(expected * 100)}%."
    )


SUMMARY_TITLE = {
    "H1": "Sơ kết 6 tháng đầu năm",
    "warning": "Nhắc việc cuối năm",
    "closing": "Tổng kết năm",
}


def summary(title: str, year: int, unit_name: str, lines: list[str], hidden: int) -> str:
    more = [f"… và {hidden} đơn vị khác"] if hidden else []
    body = lines or ["(chưa có đơn vị trực thuộc)"]
    return "\n".join([f"📋 {title} {year} – {unit_name} (yếu trước):", *body, *more])


def summary_line(rank: int, unit_name: str, admitted: int, target: int) -> str:
    return f"{rank}. {unit_name}: {admitted}/{target} ({percent(admitted, target)})"


MEMBER_NUDGE = (
    '👋 Năm nay đồng chí chưa có thanh niên nào được kết nạp theo phong trào "1+1". '
    "Có ai đồng chí muốn giới thiệu vào Đoàn, Hội không? Gõ /gioithieu để ghi tên nhé!"
)
MANUAL_NUDGE = (
    '👋 Đơn vị nhắc: đồng chí chưa đạt "1+1" năm nay. '
    "Gõ /gioithieu để ghi tên thanh niên đồng chí giới thiệu."
)
ALREADY_NUDGED_TODAY = "Hôm nay đơn vị này đã được nhắc rồi. Mai đồng chí có thể nhắc lại."
NOBODY_TO_NUDGE = "Mọi đồng chí trong đơn vị đã đạt 1+1 (hoặc không nhắn được). 👍"


def nudging(count: int, skipped: int = 0) -> str:
    text = f"Đang gửi nhắc nhở tới {count} đồng chí chưa đạt 1+1…"
    if skipped:
        text += f"\n{skipped} đồng chí đã được nhắc hôm nay nên không nhắc lại."
    return text


def all_nudged_today(skipped: int) -> str:
    return f"Cả {skipped} đồng chí chưa đạt 1+1 đều đã được nhắc hôm nay. Mai hãy nhắc lại."


def nudged(sent: int, unreachable: int, other: int) -> str:
    text = f"Đã gửi nhắc nhở: {sent} đồng chí đã nhận"
    if unreachable:
        text += f", {unreachable} không nhắn được (đã chặn bot)"
    if other:
        text += f", {other} chưa chắc đã nhận"
    return text + "."


KIND_NAME = {
    "qwarn": "Nhắc bí thư trước cuối quý",
    "qres": "Kết quả quý",
    "sum": "Sơ kết, tổng kết",
    "nudge": "Nhắc đoàn viên, hội viên chưa đạt",
}


def schedule(next_lines: list[str], last_lines: list[str]) -> str:
    parts = ["🗓 Lịch nhắc sắp tới:", *next_lines]
    if last_lines:
        parts += ["", "Lần chạy gần nhất:", *last_lines]
    return "\n".join(parts)


def schedule_next(kind: str, when: str) -> str:
    return f"• {when} – {KIND_NAME.get(kind, kind)}"


def schedule_last(kind: str, when: str, sent: int, failed: int, late: bool) -> str:
    suffix = " (gửi muộn)" if late else ""
    return f"• {KIND_NAME.get(kind, kind)}: {when}, đã gửi {sent}, không gửi được {failed}{suffix}"


def counter_mismatch(unit_id: int, bucket: str, metric: str, kept: int, fresh: int) -> str:
    return f"Sai lệch: đơn vị {unit_id}, kỳ {bucket}, {metric}: lưu {kept}, đếm lại {fresh}"


def check_result(wrong: int) -> str:
    if wrong:
        return f"Có {wrong} số liệu lệch so với dữ liệu gốc."
    return "Mọi số liệu thống kê khớp với dữ liệu gốc. ✅"


# --- statistics and the inspection report ----------------------------------------------------


def period_name(label: str) -> str:
    year, _, part = label.partition("-")
    if not part:
        return f"năm {year}"
    if part.startswith("H"):
        return f"6 tháng {'đầu' if part == 'H1' else 'cuối'} năm {year}"
    return f"quý {part[1]}/{year}"


STATS_USAGE = (
    "Gõ /stats [kỳ] [mã hoặc tên đơn vị], ví dụ: /stats 2026-Q3 An Bình. Kỳ: 2026, 2026-H1,"
    " 2026-Q3."
)
BTN_CHART = "📈 Biểu đồ"
BTN_EXPORT = "📄 Xuất Excel"
BTN_UP = "⬆️ Cấp trên"
NO_CHILDREN_CHART = "Đơn vị này không có đơn vị trực thuộc để vẽ biểu đồ."


def stats_header(period: str, unit_name: str) -> str:
    return f"📊 Thống kê {period_name(period)} – {unit_name}"


def stats_block(
    members: int,
    met: int,
    introduced: int,
    doan: int,
    hoi: int,
    declined: int,
    pending: int,
    target: int,
    expected: float,
    coverage: tuple[int, int] | None = None,
    assigned: int | None = None,
) -> str:
    admitted = doan + hoi
    return "\n".join(
        [
            f"Đoàn viên, hội viên: {members} · đạt 1+1: {met} ({percent(met, members)})",
            *([coverage_line(*coverage)] if coverage else []),
            f"Giới thiệu: {introduced} · vào Đoàn: {doan} · vào Hội: {hoi}",
            f"Không kết nạp: {declined} · chờ xét: {pending}",
            f"Kết nạp/chỉ tiêu: {admitted}/{target} ({percent(admitted, target)})"
            f" · mốc kỳ: {round(expected * 100)}%",
            *_assigned_line(assigned),
        ]
    )


def stats_child(
    rank: int,
    name: str,
    admitted: int,
    target: int,
    members: int,
    met: int,
    introduced: int,
    doan: int,
    hoi: int,
    declined: int,
    pending: int,
    headcount: int | None = None,
) -> str:
    shown = f"{members}/{headcount}" if headcount is not None else str(members)
    return (
        f"{rank}. {name}: {admitted}/{target} ({percent(admitted, target)})\n"
        f"   ĐV {shown}, đạt {met} · GT {introduced} · Đoàn {doan}, Hội {hoi}"
        f" · KKN {declined} · chờ {pending}"
    )


def stats_children_title(page: int, pages: int) -> str:
    suffix = f", trang {page + 1}/{pages}" if pages > 1 else ""
    return f"Đơn vị trực thuộc (yếu trước{suffix}):"


STATS_LEGEND = "ĐV: đoàn viên, hội viên · GT: giới thiệu · KKN: không kết nạp"


CHART_TARGET = "Chỉ tiêu"
CHART_ADMITTED = "Đã kết nạp"
CHART_AXIS = "Số thanh niên"

SHEET_LEVEL = "Cấp {n}"
SHEET_ADMISSIONS = "Danh sách kết nạp"
LEVEL_HEADERS = [
    "Mã đơn vị",
    "Đơn vị",
    "Đơn vị cấp trên",
    "Đoàn viên, hội viên",
    "Đạt 1+1",
    "Tỷ lệ đạt 1+1",
    "Giới thiệu",
    "Kết nạp vào Đoàn",
    "Kết nạp vào Hội",
    "Tổng kết nạp",
    "Không kết nạp",
    "Chờ xét",
    "Chỉ tiêu",
    "Tỷ lệ so với chỉ tiêu",
    "Mốc của kỳ",
]
ADMISSION_HEADERS = [
    "Ngày kết nạp",
    "Họ và tên thanh niên",
    "Kết nạp vào",
    "Đơn vị",
    "Người giới thiệu",
    "Điện thoại (che một phần)",
]


def export_caption(period: str, unit_name: str) -> str:
    return f"Báo cáo phong trào 1+1 {period_name(period)} – {unit_name}"


def export_filename(period: str, unit_code: str) -> str:
    return f"motcongmot-{unit_code}-{period}.xlsx"


# --- motcongmot try (the terminal) ---------------------------------------------------------


def console_banner(workdir: str) -> str:
    return (
        "motcongmot – chạy thử trong cửa sổ lệnh, không cần mã bot.\n"
        f"Dữ liệu nháp (cây đơn vị mẫu và vài người): {workdir}\n"
        "Đóng vai: /as admin · /as leader · /as lan · /as <tên mới>. Thoát: /thoat\n"
        "Bắt đầu: gõ start (người mới) hoặc help."
    )


CONSOLE_AS_USAGE = "Gõ /as admin, /as leader, /as lan hoặc /as <tên>."


def console_now(name: str) -> str:
    return f"Bây giờ đồng chí là: {name}."


def console_file(caption: str, path: object) -> str:
    return f"{caption}\nĐã lưu tệp: {path}"


def console_to(user_ref: str, text: str) -> str:
    return f"📨 Gửi cho {user_ref}: {text}"


_BACKUP_PROBLEMS = {
    "missing": "không có tệp",
    "not-sqlite": "không phải tệp cơ sở dữ liệu SQLite",
    "integrity": "tệp hỏng (integrity_check)",
    "version": "phiên bản dữ liệu không khớp với chương trình",
    "counters": "số liệu thống kê lưu sẵn không khớp dữ liệu gốc",
    "wal": "bản sao còn tệp -wal đi kèm; hãy dùng tệp do motcongmot backup tạo",
    "same-file": "đó chính là cơ sở dữ liệu đang dùng",
}


def backup_refused(code: str) -> str:
    return f"Không dùng được bản sao lưu: {_BACKUP_PROBLEMS.get(code, code)}. Không thay đổi gì."


def backup_done(path: str, size: int, rows: dict[str, int], seconds: float) -> str:
    counted = ", ".join(f"{name}: {count}" for name, count in rows.items())
    return f"Đã sao lưu và kiểm tra {path} ({size // 1024} KB; {counted}) trong {seconds:.1f} giây."


def restored(src: str, aside: str | None) -> str:
    kept = f" Bản cũ được giữ lại ở {aside}." if aside else ""
    return f"Đã khôi phục từ {src}.{kept}"


def exported(path: str) -> str:
    return f"Đã ghi báo cáo vào {path}."


def period_invalid(text: str) -> str:
    return f"Kỳ «{text}» không đúng. Dùng: 2026, 2026-H1 hoặc 2026-Q3."


# --- deletion on request ---------------------------------------------------------------------

CONFIRM_ERASE = (
    "Xóa toàn bộ dữ liệu của đồng chí: họ tên, số điện thoại, vai trò và những thanh niên đồng chí "
    "giới thiệu còn chờ xét hoặc không được kết nạp? Những thanh niên đã được kết nạp nay là "
    "đoàn viên, hội viên: việc kết nạp vẫn được tính cho đơn vị, không còn tên đồng chí. "
    "Việc này không hoàn tác được."
)
BTN_ERASE_YES = "🗑 Xóa hết"
BTN_ERASE_NO = "Giữ lại"
ERASED = (
    "Đã xóa toàn bộ dữ liệu của đồng chí; các trường hợp đã kết nạp vẫn được tính cho đơn vị. "
    "Gõ /start nếu muốn ghi danh lại."
)


def member_left(unit_name: str, kept: int) -> str:
    """To the unit's leaders: someone erased their data (whom is no longer known)."""
    text = f"Một đoàn viên, hội viên của {unit_name} đã rời bot và xóa dữ liệu của mình."
    if kept:
        text += f" {kept} trường hợp đã kết nạp do đồng chí ấy giới thiệu vẫn được tính."
    return text


ERASE_KEPT = "Đã giữ nguyên dữ liệu."


def more_units(count: int) -> str:
    return f"… và {count} đơn vị nữa: xem bằng /donvi hoặc /stats."


NOT_UTF8 = "Tệp cấu hình (.env) hoặc tệp dữ liệu không phải UTF-8."


def file_problem(path: str, reason: str) -> str:
    return f"Không dùng được tệp/thư mục {path}: {reason}."


_CHANNEL_TOKEN = {"telegram": "TELEGRAM_BOT_TOKEN", "zalo": "ZALO_BOT_TOKEN"}


def channel_problem(channel: str, refused: bool, kind: str) -> str:
    """The bot could not start on a channel; never the token, never the API's own words."""
    if refused:
        return f"{channel.title()} từ chối {_CHANNEL_TOKEN.get(channel, channel)}: kiểm tra mã bot."
    return f"Không kết nối được {channel.title()} Bot API ({kind}). Kiểm tra mạng và địa chỉ API."


# --- picker titles ---------------------------------------------------------------------------

PICK_APPOINT = "Bổ nhiệm"
PICK_INVITE = "Đường dẫn mời đoàn viên, hội viên"
PICK_RENEW = "Đổi đường dẫn mời"
PICK_NUDGE = "Nhắc đoàn viên, hội viên chưa đạt 1+1"
PICK_TARGET = "Đặt chỉ tiêu"
PICK_UNIT_VIEW = "Tình hình đơn vị"


def children_page(unit_name: str, page: int, pages: int) -> str:
    return f"Đơn vị trực thuộc {unit_name} (trang {page + 1}/{pages}):"


# --- motcongmot import-admissions: a unit's admissions from before the bot -----------------

_CSV_PROBLEMS.update(
    {
        "adm_header": "dòng tiêu đề phải là: youth,birth,org,introducer,admitted_on,unit_code",
        "adm_columns": "cần đúng 6 cột: youth,birth,org,introducer,admitted_on,unit_code",
        "adm_youth": "họ tên thanh niên không hợp lệ (cần họ tên đầy đủ, có dấu)",
        "adm_birth": "ngày sinh dạng ngày/tháng/năm hoặc năm sinh, không ở tương lai",
        "adm_introducer": "tên người giới thiệu không hợp lệ (để trống nếu không rõ)",
        "adm_date": "ngày kết nạp dạng ngày/tháng/năm",
        "adm_date_range": "ngày kết nạp chỉ từ 1/1 năm trước đến hôm nay",
        "adm_age": "tuổi lúc kết nạp ngoài độ tuổi của tổ chức",
        "adm_unit": "không có đơn vị với mã này",
        "adm_twice": "thanh niên này trùng với dòng trước trong tệp",
        "adm_known": "thanh niên này đã được giới thiệu hoặc kết nạp (ghi trên bot)",
    }
)


def admissions_imported(count: int, created: int, already: int) -> str:
    return f"Đã nạp {count} trường hợp kết nạp: {created} mới, {already} đã có từ trước."


# --- the inspection report (XLSX) and the chart ----------------------------------------------

SHEET_REPORT = "Báo cáo"
REPORT_REPUBLIC = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
REPORT_MOTTO = "Độc lập - Tự do - Hạnh phúc"
REPORT_STARS = "***"
REPORT_NUMBER = "Số:           -BC/"
REPORT_ORG_LINE = {Org.DOAN: "ĐOÀN TNCS HỒ CHÍ MINH", Org.HOI: "HỘI LHTN VIỆT NAM"}
# The body that issues the report, before the unit's name: "BCH TỈNH ĐOÀN MẪU"; a branch
# (chi đoàn, chi hội) has an executive committee whatever its organisation.
REPORT_BODY = {Org.DOAN: "BCH", Org.HOI: "ỦY BAN"}
REPORT_BODY_BRANCH = "BCH"
REPORT_TITLE = 'BÁO CÁO KẾT QUẢ THỰC HIỆN PHONG TRÀO "1+1"'
REPORT_SIGN_FOR = {True: "T/M BAN THƯỜNG VỤ", False: "T/M BAN CHẤP HÀNH"}  # has child units
REPORT_HOI_SIGNER = "CHỦ TỊCH"
REPORT_RECIPIENTS = ["Nơi nhận:", "- Cấp trên (để báo cáo);", "- Lưu VP."]
REPORT_PAGE = "Trang &P/&N"  # Excel prints &P as the page, &N as the number of pages
REPORT_TABLE_TITLE = "Kết quả theo đơn vị trực thuộc:"
REPORT_COMBINED = "TỔNG HỢP CHUNG"
REPORT_TOTAL = "Tổng cộng"
REPORT_NO_ADMISSIONS = "Không có thanh niên nào được kết nạp trong kỳ."
_FIGURE_HEADERS = [
    "Đoàn viên, hội viên",
    "Đạt 1+1",
    "Tỷ lệ đạt 1+1",
    "Giới thiệu",
    "Kết nạp vào Đoàn",
    "Kết nạp vào Hội",
    "Tổng kết nạp",
    "Chỉ tiêu năm",
    "Tỷ lệ so với chỉ tiêu",
    "Không kết nạp",
    "Chờ xét",
]
REPORT_TABLE_HEADERS = ["STT", "Đơn vị", *_FIGURE_HEADERS]
REPORT_LEVEL_HEADERS = [
    "STT",
    "Đơn vị",
    "Đơn vị cấp trên",
    "Mã đơn vị",
    *_FIGURE_HEADERS,
    "Mốc của kỳ",
]
REPORT_ADMISSION_HEADERS = [
    "STT",
    "Họ và tên",
    "Ngày sinh (năm sinh)",
    "Tuổi khi kết nạp",
    "Kết nạp vào",
    "Đơn vị",
    "Người giới thiệu",
    "Ngày giới thiệu",
    "Ngày kết nạp",
    "Người quyết định kết nạp",
    "Điện thoại (che một phần)",
]
LEVEL_PROVINCE = "Cấp tỉnh"
LEVEL_COMMUNE = "Cấp xã"
LEVEL_BRANCH = {Org.DOAN: "Chi đoàn", Org.HOI: "Chi hội"}
LEVEL_BRANCHES = "Chi đoàn, chi hội"  # a last level holding both


def number(n: int) -> str:
    """10.992: Vietnamese groups thousands with a dot."""
    return f"{n:,}".replace(",", ".")


def level_numbered(n: int) -> str:
    return f"Cấp {n}"


def sheet_of_org(org: Org, level: str) -> str:
    """A level's sheet when Đoàn and Hội share the workbook (at most 31 characters)."""
    return f"{ORG_SHORT[org]} – {level}"


def report_body(org: Org, branch: bool, unit_name: str) -> str:
    return f"{REPORT_BODY_BRANCH if branch else REPORT_BODY[org]} {unit_name.upper()}"


def report_place_date(place: str, day: int, month: int, year: int) -> str:
    """Decree 30/2020: a day below 10 and the months 1 and 2 are written with a leading zero."""
    shown_month = f"{month:02d}" if month < 3 else str(month)
    when = f"ngày {day:02d} tháng {shown_month} năm {year}"
    return f"{place}, {when}" if place else when[0].upper() + when[1:]


def report_period_title(label: str) -> str:
    year, _, part = label.partition("-")
    if not part:
        return f"NĂM {year}"
    if part.startswith("H"):
        return f"6 THÁNG {'ĐẦU' if part == 'H1' else 'CUỐI'} NĂM {year}"
    return f"QUÝ {('I', 'II', 'III', 'IV')[int(part[1]) - 1]} NĂM {year}"


def report_as_of(day: str) -> str:
    return f"(Số liệu tính đến ngày {day})"


def report_section(number: str, unit_name: str) -> str:
    return f"{number}. {unit_name.upper()}"


def report_direct(unit_name: str) -> str:
    """The row for what belongs to the unit itself, not to a child (its own members)."""
    return f"Trực tiếp tại {unit_name}"


def report_summary(
    unit_name: str,
    label: str,
    members: int,
    met: int,
    introduced: int,
    doan: int,
    hoi: int,
    declined: int,
    pending: int,
    target: int,
    expected: float,
    due: int,
) -> str:
    admitted = doan + hoi
    year = label.partition("-")[0]
    parts = [
        f"Trong {period_name(label)}, {unit_name} có {number(members)} đoàn viên, hội viên"
        f' tham gia phong trào, {number(met)} đồng chí đạt "1+1" ({percent(met, members)}).'
        f" Đã giới thiệu {number(introduced)} thanh niên, kết nạp {number(admitted)}"
        f" ({number(doan)} vào Đoàn, {number(hoi)} vào Hội)"
    ]
    if target:
        parts[0] += (
            f", đạt {percent(admitted, target)} chỉ tiêu năm {year} ({number(target)} thanh"
            f" niên); mốc cần đạt đến hết kỳ là {round(expected * 100)}% ({number(due)} thanh"
            " niên)."
        )
        if admitted >= due:
            parts.append("Đã đạt mốc của kỳ.")
        else:
            parts.append(f"Còn thiếu {number(due - admitted)} thanh niên so với mốc của kỳ.")
    else:
        parts[0] += f"; chưa có chỉ tiêu năm {year}."
    parts.append(
        f"Không kết nạp {number(declined)} trường hợp; {number(pending)} trường hợp đang chờ xét."
    )
    return " ".join(parts)


def level_sheet_title(level: str, unit_name: str, label: str) -> str:
    return f'Kết quả phong trào "1+1" {period_name(label)} – {level}, {unit_name}'


def admissions_title(unit_names: list[str], label: str) -> str:
    return f"Danh sách thanh niên được kết nạp {period_name(label)} – {' và '.join(unit_names)}"


def admissions_total(count: int, doan: int, hoi: int) -> str:
    return f"Cộng: {number(count)} thanh niên (vào Đoàn: {number(doan)}, vào Hội: {number(hoi)})."


def workbook_title(label: str) -> str:
    return f'Báo cáo kết quả thực hiện phong trào "1+1" {period_name(label)}'


EXPORT_ORG_USAGE = (
    "Gõ /xuat [kỳ] [mã hoặc tên đơn vị], ví dụ: /xuat 2026-H1. Chỉ Đoàn hoặc chỉ Hội:"
    " /xuat 2026 doan, /xuat 2026 hoi."
)
CHART_BEHIND = "Đã kết nạp, chưa đạt mốc"
CHART_ON_TRACK = "Đã kết nạp, đạt mốc"


def chart_expected(share: float) -> str:
    return f"Mốc kỳ ({round(share * 100)}% chỉ tiêu)"


def chart_heading(label: str, unit_name: str) -> str:
    return f"Kết nạp so với chỉ tiêu – {period_name(label)}\n{unit_name}"


def chart_totals(admitted: int, target: int, share: float) -> str:
    return (
        f"Toàn đơn vị: {number(admitted)}/{number(target)} ({percent(admitted, target)}),"
        f" mốc kỳ {round(share * 100)}%"
    )


def chart_as_of(day: str) -> str:
    return f"Số liệu đến ngày {day}"


def chart_shown(shown: int, total: int) -> str:
    return f"Hiện {shown} trong số {total} đơn vị, yếu nhất trước"


CHART_ALL_IN_EXPORT = "Đủ mọi đơn vị trong tệp /xuat."


def chart_caption(
    unit_name: str, label: str, admitted: int, target: int, share: float, as_of: str
) -> str:
    return (
        f"📈 {unit_name}, {period_name(label)}: kết nạp {number(admitted)}/{number(target)}"
        f" ({percent(admitted, target)}), mốc kỳ {round(share * 100)}%. Số liệu đến {as_of}."
    )


def report_own_target(unit_name: str, target: int, given: int) -> str:
    return (
        f"Ghi chú: chỉ tiêu năm của {unit_name} là {number(target)} thanh niên (đặt cho toàn"
        f" đơn vị); tổng chỉ tiêu giao cho các đơn vị trực thuộc là {number(given)}."
    )


REPORT_NO_UNITS = "Chưa có đơn vị nào để báo cáo: nạp cây đơn vị trước (import-units)."

# --- a member's own invitation (/moiban) and the friend's sign-up ----------------------------

BTN_AGREE = "Đồng ý"
BTN_DISAGREE = "Không"
FRIEND_PRIVACY = (
    "Bot lưu: họ tên, ngày sinh, số điện thoại (nếu bạn cho), tổ chức bạn muốn vào, để đơn vị "
    "liên hệ và xét kết nạp; lưu đến khi xét xong và theo quy định lưu trữ hồ sơ "
    "đoàn viên, hội viên. "
    "Bạn có thể xóa bất cứ lúc nào bằng cách nhắn /xoadulieu. Bạn đồng ý chứ?"
)
FRIEND_NOTHING_STORED = "Không có gì được lưu. Cảm ơn bạn đã ghé thăm!"
FRIEND_ASK_NAME = "Họ và tên đầy đủ của bạn (có dấu)?"
FRIEND_ASK_BIRTH = "Ngày sinh của bạn? Ví dụ 05/03/2008, hoặc chỉ năm sinh: 2008."
FRIEND_ASK_PHONE = f"Số điện thoại của bạn? Bấm «{BTN_SHARE_PHONE}», gõ số, hoặc «{BTN_SKIP}»."
FRIEND_ASK_PHONE_TYPED = "Số điện thoại của bạn? Gõ số, hoặc chọn:"
FRIEND_ASK_ORG = "Bạn muốn vào tổ chức nào?"
FRIEND_ASK_GUARDIAN = (
    "Bạn chưa đủ 16 tuổi: cha mẹ hoặc người giám hộ của bạn đã đồng ý cho bạn đăng ký chưa?"
)
FRIEND_DUPLICATE = "Thông tin này đã có người đăng ký rồi, không cần đăng ký lại. Cảm ơn bạn!"
FRIEND_INVITER_GONE = "Lời mời này không còn hiệu lực. Không có gì được lưu."


def friend_intro(inviter: str, unit_name: str) -> str:
    return (
        'Phong trào "1+1": mỗi đoàn viên, hội viên giới thiệu một bạn trẻ vào Đoàn hoặc Hội.\n'
        f"Đồng chí {inviter} ({unit_name}) mời bạn tham gia."
    )


def friend_saved(inviter: str) -> str:
    return (
        f"Đã ghi nhận đăng ký của bạn (người mời: {inviter}). "
        "Đơn vị sẽ liên hệ để xét kết nạp. Cảm ơn bạn!"
    )


def friend_signed_up(youth: str) -> str:
    return f"🎉 {youth} đã tự đăng ký qua lời mời của đồng chí."


def friend_invitation(link: str | None, code: str, renewed: bool) -> str:
    head = "Lời mời cũ đã bị hủy. " if renewed else ""
    where = f"Đường dẫn: {link}\n" if link else ""
    return (
        f"{head}Lời mời riêng của đồng chí để bạn trẻ tự đăng ký:\n{where}"
        f"Mã mời: {code} (trên Zalo, người được mời nhắn cho bot: start {code})\n"
        "Chuyển tin nhắn dưới đây cho người được mời. Đổi lời mời: /moiban moi"
    )


def friend_forward(inviter: str, link: str | None, code: str) -> str:
    how = f"mở {link} hoặc " if link else ""
    return (
        f"Mình là {inviter}, mời bạn tham gia Đoàn/Hội qua phong trào 1+1. "
        f"Để tự đăng ký, bạn {how}nhắn cho bot: start {code}"
    )


CONFIRM_ERASE_YOUTH = (
    "Xóa thông tin bạn đã tự đăng ký? Nếu bạn đã được kết nạp, hồ sơ kết nạp được giữ lại "
    "theo quy định, không kèm số điện thoại."
)
ERASED_YOUTH = "Đã xóa thông tin của bạn."


def friend_withdrew(number: int) -> str:
    return f"Giới thiệu số {number} đã được rút."


# --- the report's commendation sheet (Đề nghị tuyên dương) ---------------------------------

SHEET_COMMENDATION = "Đề nghị tuyên dương"
COMMENDATION_HEADERS = ["STT", "Họ và tên", "Đơn vị", "Số thanh niên được kết nạp"]
COMMENDATION_NOBODY = "Chưa có đồng chí nào đạt 1+1 trong năm."


def commendation_title(unit_names: list[str], year: int) -> str:
    return (
        f"Đoàn viên, hội viên hoàn thành 1+1 năm {year} – {', '.join(unit_names)} "
        "(đề nghị tuyên dương)"
    )


# --- issue 9: leaders' work (review queue, declining, decided list, confirmations) ----------

BTN_DECLINE_YES = "✖️ Không kết nạp"
BTN_RENEW_YES = "🔄 Đổi đường dẫn"
BTN_RENEW_NO = "Giữ nguyên"
BTN_REMOVE_YES = "✖️ Gỡ quyền"
BTN_MORE = "Xem thêm ▶️"
ASK_DECLINE_REASON_TAIL = (
    f"Gõ lý do (5–300 ký tự, sẽ báo cho người giới thiệu), hoặc chọn «{BTN_SKIP}»."
)
DECLINE_REASON_LENGTH = f"Lý do cần từ 5 đến 300 ký tự, hoặc chọn «{BTN_SKIP}»."
RENEW_KEPT = "Đã giữ nguyên đường dẫn và mã mời cũ."
NO_DECIDED = "Chưa có giới thiệu nào được quyết định."


def decline_reason_question(number: int, name: str) -> str:
    return f"Không kết nạp {name} (số {number}).\nLý do? {ASK_DECLINE_REASON_TAIL}"


def confirm_decline(number: int, name: str, reason: str | None) -> str:
    lines = [f"Không kết nạp {name} (số {number})?"]
    lines.append(f"Lý do: {reason}" if reason else "Không ghi lý do.")
    return "\n".join(lines)


def declined_kindly(number: int, name: str, reason: str | None) -> str:
    lines = [
        f"Cảm ơn đồng chí đã giới thiệu {name} (số {number}).",
        "Lần này đơn vị chưa kết nạp thanh niên này.",
    ]
    if reason:
        lines.append(f"Lý do: {reason}")
    lines.append("Đồng chí cứ tiếp tục động viên, hoặc giới thiệu thêm thanh niên khác nhé.")
    return "\n".join(lines)


def review_pass_done(left: int, again: str) -> str:
    return f"Đã xem hết. Còn {left} giới thiệu đồng chí để sau; gửi {again} để xem lại từ đầu."


def unit_not_found(typed: str) -> str:
    return f"Không tìm thấy đơn vị «{typed}» trong phạm vi của đồng chí. Gõ mã hoặc một phần tên."


def units_many(typed: str, more: bool) -> str:
    tail = " Chỉ hiện một phần; gõ cụ thể hơn nếu chưa thấy." if more else ""
    return f"Có nhiều đơn vị khớp «{typed}». Chọn một:{tail}"


def no_referral_here(number: int) -> str:
    return f"Không có giới thiệu số {number} trong đơn vị của đồng chí."


def decided_title(unit_name: str | None, page: int) -> str:
    where = f" – {unit_name}" if unit_name else ""
    return f"Giới thiệu đã quyết định{where} (mới nhất trước, trang {page + 1}):"


def decided_line(number: int, name: str, status: str, day: str) -> str:
    return f"Số {number}: {name} – {STATUS[status]} ngày {day}"


DECIDED_HINT = "Mở lại một quyết định: /molai <số>, ví dụ /molai 12."


def confirm_renew(unit_name: str) -> str:
    return (
        f"Đổi đường dẫn mời của {unit_name}? Đường dẫn và mã cũ sẽ không dùng được nữa; "
        "ai chưa ghi danh phải nhận đường dẫn mới."
    )


def confirm_remove(name: str, role: str, unit_name: str, org: Org) -> str:
    return f"Gỡ {name} khỏi vai trò {role_title(role, org)} {unit_name}?"


def role_removed_notice(role: str, unit_name: str, org: Org) -> str:
    return (
        f"Đồng chí không còn giữ vai trò {role_title(role, org)} {unit_name}. "
        "Cảm ơn đồng chí đã đóng góp; gõ /help để xem các lệnh còn dùng được."
    )


# --- issue 9: several top units, a unit typed by code or name ---

UNIT_CHOICES_SHOWN = 8


# (an unknown unit and several matches: unit_not_found and units_many above, shared with /duyet)


def unit_choice(name: str, parent: str | None) -> str:
    return f"{name} – {parent}" if parent else name


def pick_top_stats(period: str) -> str:
    return f"Đồng chí phụ trách nhiều đơn vị. Xem thống kê kỳ {period} của đơn vị nào?"


def pick_top_export(period: str) -> str:
    return f"Đồng chí phụ trách nhiều đơn vị. Xuất báo cáo kỳ {period} của đơn vị nào?"


def pick_top_honours(period: str) -> str:
    return f"Đồng chí phụ trách nhiều đơn vị. Xem vinh danh kỳ {period} của đơn vị nào?"


BTN_BOTH_ORGS = "Cả Đoàn và Hội"


def btn_all_units(count: int) -> str:
    return f"Tất cả ({count} đơn vị)"


HONOURS_USAGE = "Gõ /vinhdanh [kỳ] [mã hoặc tên đơn vị], ví dụ: /vinhdanh 2026-Q3 An Bình."


# --- issue 9: cadres and moving ---


def register_here(unit_name: str) -> str:
    """A cadre's choice in the registration tree: register at the unit being browsed."""
    return f"Ghi danh tại {unit_name}"


def move_offer(old: str, new: str, pending: int, kept_roles: list[str]) -> str:
    """A registered member opened another unit's invite. kept_roles: "bí thư Chi đoàn …"."""
    lines = [f"Đồng chí đang ở {old}. Chuyển sang {new}?"]
    if pending:
        lines.append(f"{pending} trường hợp đồng chí giới thiệu đang chờ xét vẫn do {old} xét.")
    lines.append(f"Các trường hợp đồng chí đã giới thiệu vẫn tính ở {old}.")
    lines += [
        f"Đồng chí vẫn giữ vai trò {role} cho đến khi cán bộ cấp trên gỡ." for role in kept_roles
    ]
    return "\n".join(lines)


def move_button(new: str) -> str:
    return f"Chuyển sang {new}"


def stay_button(old: str) -> str:
    return f"Ở lại {old}"


def moved(new: str) -> str:
    return f"Đã chuyển đồng chí sang {new}. ✅"


def stayed(old: str) -> str:
    return f"Đồng chí vẫn ở {old}."


def member_moved(name: str, new: str, pending: int = 0) -> str:
    """To the old unit's leaders: the member's waiting referrals stay theirs to decide."""
    text = f"Đồng chí {name} đã chuyển sang {new}."
    if pending:
        text += f" {pending} trường hợp đồng chí ấy giới thiệu vẫn chờ đơn vị xét: gõ /duyet."
    return text


CADRE_NO_LONGER = "Đồng chí không còn giữ vai trò cán bộ ở đơn vị đã chọn nên chưa ghi danh."
MOVE_OUTDATED = (
    "Chưa chuyển: đường dẫn mời đã được đổi, hoặc đơn vị của đồng chí đã thay đổi. "
    "Xin đường dẫn mời mới nếu vẫn muốn chuyển."
)


# --- issue 9: full names, and a member's correction of a waiting referral (/sua) -------------

INVALID["name_one_word"] = "Xin ghi đủ họ và tên, ví dụ: Nguyễn Văn An."
MENU_WORDS["sua"] = "Sửa giới thiệu đang chờ xét"
HELP_LINES["sua"] = "/sua <số> – sửa họ tên, ngày sinh, điện thoại, tổ chức của giới thiệu chờ xét"
CORRECT_USAGE = "Gõ /sua kèm số giới thiệu, ví dụ: /sua 12 (số xem ở /cuatoi)."
CORRECT_NONE = "Đồng chí không có giới thiệu nào đang chờ xét để sửa."
CORRECT_CHOOSE = "Chọn giới thiệu cần sửa (chỉ sửa được khi còn chờ xét):"
CORRECT_FIELD = {
    "full_name": "Họ tên",
    "birth": "Ngày sinh",
    "phone": "Điện thoại",
    "org": "Tổ chức",
}
BTN_NO_PHONE = "Không có số"
ASK_NEW_NAME = "Họ và tên đúng của thanh niên (có dấu)?"
ASK_NEW_BIRTH = "Ngày sinh đúng? Gõ ngày/tháng/năm, ví dụ 05/03/2008, hoặc chỉ năm sinh: 2008."
ASK_NEW_PHONE = f"Số điện thoại đúng của thanh niên? Gõ số, hoặc chọn «{BTN_NO_PHONE}»."
CORRECT_SAME = "Thông tin này giống thông tin cũ. Đồng chí gõ lại, hoặc /huy để thôi."
CORRECT_DUPLICATE = (
    "Thông tin mới trùng với một thanh niên đã được giới thiệu, nên chưa sửa. "
    "Nếu có nhầm lẫn, đồng chí báo bí thư chi đoàn hoặc chi hội trưởng."
)
CORRECT_GUARDIAN_MISSING = (
    "Chưa sửa: thanh niên có thể chưa đủ 16 tuổi, cần cha mẹ hoặc người giám hộ đồng ý trước."
)


def correct_button(number: int) -> str:
    return f"Sửa số {number}"


def correct_pick(number: int, name: str) -> str:
    return f"Số {number}: {name}"


def correct_unknown(number: int) -> str:
    return f"Không có giới thiệu số {number} của đồng chí."


def correct_refused(number: int, reason: str) -> str:
    """Why a referral cannot be corrected (reasons: storage.referrals.edit_refusal)."""
    if reason == "decided":
        return f"Giới thiệu số {number} đã được xét, không sửa được nữa."
    if reason == "withdrawn":
        return f"Giới thiệu số {number} đã rút, không sửa được nữa."
    if reason == "self":
        return (
            f"Thông tin của giới thiệu số {number} do chính thanh niên tự ghi khi đăng ký, "
            "nên đồng chí không sửa được. Nếu có sai, đồng chí báo bí thư chi đoàn "
            "hoặc chi hội trưởng."
        )
    return correct_unknown(number)


def correct_which(number: int, name: str, birth: str, phone: str | None, org: Org) -> str:
    return (
        f"Giới thiệu số {number}: {name}, sinh {birth}, điện thoại {phone or NO_PHONE}, "
        f"vào {ORG_SHORT[org]}.\nĐồng chí muốn sửa thông tin nào?\n{CANCEL_HINT}"
    )


def correct_confirm(number: int, field: str, old: str, new: str) -> str:
    return (
        f"Sửa giới thiệu số {number}:\n• {CORRECT_FIELD[field]}: {old} → {new}\nĐồng chí xác nhận?"
    )


def corrected(number: int, name: str) -> str:
    return f"Đã sửa giới thiệu số {number} ({name}). ✅"


# --- issue 9: the report's moves sheet (Chuyển sinh hoạt) ---

SHEET_MOVES = "Chuyển sinh hoạt"
MOVES_HEADERS = ["STT", "Ngày chuyển", "Họ và tên", "Từ đơn vị", "Đến đơn vị"]
MOVES_NOBODY = "Không có đoàn viên, hội viên nào chuyển sinh hoạt trong kỳ."


def moves_title(unit_names: list[str], label: str) -> str:
    return f"Đoàn viên, hội viên chuyển sinh hoạt {period_name(label)} – {' và '.join(unit_names)}"
