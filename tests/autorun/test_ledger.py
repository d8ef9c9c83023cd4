"""handled_topics.json: round trip, the old plain form, corrupt files, atomicity, reset, modes."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from polymaker.autorun.ledger import Ledger, reset_ledger_file
from polymaker.autorun.states import TopicState, TransitionError
from polymaker.errors import StateFileError

S = TopicState
LATER = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def path(tmp_path):
    return tmp_path / "data" / "handled_topics.json"


def _ledger(path, mode="drill") -> Ledger:
    return Ledger.load(path, mode, clock=FakeClock())


def test_missing_file_is_an_empty_ledger_and_is_not_created(path):
    ledger = _ledger(path)
    assert ledger.entries() == {} and ledger.queue == ()
    assert not path.exists()


def test_round_trip_keeps_every_field(path):
    ledger = _ledger(path)
    ledger.enqueue("a", reason="screened", condition_id="0xabc")
    ledger.transition("a", S.STARTING, reason="slot free")
    ledger.transition("a", S.BACKOFF, reason="exit code 1", exit_code=1, next_start_at=LATER)
    again = Ledger.load(path, "drill")
    assert again.entries() == ledger.entries()
    entry = again.get("a")
    assert entry.condition_id == "0xabc"
    assert entry.next_start_at == LATER
    assert [(r.old, r.new) for r in entry.history] == [
        (None, S.QUEUED),
        (S.QUEUED, S.STARTING),
        (S.STARTING, S.BACKOFF),
    ]
    document = json.loads(path.read_text())
    assert document["version"] == 2
    assert document["updated_at"].endswith("Z")
    assert document["modes"]["drill"]["topics"]["a"]["first_seen"] == "2026-12-03T12:00:01Z"


def test_queue_order_survives_a_restart(path):
    ledger = _ledger(path)
    for topic in ("c", "a", "b"):
        ledger.enqueue(topic, reason="screened")
    ledger.transition("a", S.STARTING, reason="slot free")
    ledger.enqueue("d", reason="screened")
    assert Ledger.load(path, "drill").queue == ("c", "b", "d")


def test_old_plain_form_counts_as_handled_and_is_kept_on_write(path):
    path.parent.mkdir(parents=True)
    plain = {"updated_at": "2025-11-01T00:00:00Z", "total": 2, "topics": ["old-a", "old-b"]}
    path.write_text(json.dumps(plain))
    ledger = _ledger(path)
    assert ledger.is_handled("old-a")
    assert not ledger.is_new("old-a", ignore_history=False)
    assert ledger.is_new("fresh", ignore_history=False)
    ledger.enqueue("fresh", reason="screened")
    again = Ledger.load(path, "live")  # plain-form ids count in every mode
    assert again.is_handled("old-b") and not again.is_handled("fresh")


def test_plain_form_with_handled_topics_key_is_read(path):
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"handled_topics": ["x"]}))
    assert _ledger(path).is_handled("x")


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2]",
        '{"topics": "a,b"}',
        '{"topics": [1, 2]}',
        '{"version": 3, "modes": {}}',
        '{"version": 2, "modes": {"prod": {}}}',
        '{"version": 2, "modes": {"drill": {"topics": {"a": {"state": "zombie"}}}}}',
        '{"version": 2, "modes": {"drill": {"queue": ["ghost"], "topics": {}}}}',
    ],
)
def test_corrupt_ledger_raises_naming_the_file_and_is_left_untouched(path, text):
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(StateFileError) as info:
        Ledger.load(path, "drill")
    assert str(path) in str(info.value)
    assert path.read_text() == text
    assert list(path.parent.iterdir()) == [path]


def test_every_change_is_written_by_rename(path):
    ledger = _ledger(path)
    ledger.enqueue("a", reason="screened")
    inode = os.stat(path).st_ino
    ledger.transition("a", S.STARTING, reason="slot free")
    assert os.stat(path).st_ino != inode  # replaced, not rewritten in place
    assert Ledger.load(path, "drill").get("a").state is S.STARTING


def test_a_failed_write_leaves_the_old_file_whole(path, monkeypatch):
    ledger = _ledger(path)
    ledger.enqueue("a", reason="screened")
    before = path.read_bytes()

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        ledger.transition("a", S.STARTING, reason="slot free")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_modes_never_mix(path):
    drill = _ledger(path, "drill")
    drill.enqueue("sim-market", reason="screened")
    live = _ledger(path, "live")
    assert live.get("sim-market") is None and live.is_new("sim-market", ignore_history=False)
    live.enqueue("real-market", reason="screened")
    drill_again = Ledger.load(path, "drill")
    assert set(drill_again.entries()) == {"sim-market"}
    assert set(Ledger.load(path, "live").entries()) == {"real-market"}


def test_another_modes_section_is_kept_as_found(path):
    drill = _ledger(path, "drill")
    drill.enqueue("a", reason="screened")
    section = json.loads(path.read_text())["modes"]["drill"]
    paper = _ledger(path, "paper")
    paper.enqueue("b", reason="screened")
    assert json.loads(path.read_text())["modes"]["drill"] == section


def test_is_new_honours_ignore_history_for_earlier_runs_only(path):
    first = _ledger(path)
    for topic in ("done", "broken", "stopped"):
        first.enqueue(topic, reason="screened")
        first.transition(topic, S.STARTING, reason="slot free")
    first.transition("done", S.FINISHED, reason="exit 0", exit_code=0)
    first.transition("broken", S.FAILED, reason="exit 2", exit_code=2)
    first.transition("stopped", S.STOPPING, reason="user")
    first.transition("stopped", S.STOPPED, reason="user", exit_code=0)
    assert not first.is_new("done", ignore_history=True)  # this run's own: no loop
    second = Ledger.load(path, "drill")
    assert second.is_new("done", ignore_history=True)
    assert second.is_new("broken", ignore_history=True)
    assert not second.is_new("stopped", ignore_history=True)  # a user stop sticks
    assert not second.is_new("done", ignore_history=False)
    second.enqueue("done", reason="ignore_history")
    second.transition("done", S.STARTING, reason="slot free")
    second.transition("done", S.FINISHED, reason="exit 0", exit_code=0)
    assert not second.is_new("done", ignore_history=True)
    assert second.get("done").starts == 2


def test_clear_attempts(path):
    ledger = _ledger(path)
    ledger.enqueue("a", reason="screened")
    ledger.transition("a", S.STARTING, reason="slot free")
    ledger.transition("a", S.BACKOFF, reason="exit 1", exit_code=1, next_start_at=LATER)
    ledger.transition("a", S.STARTING, reason="backoff over")
    ledger.transition("a", S.RUNNING, reason="heartbeat")
    assert ledger.clear_attempts("a").attempts == 0
    assert Ledger.load(path, "drill").get("a").attempts == 0


def test_reset_history_keeps_a_backup_and_keeps_live_topics(path):
    clock = FakeClock()
    ledger = Ledger.load(path, "drill", clock=clock)
    for topic in ("done", "running", "waiting"):
        ledger.enqueue(topic, reason="screened")
    for topic in ("done", "running"):
        ledger.transition(topic, S.STARTING, reason="slot free")
    ledger.transition("done", S.FINISHED, reason="exit 0", exit_code=0)
    before = path.read_bytes()
    backup = ledger.reset_history()
    assert backup == path.with_name(f"handled_topics.json.bak-{clock.now:%Y%m%dT%H%M%SZ}")
    assert backup.read_bytes() == before
    assert backup.name.startswith("handled_topics.json.bak-2026")
    assert set(ledger.entries()) == {"running", "waiting"}
    assert ledger.queue == ("waiting",)
    assert ledger.is_new("done", ignore_history=False)
    assert set(Ledger.load(path, "drill").entries()) == {"running", "waiting"}


def test_two_resets_in_one_second_keep_both_backups(path):
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"topics": ["old"]}))
    clock = lambda: datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # noqa: E731
    first = reset_ledger_file(path, clock=clock)
    second = reset_ledger_file(path, clock=clock)
    assert first != second and second.name.endswith("Z-2")
    assert json.loads(first.read_text()) == {"topics": ["old"]}


def test_reset_of_the_plain_form_drops_its_ids(path):
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"topics": ["old"]}))
    backup = reset_ledger_file(path)
    assert json.loads(backup.read_text()) == {"topics": ["old"]}
    assert not Ledger.load(path, "drill").is_handled("old")


def test_reset_without_a_file_makes_no_backup(path):
    assert reset_ledger_file(path) is None
    assert not path.exists()


def test_reset_refuses_a_corrupt_file(path):
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    with pytest.raises(StateFileError):
        reset_ledger_file(path)
    assert path.read_text() == "{oops"
    assert list(path.parent.iterdir()) == [path]


def test_enqueue_of_an_active_topic_is_refused(path):
    ledger = _ledger(path)
    ledger.enqueue("a", reason="screened")
    with pytest.raises(TransitionError, match="queued -> queued"):
        ledger.enqueue("a", reason="screened again")
    assert ledger.queue == ("a",)


def test_what_a_sweep_left_is_recorded_as_decimal_string_and_survives_a_restart(path):
    ledger = _ledger(path)
    ledger.enqueue("a", reason="screened")
    assert ledger.get("a").position_left is None and ledger.get("a").open_orders_left is None
    ledger.record_left("a", position=Decimal("12.50"), open_orders=0)
    stored = json.loads(path.read_text())["modes"]["drill"]["topics"]["a"]
    assert stored["position_left"] == "12.50" and stored["open_orders_left"] == 0
    again = Ledger.load(path, "drill").get("a")
    assert again.position_left == Decimal("12.50") and again.open_orders_left == 0
    ledger.record_left("a", position=None, open_orders=None)  # a failed sweep: unknown
    assert Ledger.load(path, "drill").get("a").position_left is None


def test_an_entry_written_before_the_sweep_fields_existed_is_read(path):
    ledger = _ledger(path)
    ledger.enqueue("a", reason="screened")
    document = json.loads(path.read_text())
    entry = document["modes"]["drill"]["topics"]["a"]
    del entry["position_left"], entry["open_orders_left"]
    path.write_text(json.dumps(document))
    old = Ledger.load(path, "drill").get("a")
    assert old.position_left is None and old.open_orders_left is None


def test_a_resumed_topic_goes_to_the_front_of_the_queue(path):
    ledger = _ledger(path)
    for topic in ("a", "b", "c"):
        ledger.enqueue(topic, reason="screened")
    ledger.transition("c", S.STARTING, reason="slot free")
    ledger.transition("c", S.QUEUED, reason="resumed", front=True)
    assert ledger.queue == ("c", "a", "b")
    ledger.enqueue("d", reason="resumed", front=True)
    ledger.enqueue("e", reason="screened")
    assert ledger.queue == ("d", "c", "a", "b", "e")
    assert Ledger.load(path, "drill").queue == ("d", "c", "a", "b", "e")
