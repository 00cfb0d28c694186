"""Fill a database with a realistic synthetic "1+1" campaign: a unit tree, members, referrals.

The database is created by `storage.db.Database`, so the schema and the migrations are the real
ones; the rows are bulk-inserted with executemany in a few big transactions and the counters of
/stats (table unit_stats) are filled by one `counters.rebuild()` at the end.

Shapes (chosen from --units unless --shape is given):
- national (from 20,000 units): Trung ương Đoàn → 63 Tỉnh đoàn / Thành đoàn → about one unit in
  eight an Đoàn xã / phường / đoàn cơ sở (or a Hội LHTN xã) → the rest chi đoàn / chi hội;
- province: Tỉnh đoàn → about one unit in fifteen a commune-level unit → the rest branches.

    python bench/gendemo.py --units 1500 --members 60000 --referrals 20000 --out /tmp/p.db
    python bench/gendemo.py --units 80000 --members 6300000 --referrals 2000000 --out /tmp/n.db
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import json
import random
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402

from storage import counters  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.validation import name_key  # noqa: E402

NATIONAL_FROM = 20_000  # units; below this the tree is one province
CHUNK = 100_000  # rows per executemany
UTC_OFFSET = 7 * 3600  # Asia/Ho_Chi_Minh has no daylight saving time
FIRST_USER_REF = 100_000_000

# --- Vietnamese names ------------------------------------------------------------------------

# Before the 2025 merger (the level sizes of the brief): 5 centrally-run cities, 58 provinces.
CITIES = ["Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ"]
PROVINCES = [
    "An Giang", "Bà Rịa – Vũng Tàu", "Bắc Giang", "Bắc Kạn", "Bạc Liêu", "Bắc Ninh", "Bến Tre",
    "Bình Định", "Bình Dương", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng", "Đắk Lắk",
    "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang", "Hà Nam", "Hà Tĩnh",
    "Hải Dương", "Hậu Giang", "Hòa Bình", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum",
    "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An", "Nam Định", "Nghệ An", "Ninh Bình",
    "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam", "Quảng Ngãi", "Quảng Ninh",
    "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh", "Thái Bình", "Thái Nguyên", "Thanh Hóa",
    "Thừa Thiên Huế", "Tiền Giang", "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
]  # fmt: skip
PLACES = [
    "An Bình", "An Hòa", "An Khánh", "An Lạc", "An Phú", "An Thạnh", "Bình An", "Bình Chánh",
    "Bình Hòa", "Bình Minh", "Bình Thạnh", "Đông Hòa", "Đông Hưng", "Đồng Tâm", "Đức Hòa",
    "Hòa Bình", "Hòa Hiệp", "Hòa Lạc", "Hòa Phú", "Hưng Đạo", "Hưng Phú", "Hiệp Hòa", "Long Hưng",
    "Long Phước", "Long Thạnh", "Mỹ An", "Mỹ Hòa", "Mỹ Lợi", "Mỹ Phước", "Nghĩa Hưng", "Nhơn Hòa",
    "Phong Phú", "Phú An", "Phú Cường", "Phú Hòa", "Phú Lộc", "Phú Lợi", "Phú Mỹ", "Phú Thạnh",
    "Phú Xuân", "Phước Hòa", "Phước Long", "Quang Trung", "Quảng Thành", "Tam Hiệp", "Tân An",
    "Tân Bình", "Tân Hiệp", "Tân Hòa", "Tân Hưng", "Tân Lập", "Tân Phong", "Tân Phú", "Tân Thành",
    "Tân Tiến", "Thạnh Phú", "Thanh Sơn", "Thống Nhất", "Thuận An", "Thuận Hòa", "Tiên Phong",
    "Trung Hòa", "Trường Xuân", "Vĩnh Hòa", "Vĩnh Lợi", "Vĩnh Phú", "Vĩnh Thạnh", "Xuân Hòa",
    "Xuân Phú", "Yên Bình", "Yên Lạc", "Đại Đồng", "Đồng Xuân", "Kim Sơn", "Lê Lợi", "Sơn Thủy",
]  # fmt: skip
SCHOOLS = [
    "Nguyễn Du", "Lê Quý Đôn", "Trần Phú", "Nguyễn Trãi", "Chu Văn An", "Lê Hồng Phong",
    "Nguyễn Thị Minh Khai", "Phan Bội Châu", "Trần Hưng Đạo", "Lý Thường Kiệt", "Nguyễn Huệ",
    "Võ Thị Sáu", "Hai Bà Trưng", "Lương Thế Vinh", "Phan Chu Trinh", "Ngô Quyền", "Hùng Vương",
    "Nguyễn Bỉnh Khiêm", "Trần Quốc Tuấn", "Nguyễn Đình Chiểu",
]  # fmt: skip
WORKPLACES = [
    "Công ty Điện lực", "Bệnh viện Đa khoa", "Công ty Cổ phần May", "Khu công nghiệp",
    "Trung tâm Y tế", "Công an", "Ban Chỉ huy Quân sự", "Công ty Cấp nước", "Khối cơ quan",
]  # fmt: skip

# Family names with their approximate share of the population (Nguyễn about 38 %).
FAMILY = {
    "Nguyễn": 38.0, "Trần": 11.0, "Lê": 9.5, "Phạm": 7.1, "Hoàng": 4.0, "Huỳnh": 3.1,
    "Phan": 4.5, "Vũ": 2.4, "Võ": 2.5, "Đặng": 2.1, "Bùi": 2.0, "Đỗ": 1.4, "Hồ": 1.3,
    "Ngô": 1.3, "Dương": 1.0, "Lý": 0.5, "Đinh": 0.5, "Trương": 0.5, "Mai": 0.4, "Lương": 0.3,
    "Đào": 0.4, "Cao": 0.3, "Hà": 0.3, "Lâm": 0.3, "Tạ": 0.2, "Chu": 0.2,
}  # fmt: skip
MIDDLE_MALE = {
    "Văn": 30, "Minh": 12, "Đức": 10, "Hữu": 8, "Quang": 8, "Quốc": 6, "Thanh": 6, "Công": 6,
    "Xuân": 4, "Gia": 4, "Ngọc": 3, "Anh": 3, "Hoàng": 3, "Trọng": 3, "Tuấn": 2,
}  # fmt: skip
MIDDLE_FEMALE = {
    "Thị": 36, "Ngọc": 12, "Thu": 8, "Thanh": 8, "Minh": 6, "Kim": 6, "Mỹ": 5, "Phương": 5,
    "Bảo": 4, "Hoài": 3, "Khánh": 3, "Thùy": 3, "Hồng": 3, "Diệu": 2,
}  # fmt: skip
GIVEN_MALE = [
    "An", "Anh", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Hải", "Hiếu", "Hoàng",
    "Hòa", "Hoà", "Huy", "Hùng", "Khang", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Lộc", "Minh",
    "Nam", "Nghĩa", "Nhân", "Phát", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Tâm",
    "Thắng", "Thành", "Thịnh", "Tiến", "Toàn", "Trí", "Trung", "Tú", "Tuấn", "Tùng", "Việt",
    "Vinh", "Vũ", "Thụy", "Khải",
]  # fmt: skip
GIVEN_FEMALE = [
    "An", "Anh", "Châu", "Chi", "Diệp", "Dung", "Duyên", "Giang", "Hà", "Hân", "Hạnh", "Hằng",
    "Hiền", "Hoa", "Hồng", "Huyền", "Hương", "Lan", "Linh", "Loan", "Ly", "Mai", "My", "Nga",
    "Ngân", "Ngọc", "Nhi", "Nhung", "Oanh", "Phương", "Quyên", "Quỳnh", "Tâm", "Thảo", "Thoa",
    "Thu", "Thủy", "Thuỷ", "Trang", "Trâm", "Trinh", "Tuyết", "Uyên", "Vân", "Vy", "Xuân", "Yến",
    "Hoà", "Hòa", "Ánh",
]  # fmt: skip
# Ethnic-minority names keep their own shape (Ê Đê, Gia Rai, Thái, Hmông…): about 2 %.
MINORITY = [
    "H'Hen Niê", "Ksor H'Bia", "Y Moan Êban", "Lò Văn Pọm", "Hầu A Lử", "Rơ Châm Phiang",
    "Nay H'Lan", "Siu Thu", "Lầu Thị Mỷ", "Vàng A Sình", "Kpă Y Blứ", "Hà Thị Khiết",
]  # fmt: skip

DECLINE_REASONS = [None, None, "Chưa đủ tuổi", "Chuyển nơi cư trú", "Không liên hệ được"]
# Tháng Thanh niên (March) and the autumn school term bring more introductions; Tết fewer.
MONTH_WEIGHTS = [0.8, 0.6, 1.6, 1.1, 1.0, 1.0, 0.9, 0.9, 1.2, 1.1, 1.0, 1.1]


class NameMaker:
    """Full names drawn from the weighted pools, fast: a few list lookups per name."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.family = _expand(FAMILY, 2000)
        self.middle = (_expand(MIDDLE_MALE, 500), _expand(MIDDLE_FEMALE, 500))
        self.given = (GIVEN_MALE, GIVEN_FEMALE)

    def batch(self, k: int) -> list[str]:
        rnd = self.rng.random
        family, middle, given = self.family, self.middle, self.given
        nf = len(family)
        out = []
        for _ in range(k):
            r = rnd()
            if r < 0.02:
                out.append(MINORITY[int(r * 50 * len(MINORITY))])
                continue
            sex = 1 if r < 0.51 else 0
            mids, givens = middle[sex], given[sex]
            x = rnd()
            out.append(
                f"{family[int(x * nf)]} {mids[int(rnd() * len(mids))]} "
                f"{givens[int(rnd() * len(givens))]}"
            )
        return out


