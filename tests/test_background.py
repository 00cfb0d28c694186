"""Heavy work (exports, charts) in the background: one per person, a bound overall, progress
when it takes long, an apology when it fails; other people are not held up."""

from __future__ import annotations

import asyncio

from bot import texts
from handlers import background
from handlers.background import HeavyWork
from handlers.chat import Reply, Text, Turn, Who


class Recorded:
    """A channel's outbox that keeps what it was given (a test double of a channel)."""

    buttons = False

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, reply: Reply) -> None:
        self.sent.append(reply.text)

    async def replace(self, reply: Reply) -> None:
        self.sent.append(reply.text)

    async def settle(self, note: str | None = None) -> None:
        pass

    async def drop_choices(self) -> None:
        pass

    async def toast(self, text: str | None = None, *, alert: bool = False) -> None:
        pass


def turn_of(user: str) -> tuple[Turn, Recorded]:
    out = Recorded()
    return Turn(Who("console", user, user), Text("/xuat"), deps=None, out=out), out  # type: ignore[arg-type]


async def test_one_per_person_a_bound_overall_and_progress(monkeypatch) -> None:
    monkeypatch.setattr(background, "TELL_EVERY", 0.0)  # tell at every step
    heavy = HeavyWork(limit=1)
    release = asyncio.Event()
    order: list[str] = []

    def work_for(name: str):
        async def work(progress):
            order.append(f"{name} starts")
            await progress(0.4)
            await release.wait()
            return Reply(f"{name} done")

        return work

    lan, lan_out = turn_of("lan")
    tu, tu_out = turn_of("tu")
    await heavy.start(lan, work_for("lan"))
    await heavy.start(tu, work_for("tu"))
    await heavy.start(lan, work_for("lan again"))
    await asyncio.sleep(0.05)
    assert lan_out.sent[0] == texts.HEAVY_STARTED
    assert sorted(lan_out.sent[1:]) == sorted([texts.heavy_progress(40), texts.HEAVY_ALREADY])
    assert order == ["lan starts"]  # one at a time overall: Tú waits for the slot
    release.set()
    await asyncio.gather(*heavy.running.values())
    assert lan_out.sent[-1] == "lan done" and tu_out.sent[-1] == "tu done"
    assert heavy.running == {}


async def test_a_failure_is_told_and_frees_the_person() -> None:
    heavy = HeavyWork()
    lan, out = turn_of("lan")

    async def broken(progress):
        raise OSError("disk full")

    await heavy.start(lan, broken)
    await asyncio.gather(*heavy.running.values())
    assert out.sent == [texts.HEAVY_STARTED, texts.ERROR]
    assert not heavy.busy(lan)


async def test_a_stop_in_the_middle_says_so() -> None:
    heavy = HeavyWork()
    lan, out = turn_of("lan")

    async def endless(progress):
        await asyncio.Event().wait()

    await heavy.start(lan, endless)
    await asyncio.sleep(0.01)
    await heavy.stop()
    assert out.sent == [texts.HEAVY_STARTED, texts.HEAVY_INTERRUPTED]
