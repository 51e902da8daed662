"""Write the XLSForms used by the tests (run: python tests/design/data/make_xlsforms.py).

They are written the way ODK and KoboToolbox users publish forms: language columns
``label::English (en)``, metadata rows, notes, calculations, groups with ``relevant``,
``required`` as yes/TRUE, constraints with messages. The .xlsx files are committed; this script
documents them and rebuilds them.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent


def _write(name: str, sheets: dict[str, list[list]]) -> None:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(HERE / name)


ODK_SURVEY = [
    [
        "type",
        "name",
        "label::Chinese (zh)",
        "label::English (en)",
        "hint::Chinese (zh)",
        "hint::English (en)",
        "required",
        "relevant",
        "constraint",
        "constraint_message::Chinese (zh)",
        "constraint_message::English (en)",
        "calculation",
    ],
    ["start", "start"],
    ["end", "end"],
    ["deviceid", "deviceid"],
    ["begin group", "screening", "甄别", "Screening"],
    [
        "select_one yes_no",
        "resident",
        "您在本区居住满6个月了吗？",
        "Have you lived here for six months?",
        "包括外来人员。",
        "Include people from elsewhere.",
        "yes",
    ],
    [
        "integer",
        "age",
        "您多大年龄？",
        "How old are you?",
        None,
        None,
        "yes",
        "${resident} = 'yes'",
        ". >= 16 and . <= 99",
        "年龄须在16到99岁之间。",
        "Age must be between 16 and 99.",
    ],
    [
        "calculate",
        "age_band",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "if(${age} < 35, 'young', 'older')",
    ],
    ["end group"],
    [
        "begin group",
        "safety",
        "安全感",
        "Safety",
        None,
        None,
        None,
        "${resident} = 'yes' and ${age} >= 16",
    ],
    ["note", "intro", "下面问您对治安的感受。", "Now some questions about safety."],
    [
        "select_one scale",
        "safe_day",
        "白天您觉得安全吗？",
        "Do you feel safe during the day?",
        None,
        None,
        "yes",
    ],
    [
        "select_one scale",
        "safe_night",
        "晚上您觉得安全吗？",
        "Do you feel safe at night?",
        None,
        None,
        "yes",
    ],
    [
        "select_multiple reasons",
        "reasons",
        "为什么觉得不安全？",
        "Why do you feel unsafe?",
        "最多选三项。",
        "At most three.",
        "yes",
        "${safe_night} = 4 or ${safe_night} = 5",
        "count-selected(.) <= 3",
        "最多选三项。",
        "Choose at most three.",
    ],
    [
        "text",
        "reasons_other",
        "其他原因",
        "Other reason",
        None,
        None,
        None,
        "selected(${reasons}, 'other')",
    ],
    [
        "date",
        "last_incident",
        "最近一次遇到治安问题是哪天？",
        "When did you last have a problem?",
        None,
        None,
        None,
        "${safe_night} = 5",
        ". >= '2020-01-01'",
        "日期太早。",
        "Too early.",
    ],
    ["end group"],
    ["text", "comment", "您还有什么建议？", "Any suggestions?"],
]
ODK_CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
    ["yes_no", "yes", "是", "Yes"],
    ["yes_no", "no", "否", "No"],
    ["scale", "1", "很安全", "Very safe"],
    ["scale", "2", "安全", "Safe"],
    ["scale", "3", "基本安全", "Fairly safe"],
    ["scale", "4", "不太安全", "Not very safe"],
    ["scale", "5", "不安全", "Unsafe"],
    ["scale", "9", "不清楚", "Don't know"],
    ["reasons", "theft", "盗窃", "Theft"],
    ["reasons", "fraud", "诈骗", "Fraud"],
    ["reasons", "lighting", "路灯少", "Poor street lighting"],
    ["reasons", "other", "其他", "Other"],
]
ODK_SETTINGS = [
    ["form_title", "form_id", "version", "default_language"],
    ["社区安全调查", "community_safety", "3", "Chinese (zh)"],
]

KOBO_SURVEY = [
    [
        "type",
        "name",
        "label::English (en)",
        "label::中文 (zh-CN)",
        "label::Uyghur (ug)",
        "required",
        "relevant",
        "appearance",
        "constraint",
        "constraint_message::English (en)",
        "constraint_message::中文 (zh-CN)",
        "constraint_message::Uyghur (ug)",
    ],
    ["today", "today"],
    ["begin_group", "police", "Police", "公安", "ساقچى", None, None, "field-list"],
    [
        "select_one sat",
        "police_sat",
        "How satisfied are you with the police?",
        "您对公安工作满意吗？",
        "ساقچىلارنىڭ خىزمىتىدىن رازىمۇ؟",
        "TRUE",
    ],
    [
        "select_multiple why",
        "why",
        "Why are you dissatisfied?",
        "不满意的原因？",
        "نېمىشقا رازى ئەمەس؟",
        "TRUE",
        "${police_sat} = '4' or ${police_sat} = '5'",
        "minimal",
        "not(selected(., 'none') and count-selected(.) > 1)",
        "'None' cannot be combined.",
        "“没有”不能和其他选项同选。",
        "«يوق» نى باشقىلار بىلەن تاللىغىلى بولمايدۇ.",
    ],
    [
        "integer",
        "contacts",
        "How many times did you contact the police this year?",
        "今年您联系过公安几次？",
        "بۇ يىل ساقچىغا قانچە قېتىم مۇراجىئەت قىلدىڭىز؟",
        "FALSE",
        None,
        None,
        ". >= 0 and . <= 50",
        "Between 0 and 50.",
        "0到50之间。",
        "0 دىن 50 گىچە.",
    ],
    ["end_group"],
]
KOBO_CHOICES = [
    ["list_name", "name", "label::English (en)", "label::中文 (zh-CN)", "label::Uyghur (ug)"],
    ["sat", "1", "Very satisfied", "很满意", "ناھايىتى رازى"],
    ["sat", "2", "Satisfied", "满意", "رازى"],
    ["sat", "3", "Fairly satisfied", "基本满意", "ئاساسەن رازى"],
    ["sat", "4", "Not very satisfied", "不太满意", "ئانچە رازى ئەمەس"],
    ["sat", "5", "Dissatisfied", "不满意", "رازى ئەمەس"],
    ["why", "slow", "Slow response", "出警慢", "ئاستا"],
    ["why", "attitude", "Attitude", "态度差", "پوزىتسىيە"],
    ["why", "none", "None of these", "没有", "يوق"],
]
KOBO_SETTINGS = [
    ["form_title", "form_id", "version", "default_language"],
    ["Police satisfaction", "police-satisfaction-ug", "2026031501", "中文 (zh-CN)"],
]

UNSUPPORTED_SURVEY = [
    ["type", "name", "label::Chinese (zh)", "label::English (en)"],
    ["begin repeat", "members", "家庭成员", "Household members"],
    ["text", "member_name", "姓名", "Name"],
    ["begin repeat", "jobs", "工作", "Jobs"],
    ["text", "job", "工作", "Job"],
    ["end repeat"],
    ["end repeat"],
    ["geopoint", "location", "位置", "Location"],
    ["decimal", "income", "收入", "Income"],
    ["text", "ok", "好", "Fine"],
]

ENGLISH_ONLY_SURVEY = [
    ["type", "name", "label", "required"],
    ["select_one yn", "consent", "Do you agree to take part?", "yes"],
    ["text", "remarks", "Remarks"],
]
ENGLISH_ONLY_CHOICES = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def main() -> None:
    _write(
        "odk_community_safety.xlsx",
        {"survey": ODK_SURVEY, "choices": ODK_CHOICES, "settings": ODK_SETTINGS},
    )
    _write(
        "kobo_police_uyghur.xlsx",
        {"survey": KOBO_SURVEY, "choices": KOBO_CHOICES, "settings": KOBO_SETTINGS},
    )
    _write("unsupported.xlsx", {"survey": UNSUPPORTED_SURVEY})
    _write("english_only.xlsx", {"survey": ENGLISH_ONLY_SURVEY, "choices": ENGLISH_ONLY_CHOICES})


if __name__ == "__main__":
    main()
