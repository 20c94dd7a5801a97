"""The texts a vehicle's terminal shows (and reads aloud) when one of its violations
opens: one short Chinese sentence a kind, as the safety office words its reminders."""
from __future__ import annotations

DEFAULT_REMIND_KINDS = ("speeding", "illegal_parking", "no_stopping", "restricted_road", "fatigue_driving")

TEXTS = {
    "speeding": "您已超速，请减速慢行",
    "illegal_parking": "您已违规停车，请驶离并到指定地点停放",
    "no_stopping": "此处禁止停车，请立即驶离",
    "restricted_road": "您已驶入危险货物运输车辆限行路段，请按规定线路行驶",
    "fatigue_driving": "您已疲劳驾驶，请就近安全停车休息",
    "night_driving": "凌晨2时至5时禁止危险货物运输车辆通行，请就近安全停车",
    "route_deviation": "您已偏离运单线路，请按规定线路行驶",
    "offline": "车载终端信号中断，请检查定位设备",
    "terminal_fault": "车载终端故障，请尽快检修",
    "active_safety": "请注意安全驾驶",
}
GENERIC = "您有一条违规记录，请注意安全驾驶"


def reminder_text(kind: str) -> str:
    return TEXTS.get(kind, GENERIC)
