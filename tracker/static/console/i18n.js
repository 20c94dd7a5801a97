// The console's words, Chinese first (?lang=en for English). Every text goes into the
// page with textContent: nothing here or from the API is ever parsed as HTML.
"use strict";

const LANG = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";

const WORDS = {
  zh: {
    title: "北仑区危化品运输车辆监管", searchPlate: "车牌号", search: "查找", kind: "报警类型", status: "车辆状态",
    carrier: "运输企业", handling: "处置状态", mute: "静音", unmute: "取消静音", logout: "退出", all: "全部",
    from: "起", to: "止", showTrack: "查看轨迹", clearTrack: "清除轨迹", play: "回放", pause: "暂停",
    openAlarms: "未结束报警", alarms: "报警列表", tokenPrompt: "请输入值班员或管理员令牌：", login: "登录",
    resolveTitle: "报警处置", disposition: "处置结果", note: "备注", cancel: "取消", resolve: "处置", ack: "确认",
    live: "实时", connecting: "连接中…", down: "已断开",
    banner: (s, n) => `实时连接已断开，${s} 秒后重连（第 ${n} 次）…`,
    reconnecting: "实时连接已断开，正在重连…",
    legendFences: "地理围栏", legendVehicles: "车辆", legendAlarm: "有未结束报警", district: "北仑区界（示意）",
    plate: "车牌", speed: "速度", time: "时间", heading: "方向", openViolations: "未结束报警", none: "无",
    tank: "罐体容量", hazard: "危险品类别", permit: "道路运输证有效期", inspection: "罐检有效期",
    terminal: "车载终端", terminalOnline: "在线", terminalOffline: "离线", lastSeen: "最后通信", noTerminal: "未接入（经 HTTP 网关上报）",
    waybill: "电子运单", noWaybill: "无有效运单", position: "最新位置", noPosition: "尚无定位",
    trackStart: "起点", trackEnd: "终点", onePoint: "仅一个定位点", noTrack: "该时段无轨迹",
    since: "开始", severity: "级别", count: (shown, all) => shown === all ? `(${all})` : `(${shown} / ${all})`,
    noAlarms: "暂无报警", notFound: (p) => `未找到车辆 ${p}`, radius: "半径", buffer: "缓冲", limit: "限速",
    banWindows: "禁行时段", always: "全天", station: "充装站编号", fenceKind: "围栏类型",
    tokenRefused: "令牌无效或无权限，请重新输入。", failed: "操作失败：", noLeaflet: "地图库未安装（Leaflet）：请运行 make（npm ci）。",
    resolvedAlready: "该报警已处置。", pointOf: (i, n) => `第 ${i} / ${n} 点`, loading: "加载中…",
    // the fleet list (fleet.js)
    fleet: "车队", fleetSearch: "搜索车牌或企业…", alarmed: "报警", fleetCounts: "车辆状态统计（点击筛选）",
    noCarrier: "未登记企业", noMatch: "无匹配车辆", alarmCount: (n) => `报警 ${n}`, vehicles: (n) => `${n} 辆`,
    fleetCount: (shown, all) => shown === all ? `(${all})` : `(${shown} / ${all})`,
  },
  en: {
    title: "Beilun hazmat tanker supervision", searchPlate: "plate", search: "Find", kind: "Alarm kind", status: "Status",
    carrier: "Carrier", handling: "Handling", mute: "Mute", unmute: "Unmute", logout: "Log out", all: "All",
    from: "From", to: "To", showTrack: "Show track", clearTrack: "Clear track", play: "Play", pause: "Pause",
    openAlarms: "Open alarms", alarms: "Alarms", tokenPrompt: "An operator or admin token:", login: "Log in",
    resolveTitle: "Resolve alarm", disposition: "Disposition", note: "Note", cancel: "Cancel", resolve: "Resolve", ack: "Acknowledge",
    live: "live", connecting: "connecting…", down: "disconnected",
    banner: (s, n) => `Live feed disconnected; reconnecting in ${s} s (attempt ${n})…`,
    reconnecting: "Live feed disconnected; reconnecting…",
    legendFences: "Geofences", legendVehicles: "Vehicles", legendAlarm: "with an open alarm", district: "Beilun district (approx.)",
    plate: "Plate", speed: "Speed", time: "Time", heading: "Heading", openViolations: "Open alarms", none: "none",
    tank: "Tank capacity", hazard: "Hazard classes", permit: "Permit valid until", inspection: "Tank inspection until",
    terminal: "Terminal", terminalOnline: "online", terminalOffline: "offline", lastSeen: "last heard", noTerminal: "none (reports through an HTTP gateway)",
    waybill: "Waybill", noWaybill: "no active waybill", position: "Latest position", noPosition: "no fix yet",
    trackStart: "start", trackEnd: "end", onePoint: "a single fix", noTrack: "no track in this period",
    since: "since", severity: "Severity", count: (shown, all) => shown === all ? `(${all})` : `(${shown} of ${all})`,
    noAlarms: "no alarms", notFound: (p) => `no vehicle ${p}`, radius: "radius", buffer: "buffer", limit: "limit",
    banWindows: "ban windows", always: "always", station: "station id", fenceKind: "Geofence kind",
    tokenRefused: "The token was refused; enter another.", failed: "Failed: ", noLeaflet: "The map library (Leaflet) is not installed: run make (npm ci).",
    resolvedAlready: "The alarm is resolved already.", pointOf: (i, n) => `point ${i} of ${n}`, loading: "loading…",
    // the fleet list (fleet.js)
    fleet: "Fleet", fleetSearch: "search plate or carrier…", alarmed: "alarmed", fleetCounts: "Vehicles by status (click to filter)",
    noCarrier: "carrier not registered", noMatch: "no matching vehicle", alarmCount: (n) => `${n} alarm${n === 1 ? "" : "s"}`,
    vehicles: (n) => `${n} vehicle${n === 1 ? "" : "s"}`,
    fleetCount: (shown, all) => shown === all ? `(${all})` : `(${shown} of ${all})`,
  },
};