def _expand(weights: dict[str, float], size: int) -> list[str]:
    """A list in which each name appears in proportion to its weight (for O(1) draws)."""
    total = sum(weights.values())
    out: list[str] = []
    for name, w in weights.items():
        out.extend([name] * max(1, round(size * w / total)))
    return out


# --- the tree --------------------------------------------------------------------------------


@dataclass
class Tree:
    """Units in id order (parents first). The Hội units hang under the same root as the Đoàn
    ones, so the root's /stats covers everything."""

    rows: list[tuple[int, str, str, int | None, str]] = field(default_factory=list)
    org: list[str] = field(default_factory=lambda: [""])  # by id; index 0 unused
    leaves: list[int] = field(default_factory=list)
    shape: str = "province"

    def add(self, code: str, name: str, parent: int | None, org: str) -> int:
        unit_id = len(self.rows) + 1
        self.rows.append((unit_id, code, name, parent, org))
        self.org.append(org)
        return unit_id


class _Names:
    """Unit names unique among siblings: a repeated name gets " 2", " 3"…"""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, str], int] = {}

    def __call__(self, parent: int, base: str) -> str:
        n = self.seen.get((parent, base), 0) + 1
        self.seen[(parent, base)] = n
        return base if n == 1 else f"{base} {n}"


