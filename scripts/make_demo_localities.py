"""Generate surveyapp/data/demo-localities.csv (run once; the output is committed).

Usage: python scripts/make_demo_localities.py > surveyapp/data/demo-localities.csv
"""

import csv
import random
import sys

rng = random.Random(2026)
streets = [
    ("宁海路街道", "Ninghailu"),
    ("华侨路街道", "Huaqiaolu"),
    ("湖南路街道", "Hunanlu"),
    ("中央门街道", "Zhongyangmen"),
    ("挹江门街道", "Yijiangmen"),
    ("江东街道", "Jiangdong"),
    ("凤凰街道", "Fenghuang"),
    ("阅江楼街道", "Yuejianglou"),
    ("热河南路街道", "Rehenanlu"),
    ("幕府山街道", "Mufushan"),
    ("建宁路街道", "Jianninglu"),
    ("宝塔桥街道", "Baotaqiao"),
    ("小市街道", "Xiaoshi"),
]
comm_names = [
    "北园",
    "南苑",
    "东升",
    "西康",
    "和平",
    "幸福",
    "阳光",
    "清凉",
    "金川",
    "新村",
    "颐和",
    "云南",
    "山西",
    "虹桥",
    "江苑",
    "宝华",
    "天山",
    "银城",
    "龙江",
    "芦席",
    "秀山",
    "古平",
    "渊声",
    "南祖师",
]
comm_en = [
    "Beiyuan",
    "Nanyuan",
    "Dongsheng",
    "Xikang",
    "Heping",
    "Xingfu",
    "Yangguang",
    "Qingliang",
    "Jinchuan",
    "Xincun",
    "Yihe",
    "Yunnan",
    "Shanxi",
    "Hongqiao",
    "Jiangyuan",
    "Baohua",
    "Tianshan",
    "Yincheng",
    "Longjiang",
    "Luxi",
    "Xiushan",
    "Guping",
    "Yuansheng",
    "Nanzushi",
]
age_groups = ["16_24", "25_34", "35_44", "45_54", "55_64", "65p"]
age_share = [0.12, 0.19, 0.18, 0.19, 0.16, 0.16]
w = csv.writer(sys.stdout, lineterminator="\n")
header = ["code", "parent_code", "level", "name_zh", "name_en", "population"] + [
    f"pop_{s}_{a}" for s in "mf" for a in age_groups
]
w.writerow(header)


def pops(total):
    out = []
    # Columns in the header's order: sex (m, f) x age group.
    for _sex, share in (("m", 0.49), ("f", 0.51)):
        for _age, sh in zip(age_groups, age_share, strict=True):
            jitter = rng.uniform(0.85, 1.15)
            out.append(int(total * share * sh * jitter))
    return out


w.writerow(["32", "", "province", "江苏省", "Jiangsu", ""] + [""] * 12)
w.writerow(["3201", "32", "city", "南京市", "Nanjing", ""] + [""] * 12)
district_rows = []
all_rows = []
for i, (zh, en) in enumerate(streets, start=1):
    scode = f"320106{i:03d}"
    ncomm = rng.randint(4, 7)
    names = rng.sample(range(len(comm_names)), ncomm)
    comm_rows = []
    for j, k in enumerate(names, start=1):
        ccode = f"{scode}{j:03d}"
        ngrid = rng.randint(4, 8)
        grid_rows = []
        for g in range(1, ngrid + 1):
            gpop = rng.randint(900, 1500)
            grid_rows.append(
                [f"{ccode}{g:02d}", ccode, "grid", f"第{g}网格", f"Grid {g}", gpop] + [""] * 12
            )
        cpop = sum(r[5] for r in grid_rows)
        comm_rows.append(
            (
                [ccode, scode, "community", comm_names[k] + "社区", comm_en[k] + " Community", cpop]
                + pops(cpop * 0.86),
                grid_rows,
            )
        )
    spop = sum(c[0][5] for c in comm_rows)
    all_rows.append(
        ([scode, "320106", "street", zh, en + " Street", spop] + pops(spop * 0.86), comm_rows)
    )
dpop = sum(s[0][5] for s in all_rows)
w.writerow(["320106", "3201", "district", "鼓楼区", "Gulou District", dpop] + pops(dpop * 0.86))
for srow, comms in all_rows:
    w.writerow(srow)
    for crow, grids in comms:
        w.writerow(crow)
        for g in grids:
            w.writerow(g)
