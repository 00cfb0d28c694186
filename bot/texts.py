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

# --- commands shown in Telegram's menu (setMyCommands) ---------------------------------------

COMMANDS = [
    ("start", "Bắt đầu, ghi danh vào chi đoàn"),
    ("gioithieu", "Ghi tên thanh niên đồng chí giới thiệu"),
    ("cuatoi", "Xem kết quả 1+1 của tôi"),
    ("help", "Hướng dẫn sử dụng"),
    ("huy", "Hủy việc đang làm dở"),
]

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
HELP = (
    'Phong trào "1+1": mỗi đoàn viên, hội viên giới thiệu ít nhất một thanh niên '
    "được kết nạp vào Đoàn hoặc Hội trong năm.\n\n"
    "/start – ghi danh vào chi đoàn, chi hội\n"
    "/gioithieu – ghi tên thanh niên đồng chí giới thiệu\n"
    "/cuatoi – xem kết quả 1+1 của tôi\n"
    "/huy – hủy việc đang làm dở"
)
UNKNOWN = "Tôi chưa hiểu ý đồng chí. Gõ /help để xem các lệnh."
UNKNOWN_IN_CONVERSATION = "Tôi chưa hiểu. Đồng chí trả lời câu hỏi trên, hoặc gõ /huy để hủy."
IN_PROGRESS = "Đồng chí đang làm dở một việc. Trả lời câu hỏi dưới đây, hoặc gõ /huy để hủy."
USE_BUTTONS = "Đồng chí chọn bằng các nút bên dưới nhé."
STALE_BUTTON = "Nút này đã cũ, không còn dùng được."
CANCELLED = "Đã hủy, không có gì được lưu."
NOTHING_TO_CANCEL = "Không có việc gì đang làm dở."
NOT_REGISTERED = "Đồng chí chưa ghi danh. Gõ /start để chọn chi đoàn trước nhé."
ERROR = "Xin lỗi, có lỗi xảy ra. Đồng chí thử lại sau ít phút."


def ask(question: str) -> str:
    """Every question shows its way out."""
    return f"{question}\n{CANCEL_HINT}"


# --- registration (/start) -------------------------------------------------------------------

WELCOME = (
    'Chào đồng chí! Đây là trợ lý phong trào "1+1" của Đoàn TNCS Hồ Chí Minh và Hội LHTN Việt Nam.'
)
CHOOSE_ROOT = "Đồng chí sinh hoạt ở đơn vị nào? Chọn dần từ trên xuống:"
SEARCH_HINT = "Cũng có thể gõ vài chữ trong tên chi đoàn để tìm."
SEARCH_NONE = "Không tìm thấy chi đoàn nào có tên như vậy. Thử gõ khác, hoặc chọn bằng nút."
SEARCH_RESULTS = "Các chi đoàn tìm thấy:"
NO_UNITS = "Hệ thống chưa có danh sách đơn vị. Đồng chí vui lòng báo cán bộ quản trị."
INVITE_INVALID = (
    "Đường dẫn mời này không còn hiệu lực. Đồng chí xin bí thư chi đoàn đường dẫn mới, "
    "hoặc tự chọn đơn vị."
)
ASK_MEMBER_NAME = "Họ và tên đầy đủ của đồng chí (có dấu)? Ví dụ: Nguyễn Thị Minh Anh."
ASK_MEMBERSHIP = "Đồng chí là đoàn viên hay hội viên?"
ASK_MEMBER_PHONE = (
    "Đồng chí có muốn để lại số điện thoại để chi đoàn liên hệ? "
    f"Bấm «{BTN_SHARE_PHONE}» hoặc «{BTN_SKIP}»."
)
CONTACT_NOT_OWN = f"Xin gửi số của chính đồng chí bằng nút «{BTN_SHARE_PHONE}»."
ALREADY_REGISTERED_ELSEWHERE = "Đồng chí đã ghi danh rồi, không cần ghi lại."


def choose_in(unit_name: str) -> str:
    return f"Đơn vị trực thuộc {unit_name}:"


def invited_to(unit_name: str) -> str:
    return f"Đồng chí được mời vào: {unit_name}."


