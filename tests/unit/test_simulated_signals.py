"""The simulator's terminals now and then press SOS, lose their antenna or see fatigue:
each as the rules read it (alarm bits held for rounds, a 0x65 DSM item decoding)."""
from __future__ import annotations

from streams.alarms import alarm_names
from tracker.dev import simulate
from tracker.dev.simulate import SimulatedTerminal, Tanker
from tracker.jt808.safety import decode_safety


def test_signals_hold_their_bits_for_rounds_and_fatigue_is_a_dsm_item(monkeypatch):
    monkeypatch.setattr(simulate, "SIGNAL_P", 1.0)
    seen = {}
    for n in range(40):
        terminal = SimulatedTerminal(Tanker("浙B12345", "C1", 29.9, 121.8, 50.0, terminal_phone=f"1390000{n:04d}"),
                                     "2013", ("127.0.0.1", 1))
        flags, safety = terminal.signal(terminal.tanker, 61.4)
        if safety:
            alarm = decode_safety(0x65, safety[0x65])
            seen["fatigue"] = (alarm.as_fix_field()["type"], alarm.speed_kmh, alarm.flag)
            continue
        rounds = [flags] + [terminal.signal(terminal.tanker, 61.4)[0] for _ in range(terminal.alarm_rounds)]
        seen[alarm_names(flags)[0]] = (len(rounds), len(set(rounds)))
    assert seen == {"fatigue": ("fatigue", 61, 1), "emergency": (3, 1), "gnss_antenna_cut": (9, 1)}


def test_without_the_dice_nothing_is_signalled():
    terminal = SimulatedTerminal(Tanker("浙B12345", "C1", 29.9, 121.8, 50.0, terminal_phone="13900000001"), "2013",
                                 ("127.0.0.1", 1))
    assert sum(terminal.signal(terminal.tanker, 50.0)[0] for _ in range(200)) == 0