const NAMES = {
  zh: {
    kinds: {
      illegal_parking: "非指定区域停车", no_stopping: "禁停区域停车", restricted_road: "禁行路段", route_deviation: "偏离路线",
      speeding: "超速", fatigue_driving: "疲劳驾驶", night_driving: "夜间行驶", offline: "离线",
      offline_displacement: "离线位移", gps_jump: "定位漂移", filling_vehicle_absent: "充装时车辆不在场",
      filling_overload: "超量充装", filling_unqualified: "资质不符充装", filling_no_waybill: "无运单充装",
      incident_zone_entry: "驶入事故警戒区",
    },
    fences: { chem_park: "化工园区", parking: "危化品停车场", filling_station: "充装站", restricted_road: "禁行路段",
              no_stopping: "禁停区域", speed_zone: "限速区域" },
    statuses: { moving: "行驶", stopped: "停车", offline: "离线" },
    handling: { new: "未处理", acked: "已确认", resolved: "已处置" },
    dispositions: { confirmed: "确认违规", false_alarm: "误报", handled: "已处理" },
    severities: { low: "低", medium: "中", high: "高" },
  },
  en: {
    kinds: {
      illegal_parking: "illegal parking", no_stopping: "stopped in no-stopping zone", restricted_road: "restricted road",
      route_deviation: "route deviation", speeding: "speeding", fatigue_driving: "fatigue driving",
      night_driving: "night driving", offline: "offline", offline_displacement: "moved while offline",
      gps_jump: "GPS jump", filling_vehicle_absent: "vehicle absent at filling", filling_overload: "overload filling",
      filling_unqualified: "unqualified filling", filling_no_waybill: "filling without waybill",
      incident_zone_entry: "entered an incident zone",
    },
    fences: { chem_park: "chemical park", parking: "hazmat parking", filling_station: "filling station",
              restricted_road: "restricted road", no_stopping: "no stopping", speed_zone: "speed zone" },
    statuses: { moving: "moving", stopped: "stopped", offline: "offline" },
    handling: { new: "new", acked: "acknowledged", resolved: "resolved" },
    dispositions: { confirmed: "confirmed", false_alarm: "false alarm", handled: "handled" },
    severities: { low: "low", medium: "medium", high: "high" },
  },
};

function t(key, ...args) {
  const word = WORDS[LANG][key];
  return typeof word === "function" ? word(...args) : word;
}

function nameOf(group, code) {
  return NAMES[LANG][group][code] || code;
}

function translatePage() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
  const toggle = document.getElementById("lang");
  const other = new URLSearchParams(location.search);
  if (LANG === "en") { other.delete("lang"); toggle.textContent = "中文"; } else { other.set("lang", "en"); toggle.textContent = "English"; }
  toggle.href = "?" + other.toString();
}