def unit_chosen(unit_path: str) -> str:
    return f"Đơn vị: {unit_path}"


def registered(name: str, unit_name: str) -> str:
    return f"Đã ghi danh đồng chí {name} vào {unit_name}. ✅\n\n{MENU}"


def greeting(name: str, unit_name: str) -> str:
    return f"Chào đồng chí {name} ({unit_name})!\n\n{MENU}"


# --- referral (/gioithieu) -------------------------------------------------------------------

ASK_YOUTH_NAME = "Họ và tên đầy đủ của thanh niên đồng chí giới thiệu (có dấu)?"
ASK_BIRTH = "Ngày sinh của bạn ấy? Gõ ngày/tháng/năm, ví dụ 05/03/2008, hoặc chỉ năm sinh: 2008."
ASK_YOUTH_PHONE = f"Số điện thoại của bạn ấy? Gõ số, hoặc bấm «{BTN_SKIP}» nếu không có."
ASK_ORG = "Bạn ấy sẽ vào tổ chức nào?"
ASK_GUARDIAN = (
    "Bạn ấy có thể chưa đủ 16 tuổi. Theo luật bảo vệ dữ liệu cá nhân, cần cha mẹ hoặc "
    "người giám hộ đồng ý cho ghi thông tin. Đã có sự đồng ý chưa?"
)
GUARDIAN_MISSING = (
    "Chưa ghi thông tin khi chưa có sự đồng ý của cha mẹ hoặc người giám hộ. "
    "Khi có, đồng chí gõ /gioithieu để ghi lại."
)
DUPLICATE = (
    "Thanh niên này đã được giới thiệu trước đó nên không ghi thêm. "
    "Nếu có nhầm lẫn, đồng chí báo bí thư chi đoàn."
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
        f"Đã ghi nhận giới thiệu số {number}: {name}. Chờ chi đoàn xét kết nạp.\n"
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
    return f"Bạn ấy {age}, ngoài độ tuổi kết nạp ({ranges}). Xin kiểm tra lại ngày sinh."


def age_outside_org(age: str, org: Org, ages: AgePolicy) -> str:
    r = ages.ranges[org]
    return (
        f"Bạn ấy {age}; {ORG_NAME[org]} kết nạp thanh niên từ {r.low} đến {r.high} tuổi. "
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
    "log_level": "LOG_LEVEL",
}
_CONFIG_PROBLEMS = {
    "missing": "chưa đặt (đặt biến môi trường hoặc ghi vào tệp .env)",
    "token_shape": "không đúng dạng mã bot của BotFather (số:chuỗi ký tự)",
    "url_shape": "phải là địa chỉ http:// hoặc https://",
    "timezone_unknown": "múi giờ không có, ví dụ đúng: Asia/Ho_Chi_Minh",
    "admin_ids_shape": "phải là các số định danh Telegram cách nhau bởi dấu phẩy",
    "log_level_unknown": "chỉ nhận DEBUG, INFO, WARNING hoặc ERROR",
    "age_range_order": "tuổi tối thiểu lớn hơn tuổi tối đa",
}


def config_problem(error: dict[str, Any]) -> str:
    """One line per problem; never echoes the value (it may be the bot token)."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    name = _CONFIG_FIELDS.get(field, field.upper() or "AGE_MIN/AGE_MAX")
    message = str(error.get("msg", ""))
    code = error["type"] if error["type"] == "missing" else message.removeprefix("Value error, ")
    problem = _CONFIG_PROBLEMS.get(code)
    if problem is None:
        problem = "giá trị không hợp lệ" if field else _CONFIG_PROBLEMS.get(code, code)
    return f"Cấu hình sai: {name}: {problem}."


_CSV_PROBLEMS = {
    "csv_header": "dòng tiêu đề phải là: code,name,parent_code,org",
    "csv_columns": "cần đúng 4 cột: code,name,parent_code,org",
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


def invite_link(unit_name: str, link: str) -> str:
    return f"Đường dẫn mời vào {unit_name}:\n{link}"


def database_problem(detail: str) -> str:
    return f"Lỗi cơ sở dữ liệu: {detail}"


STARTING = "motcongmot đang chạy. Nhấn Ctrl+C để dừng."