def _split(rng: random.Random, total: int, parents: int, sigma: float) -> list[int]:
    """Share `total` children among `parents`: at least one each when possible, skewed."""
    if parents <= 0:
        return []
    counts = [1 if total >= parents else 0] * parents
    rest = total - sum(counts)
    if rest > 0:
        weights = [rng.lognormvariate(0, sigma) for _ in range(parents)]
        for i in rng.choices(range(parents), weights=weights, k=rest):
            counts[i] += 1
    return counts


def build_tree(rng: random.Random, units: int, shape: str | None = None) -> Tree:
    shape = shape or ("national" if units >= NATIONAL_FROM else "province")
    tree = Tree(shape=shape)
    unique = _Names()
    if shape == "national":
        root = tree.add("TW", "Trung ương Đoàn TNCS Hồ Chí Minh", None, "doan")
        n_prov = max(1, min(63, (units - 1) // 100))
        n_comm = max(n_prov, round(units / 8))
        n_comm = min(n_comm, units - 1 - n_prov)
        provinces = []
        names = CITIES + PROVINCES
        for i in range(n_prov):
            place = names[i] if i < len(names) else f"{names[i % len(names)]} {i // len(names)}"
            kind = "Thành đoàn" if place in CITIES else "Tỉnh đoàn"
            provinces.append(tree.add(f"P{i + 1:02d}", f"{kind} {place}", root, "doan"))
        per_province = _split(rng, n_comm, n_prov, 0.6)
        communes: list[tuple[int, str]] = []
        for prov, n in zip(provinces, per_province, strict=True):
            code = tree.rows[prov - 1][1]
            for k in range(n):
                communes.append(_commune(rng, tree, unique, prov, f"{code}-C{k + 1:04d}"))
    else:
        root = tree.add("TINH", "Tỉnh đoàn Bình An", None, "doan")
        n_comm = min(max(1, round(units / 15)), max(units - 1, 0))
        communes = [_commune(rng, tree, unique, root, f"C{k + 1:04d}") for k in range(n_comm)]
    n_branch = units - len(tree.rows)
    for (commune, kind), n in zip(communes, _split(rng, n_branch, len(communes), 0.5), strict=True):
        code = tree.rows[commune - 1][1]
        org = tree.org[commune]
        for k in range(n):
            tree.add(f"{code}-B{k + 1:03d}", unique(commune, _branch(rng, kind, k)), commune, org)
    has_child = {parent for _, _, _, parent, _ in tree.rows if parent is not None}
    tree.leaves = [row[0] for row in tree.rows if row[0] not in has_child]
    return tree


def _commune(
    rng: random.Random, tree: Tree, unique: _Names, parent: int, code: str
) -> tuple[int, str]:
    """A commune-level unit (Đoàn xã / phường, đoàn cơ sở, or a Hội LHTN xã) and its kind."""
    r = rng.random()
    place = rng.choice(PLACES)
    org = "doan"
    if r < 0.55:
        kind, base = "xa", f"Đoàn xã {place}"
    elif r < 0.73:
        kind, base = "phuong", f"Đoàn phường {place}"
    elif r < 0.82:
        kind, base = "truong", f"Đoàn trường THPT {rng.choice(SCHOOLS)}"
    elif r < 0.88:
        kind, base = "coquan", f"Đoàn cơ sở {rng.choice(WORKPLACES)} {place}"
    else:
        kind, base, org = "hoi", f"Hội LHTN xã {place}", "hoi"
    return tree.add(code, unique(parent, base), parent, org), kind


def _branch(rng: random.Random, kind: str, k: int) -> str:
    n = k + 1
    if kind == "xa":
        r = rng.random()
        if r < 0.5:
            return f"Chi đoàn thôn {n}"
        return f"Chi đoàn {'ấp' if r < 0.8 else 'thôn'} {rng.choice(PLACES)}"
    if kind == "phuong":
        return f"Chi đoàn {'khu phố' if k % 3 else 'tổ dân phố'} {n}"
    if kind == "truong":
        return "Chi đoàn giáo viên" if k == 0 else f"Chi đoàn lớp {10 + k % 3}A{(k - 1) // 3 + 1}"
    if kind == "coquan":
        return f"Chi đoàn {'phân xưởng' if k % 2 else 'phòng'} {n}"
    return f"Chi hội {'thôn' if k % 2 else 'ấp'} {n}"


# --- time ------------------------------------------------------------------------------------


class Calendar:
    """Local seconds since 1 January 00:00 (UTC+7) → the texts the database stores."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.days = 366 if calendar.isleap(year) else 365
        first = date(year, 1, 1)
        # index d + 1 is day d of the year; index 0 is 31 December of the year before
        self.day_text = [(first + timedelta(days=d)).isoformat() for d in range(-1, self.days)]
        self.end = self.days * 86400

    def on(self, local_second: int) -> str:
        """The local date."""
        return self.day_text[local_second // 86400 + 1]

    def utc(self, local_second: int) -> str:
        """The UTC ISO-8601 text, as storage.clock.to_db writes it."""
        s = local_second - UTC_OFFSET
        day, rest = divmod(s, 86400)
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        return f"{self.day_text[day + 1]}T{hour:02d}:{minute:02d}:{second:02d}+00:00"

    def day_weights(self) -> list[float]:
        return [
            MONTH_WEIGHTS[(date(self.year, 1, 1) + timedelta(days=d)).month - 1]
            for d in range(self.days)
        ]


# --- rows ------------------------------------------------------------------------------------

_MEMBER_SQL = """INSERT INTO members (id, channel, user_ref, unit_id, full_name, membership,
                     phone, registered_at) VALUES (?, 'telegram', ?, ?, ?, ?, ?, ?)"""
_REFERRAL_SQL = """INSERT INTO referrals (id, member_id, unit_id, full_name, name_key, birth_date,
                       birth_year, phone, org, guardian_consent, status, introduced_at,
                       admitted_on, decided_at, decided_by, introduced_on, decided_on)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_AUDIT_SQL = """INSERT INTO referral_audit (referral_id, at, actor_id, action, before, after,
                    reason) VALUES (?, ?, ?, ?, ?, ?, ?)"""
_BEFORE = json.dumps({"status": "introduced", "admitted_on": None})
_AFTER_DECLINED = json.dumps({"status": "declined", "admitted_on": None})
_AFTER_WITHDRAWN = json.dumps({"status": "withdrawn", "admitted_on": None})
STATUSES = ["admitted", "declined", "withdrawn", "introduced"]
STATUS_CUM = [55, 70, 75, 100]  # ≈ 55 % admitted, 15 % declined, 5 % withdrawn, 25 % pending
AGES = list(range(16, 31))
AGE_CUM = list(accumulate([4, 9, 12, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1.5]))
POOL = 1 << 17  # distinct draws kept for names and registration times


class Phones:
    """Valid mobile numbers (0[35789] + 8 digits), never the same one twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0

    def next(self) -> str:
        self.serial += 1
        return f"0{'35789'[int(self.rng.random() * 5)]}{(self.serial * 7_919 + 12_345) % 10**8:08d}"


@dataclass
class People:
    """What the referrals need to know about the members generated before them."""

    unit_of: array[int]  # member id -> unit id (index 0 unused)
    leader: dict[int, int]  # unit -> its first member: decides referrals, sets the target
    per_unit: Counter[int]


def member_chunks(
    rng: random.Random, tree: Tree, cal: Calendar, names: list[str], phones: Phones, n: int
) -> tuple[People, Iterator[list[tuple[Any, ...]]]]:
    """Members spread over the branches, some branches much bigger than others."""
    people = People(array("i", [0]), {}, Counter())
    leaves = tree.leaves
    cum = list(accumulate(rng.lognormvariate(0, 0.6) for _ in leaves))
    # Most members join when the campaign starts, a few all through the year.
    joined = [cal.utc(int(rng.random() ** 4 * (cal.end - 1))) for _ in range(POOL // 4)]

    def chunks() -> Iterator[list[tuple[Any, ...]]]:
        rnd = rng.random
        org = tree.org
        for start in range(0, n, CHUNK):
            k = min(CHUNK, n - start)
            first = start + 1
            where = rng.choices(leaves, cum_weights=cum, k=k)
            people.unit_of.extend(where)
            people.per_unit.update(where)
            leader = people.leader
            for j, unit in enumerate(where):
                if unit not in leader:
                    leader[unit] = first + j
            ids = range(first, first + k)
            rows = list(
                zip(
                    ids,
                    [str(FIRST_USER_REF + 3 * i + (i * 7 + 1) % 3) for i in ids],
                    where,
                    rng.choices(names, k=k),
                    [org[u] for u in where],
                    [phones.next() if rnd() < 0.3 else None for _ in ids],
                    rng.choices(joined, k=k),
                    strict=True,
                )
            )
            yield rows

    return people, chunks()


def referral_chunks(
    rng: random.Random,
    tree: Tree,
    cal: Calendar,
    names: list[str],
    keys: dict[str, str],
    phones: Phones,
    people: People,
    n: int,
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(referrals, audit rows), in the order the youths were introduced: ids follow time."""
    members = len(people.unit_of) - 1
    year = cal.year
    days = rng.choices(range(cal.days), cum_weights=list(accumulate(cal.day_weights())), k=n)
    moments = sorted(d * 86400 + rng.randrange(6 * 3600, 23 * 3600) for d in days)
    del days
    rnd = rng.random
    unit_of, leader, org_of = people.unit_of, people.leader, tree.org
    last = cal.end - 1
    mean_wait = 16 * 86400  # a decision comes about two weeks after the introduction
    for start in range(0, n, CHUNK):
        k = min(CHUNK, n - start)
        full = rng.choices(names, k=k)
        ages = rng.choices(AGES, cum_weights=AGE_CUM, k=k)
        statuses = rng.choices(STATUSES, cum_weights=STATUS_CUM, k=k)
        rows: list[tuple[Any, ...]] = []
        audit: list[tuple[Any, ...]] = []
        for j in range(k):
            rid = start + j + 1
            t = moments[start + j]
            member = int(rnd() * members) + 1
            unit = unit_of[member]
            name = full[j]
            age = ages[j]
            birth_year = year - age
            birth_date = (
                f"{birth_year}-{int(rnd() * 12) + 1:02d}-{int(rnd() * 28) + 1:02d}"
                if rnd() < 0.6
                else None
            )
            org = "hoi" if rnd() < (0.75 if org_of[unit] == "hoi" else 0.2) else "doan"
            status = statuses[j]
            admitted_on = decided_at = decided_by = decided_on = None
            if status == "admitted" or status == "declined":
                when = min(t + 3600 + int(rng.expovariate(1 / mean_wait)), last)
                decided_at, decided_on, decided_by = cal.utc(when), cal.on(when), leader[unit]
                if status == "admitted":
                    admitted_on = cal.on(max(t, when - int(rnd() * 3) * 86400))
                    after = f'{{"status": "admitted", "admitted_on": "{admitted_on}"}}'
                    audit.append((rid, decided_at, decided_by, "admit", _BEFORE, after, None))
                else:
                    reason = DECLINE_REASONS[int(rnd() * len(DECLINE_REASONS))]
                    audit.append(
                        (rid, decided_at, decided_by, "decline", _BEFORE, _AFTER_DECLINED, reason)
                    )
            elif status == "withdrawn":
                when = min(t + 600 + int(rnd() * 7 * 86400), last)
                audit.append(
                    (rid, cal.utc(when), member, "withdraw", _BEFORE, _AFTER_WITHDRAWN, None)
                )
            rows.append(
                (
                    rid,
                    member,
                    unit,
                    name,
                    keys[name],
                    birth_date,
                    birth_year,
                    phones.next() if rnd() < 0.2 else None,
                    org,
                    1 if age == 16 else 0,  # may still be 15: a guardian agreed
                    status,
                    cal.utc(t),
                    admitted_on,
                    decided_at,
                    decided_by,
                    cal.on(t),
                    decided_on,
                )
            )
        yield rows, audit


def roles_and_targets(
    rng: random.Random, tree: Tree, cal: Calendar, people: People
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A leader on each branch, an admin on every unit above; targets on about a third."""
    granted = cal.utc(UTC_OFFSET + 9 * 3600)
    roles: list[tuple[Any, ...]] = []
    above: dict[int, int] = {}  # unit -> a member somewhere in its subtree
    parent_of = {row[0]: row[3] for row in tree.rows}
    for unit, member in sorted(people.leader.items()):
        roles.append((member, unit, "leader", granted, None))
        up = parent_of[unit]
        while up is not None and up not in above:
            above[up] = member
            up = parent_of[up]
    roles.extend((member, unit, "admin", granted, None) for unit, member in sorted(above.items()))
    set_at = cal.utc(UTC_OFFSET + 20 * 86400 + 10 * 3600)
    targets = []
    for unit in tree.leaves:
        count = people.per_unit.get(unit, 0)
        if count and rng.random() < 0.33:
            value = round(count * rng.uniform(0.5, 1.2))
            targets.append((unit, cal.year, tree.org[unit], value, people.leader[unit], set_at))
    return roles, targets


# --- loading ---------------------------------------------------------------------------------

_BULK_TABLES = ("members", "referrals", "referral_audit", "roles", "targets")


async def _secondary_indexes(conn: aiosqlite.Connection) -> list[tuple[str, str]]:
    """The explicit indexes (name, SQL) of the bulk-loaded tables, as the migrations made them."""
    marks = ",".join("?" * len(_BULK_TABLES))
    sql = f"""SELECT name, sql FROM sqlite_master
              WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"""
    async with conn.execute(sql, _BULK_TABLES) as cur:
        return [(row[0], row[1]) for row in await cur.fetchall()]


async def generate(
    path: Path | str,
    *,
    units: int,
    members: int,
    referrals: int,
    seed: int = 1,
    year: int = 2026,
    shape: str | None = None,
) -> dict[str, Any]:
    """Create the database at `path` (which must not exist) and fill it; returns the counts and
    the seconds each phase took."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(path)
    if units < 1 or members < 0 or referrals < 0 or (referrals and not members):
        raise ValueError("need at least one unit, and members for any referral")
    rng = random.Random(seed)
    cal = Calendar(year)
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    tree = build_tree(rng, units, shape)
    names = NameMaker(rng).batch(POOL)
    keys = {name: name_key(name) for name in set(names)}
    phones = Phones(rng)
    lap("tree_and_names")
    audit = 0
    async with Database(path) as db:
        async with db.read() as conn:  # bulk-load settings, outside any transaction
            await conn.execute("PRAGMA journal_mode = MEMORY")
            await conn.execute("PRAGMA synchronous = OFF")
            await conn.execute("PRAGMA cache_size = -1000000")  # 1 GB
            await conn.execute("PRAGMA temp_store = MEMORY")
            await conn.execute("PRAGMA foreign_keys = OFF")  # the rows are consistent by making
            indexes = await _secondary_indexes(conn)
        # Building an index once at the end is much faster than keeping it up to date row by
        # row; the very same CREATE INDEX statements are replayed afterwards.
        async with db.write() as conn:
            for name, _ in indexes:
                await conn.execute(f'DROP INDEX "{name}"')
            await conn.executemany(
                "INSERT INTO units (id, code, name, parent_id, org) VALUES (?, ?, ?, ?, ?)",
                tree.rows,
            )
        lap("units")

        people, chunks = member_chunks(rng, tree, cal, names, phones, members)
        async with db.write() as conn:
            for rows in chunks:
                await conn.executemany(_MEMBER_SQL, rows)
        lap("members")

        if referrals:
            async with db.write() as conn:
                for rows, audit_rows in referral_chunks(
                    rng, tree, cal, names, keys, phones, people, referrals
                ):
                    await conn.executemany(_REFERRAL_SQL, rows)
                    await conn.executemany(_AUDIT_SQL, audit_rows)
                    audit += len(audit_rows)
        lap("referrals")

        roles, targets = roles_and_targets(rng, tree, cal, people)
        async with db.write() as conn:
            await conn.executemany(
                """INSERT INTO roles (member_id, unit_id, role, granted_at, granted_by)
                   VALUES (?, ?, ?, ?, ?)""",
                roles,
            )
            await conn.executemany(
                """INSERT INTO targets (unit_id, year, org, value, set_by, set_at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                targets,
            )
        lap("roles_targets")

        async with db.write() as conn:
            for _, sql in indexes:
                await conn.execute(sql)
        lap("indexes")

        async with db.write() as conn:
            await counters.rebuild(conn)
        lap("counters")

        async with db.read() as conn:  # back to the settings Database.open() chose
            await conn.execute("PRAGMA cache_size = -2000")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = FULL")
        lap("finish")
    timings["total"] = round(time.perf_counter() - started, 2)
    return {
        "path": str(path),
        "shape": tree.shape,
        "root": 1,
        "units": len(tree.rows),
        "leaves": len(tree.leaves),
        "members": members,
        "referrals": referrals,
        "audit": audit,
        "roles": len(roles),
        "targets": len(targets),
        "seconds": timings,
        "bytes": path.stat().st_size,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, required=True)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--referrals", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the database file to create")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--shape", choices=["province", "national"], default=None)
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    if args.out.exists():
        if not args.force:
            parser.error(f"{args.out} exists (use --force to replace it)")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.out}{suffix}").unlink(missing_ok=True)
    result = asyncio.run(
        generate(
            args.out,
            units=args.units,
            members=args.members,
            referrals=args.referrals,
            seed=args.seed,
            year=args.year,
            shape=args.shape,
        )
    )
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