// The incident desk (事故处置, console/incidents.js).
Object.assign(WORDS.zh, {
  incidents: "事故处置", newIncident: "新建事故", pickPoint: "请在地图上点选事故地点…", incidentHere: "发起事故处置",
  incidentKind: "事故类型", unNumber: "UN编号", unHint: "空：按运单或未知货物", spill: "泄漏规模", windFrom: "风向（来向，度）",
  windSpeed: "风速（米/秒）", open: "发起", closeIncident: "结束事故", incidentList: "事故列表", noIncidents: "暂无事故",
  cargo: "货物", unknownCargo: "未知（按最大距离）", basis: "依据", isolation: "隔离区", protective: "防护区", fire: "火灾隔离区",
  downwind: "下风向", noWind: "无风向（圆形）", night: "夜间", day: "白天", zoneSites: "区内场所", zoneVehicles: "区内车辆",
  responders: "最近救援力量", nothing: "无", openedAt: "发生时间", incidentOpen: "处置中", incidentClosed: "已结束",
  point: "地点", metres: (m) => `${Math.round(m)} 米`, incidentNote: "备注",
});
Object.assign(WORDS.en, {
  incidents: "Incidents", newIncident: "New incident", pickPoint: "Click the incident's place on the map…", incidentHere: "Open an incident",
  incidentKind: "Kind", unNumber: "UN number", unHint: "empty: the waybill's, or unknown", spill: "Spill", windFrom: "Wind from (degrees)",
  windSpeed: "Wind speed (m/s)", open: "Open", closeIncident: "Close incident", incidentList: "Incidents", noIncidents: "no incidents",
  cargo: "Cargo", unknownCargo: "unknown (largest distances)", basis: "Basis", isolation: "Isolation", protective: "Protective",
  fire: "Fire isolation", downwind: "downwind", noWind: "no wind (circle)", night: "night", day: "day", zoneSites: "Sites in the zones",
  zoneVehicles: "Vehicles in the zones", responders: "Nearest responders", nothing: "none", openedAt: "Opened",
  incidentOpen: "open", incidentClosed: "closed", point: "Place", metres: (m) => `${Math.round(m)} m`, incidentNote: "Note",
});
Object.assign(NAMES.zh, {
  incidentKinds: { leak: "泄漏", fire: "火灾", explosion: "爆炸", collision: "碰撞", rollover: "侧翻", other: "其他" },
  spills: { large: "大量泄漏", small: "少量泄漏" },
  zones: { isolation: "隔离区", protective: "防护区", fire: "火灾隔离区" },
  bases: { waybill: "电子运单", given: "人工指定", unknown: "未知" },
  siteKinds: { school: "学校", kindergarten: "幼儿园", hospital: "医院", elderly_home: "养老院", residential: "居民区",
               crowded_place: "人员密集场所", water_source: "水源地", fire_station: "消防救援站",
               enterprise_fire_team: "企业专职消防队", supply_depot: "应急物资库" },
});
Object.assign(NAMES.en, {
  incidentKinds: { leak: "leak", fire: "fire", explosion: "explosion", collision: "collision", rollover: "rollover", other: "other" },
  spills: { large: "large spill", small: "small spill" },
  zones: { isolation: "isolation", protective: "protective", fire: "fire" },
  bases: { waybill: "waybill", given: "given", unknown: "unknown" },
  siteKinds: { school: "school", kindergarten: "kindergarten", hospital: "hospital", elderly_home: "elderly home",
               residential: "residential", crowded_place: "crowded place", water_source: "water source",
               fire_station: "fire station", enterprise_fire_team: "enterprise fire team", supply_depot: "supply depot" },
});
// Terminal alarms, checkpoints and texts to drivers (signals.js).
Object.assign(WORDS.zh, {
  checkpoint: "卡口", road: "道路", locate: "定位", matched: "有轨迹", unmatched: "有抓拍无轨迹", undecided: "待判定",
  readsShown: (n) => `本时段卡口抓拍 ${n} 次`, textToDriver: "发送文本信息", textPlaceholder: "发给驾驶员的信息（200 字以内）",
  tts: "语音播报", urgent: "紧急", sendText: "发送", noTerminalForText: "该车无 JT/T 808 终端，不能下发信息",
});
Object.assign(WORDS.en, {
  checkpoint: "Checkpoint", road: "Road", locate: "Locate", matched: "track matched", unmatched: "read without track",
  undecided: "not decided yet", readsShown: (n) => `${n} checkpoint read(s) in this period`, textToDriver: "Text to the driver",
  textPlaceholder: "a message to the driver (at most 200 characters)", tts: "read aloud", urgent: "urgent", sendText: "Send",
  noTerminalForText: "no JT/T 808 terminal: texts cannot be sent",
});
Object.assign(NAMES.zh.kinds, {
  sos: "紧急报警", collision: "碰撞侧翻", terminal_fault: "终端故障", active_safety: "主动安全报警",
  gps_missing: "有抓拍无轨迹", unregistered_vehicle: "未入网车辆", cloned_plate: "疑似套牌",
});
Object.assign(NAMES.en.kinds, {
  sos: "SOS", collision: "collision / rollover", terminal_fault: "terminal fault", active_safety: "active safety alarm",
  gps_missing: "read without track", unregistered_vehicle: "unregistered vehicle", cloned_plate: "suspected cloned plate",
});
NAMES.zh.messageStates = { queued: "排队中", sent: "已发送", delivered: "已送达", failed: "失败", expired: "已过期" };
NAMES.en.messageStates = { queued: "queued", sent: "sent", delivered: "delivered", failed: "failed", expired: "expired" };
