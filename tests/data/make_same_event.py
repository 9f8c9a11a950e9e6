"""Write tests/data/same_event_pairs.jsonl: labelled pairs of Chinese items (same event told differently, or
different events that share a place, a department or a kind of incident). Deterministic (seeded); run it again
only to change the set: `python3 tests/data/make_same_event.py`."""

from __future__ import annotations

import json
import random
from pathlib import Path

DISTRICTS = ["东城区", "江北区", "高新区", "临川县", "南湖区", "城西区", "经开区", "滨江区", "青山县", "北塘区"]
SITES = [
    "锦绣花园小区",
    "翠湖苑小区",
    "阳光新城",
    "金桥路农贸市场",
    "人民路菜市场",
    "滨河公园",
    "长青路口",
    "解放大道",
    "城南批发市场",
    "幸福里小区",
    "第三中学门口",
    "市民广场",
    "和平街",
    "龙湖天街",
    "新华路夜市",
    "万达广场",
    "火车站东广场",
    "明珠花园",
    "桂花苑",
    "湖滨路",
    "建设路",
    "丽景湾小区",
    "中山北路",
    "工业园二期",
]
DEPTS = ["城管", "市场监管", "执法队", "物业", "街道办", "环卫", "交警"]
NAMES = ["@小城故事", "@江北吃瓜群众", "@本地热点君", "@路见不平", "@城事观察", "@老王说事", "@每日一拍"]

# each kind: several tellings of the same fact; {d} district, {s} site, {n} a number, {m} a second number, {g} dept
KINDS: dict[str, list[str]] = {
    "占道": [
        "{d}{s}附近{g}人员与摆摊商贩发生推搡，商贩称被抢走三轮车，现场围观{n}余人。",
        "{s}{g}执法起冲突！视频里摊主的三轮车被强行拖走，摊主坐地哭喊，{n}多人围观。",
        "有网友发视频反映{d}{s}{g}暴力执法，摊贩推车被收，双方拉扯。",
        "{s}一摆摊大姐的三轮车被{g}没收，她说一家老小就靠这个吃饭，围观者不少。",
    ],
    "电梯": [
        "{d}{s}电梯突然下坠后卡在{n}楼，{m}名居民被困近四十分钟，物业迟迟不到场。",
        "{s}又出事了！电梯故障困住{m}个人，其中有老人和小孩，业主质疑物业维保走过场。",
        "网友爆料{s}电梯困人，被困业主在群里求救，消防赶到后才救出，物业回应正在排查。",
        "{d}一小区电梯停在{n}楼打不开门，{m}人被困，视频里孩子一直哭，{s}业主称这已是本月第二次。",
    ],
    "停水": [
        "{d}{s}已连续停水{n}天，没有任何通知，居民只能下楼提水，老人上楼很困难。",
        "{s}停水{n}天了还没恢复，打物业电话没人接，业主们拎着水桶排队接水。",
        "有居民留言：{s}从周一开始就没水，说是管道爆裂，至今{n}天无人维修。",
    ],
    "食品": [
        "{d}{s}一家快餐店被曝后厨老鼠乱窜，顾客拍下视频，{g}称已介入调查。",
        "{s}某快餐店后厨卫生堪忧，网传视频中有老鼠在食材上爬，多人表示再也不去了。",
        "网友发帖：在{s}吃快餐后{m}人腹泻，后厨环境脏乱，希望{g}查一查。",
    ],
    "噪音": [
        "{d}{s}附近工地夜间连续施工到凌晨{n}点，居民投诉多次无果，孩子无法入睡。",
        "{s}旁工地半夜还在打桩，已经持续{m}天，业主说投诉电话打了无数次。",
        "12345留言：{s}周边工地深夜施工噪音扰民，凌晨{n}点还有渣土车进出。",
    ],
    "收费": [
        "{d}{s}停车场乱收费，停{n}分钟收{m}元，没有公示收费标准，车主质疑。",
        "{s}停车收费太离谱，{n}分钟就要{m}块钱，管理员说不交不让走。",
        "网友吐槽{s}停车场天价收费，半小时不到收了{m}元，还不给发票。",
    ],
    "欠薪": [
        "{d}{s}项目{n}余名农民工聚集讨薪，称被拖欠工资近半年，现场拉起横幅。",
        "视频：{s}工地一群工人举牌讨要工钱，说干了大半年一分钱没拿到，约{n}人。",
        "有人反映{s}的施工队老板跑路，{n}多名工人工资没着落，已找过{g}。",
    ],
    "积水": [
        "{d}{s}一场暴雨后积水没过膝盖，{n}辆车泡水熄火，市民质疑排水系统年年修年年淹。",
        "{s}又成“看海”现场！暴雨过后车辆被淹，行人蹚水通过，积水深约半米。",
        "网友拍到{s}积水严重，公交车停运，有车主被困车内，附近商户损失不小。",
    ],
    "交通": [
        "{d}{s}发生一起渣土车与电动车相撞事故，电动车驾驶人受伤送医，{g}已到场处置。",
        "{s}渣土车撞了骑电动车的人，现场一片狼藉，伤者被救护车拉走，网友称渣土车经常闯红灯。",
        "抖音视频显示{s}路口一辆渣土车转弯时撞倒电动车，{g}正在调查事故原因。",
    ],
    "宠物": [
        "{d}{s}有大型犬未拴绳咬伤一名{n}岁儿童，犬主拒不道歉，家长发帖求助。",
        "{s}一名孩子被没拴绳的大狗咬伤，孩子才{n}岁，狗主人态度恶劣，小区业主群炸锅。",
        "网友求扩：{s}一只大狗咬了小孩，狗主人不承认，希望{g}管管不拴绳遛狗。",
    ],
    "垃圾": [
        "{d}{s}垃圾站{n}天没人清运，垃圾堆成小山，臭味熏天，蚊蝇滋生。",
        "{s}的垃圾已经堆了{n}天没人收，路过都要捂鼻子，{g}去哪了？",
        "12345留言：{s}垃圾清运不及时，夏天异味严重，居民多次反映无果。",
    ],
    "学校": [
        "{d}{s}附近一所学校被家长质疑食堂饭菜变质，{m}名学生出现呕吐，家长聚集校门口讨说法。",
        "家长爆料：{s}的学校食堂饭菜有异味，孩子吃完肚子疼，{m}个孩子去了医院。",
        "{s}学校食堂疑似食物中毒，多名学生送医，学校回应正在配合调查。",
    ],
    "火灾": [
        "{d}{s}一居民楼{n}楼起火，浓烟滚滚，消防已到场扑救，暂无人员伤亡报告。",
        "{s}着火了！{n}楼阳台冒出大火，住户紧急疏散，网友担心楼道堆物影响逃生。",
        "视频：{s}居民楼突发火情，黑烟冲天，消防车鸣笛赶来，起火原因不明。",
    ],
    "拆迁": [
        "{d}{s}商户反映被强制要求{n}天内搬离，补偿标准不明，{g}工作人员态度强硬。",
        "{s}的商户说突然接到通知限期{n}天搬走，补偿没谈拢，门店被贴封条。",
        "网友发帖称{s}拆迁不公，补偿款标准不一，商户集体到{g}反映情况。",
    ],
}
WRAP = [
    "{t}",
    "【微博】{who}发帖称：{t}",
    "抖音视频显示：{t}",
    "有市民在12345热线留言反映：{t}",
    "据本地媒体报道，{t}",
    "微信群流传截图：{t}",
    "网友在本地论坛发帖：{t}",
    "快手有用户发布视频，称{t}",
]
HOSTS = [
    "weibo.com/{a}/{b}",
    "douyin.com/video/{b}",
    "kuaishou.com/short-video/{b}",
    "mp.weixin.qq.com/s/{a}{b}",
    "tieba.baidu.com/p/{b}",
    "toutiao.com/article/{b}",
]


def _event(rng: random.Random, kind: str | None = None, site: str | None = None, dept: str | None = None) -> dict:
    return {
        "kind": kind or rng.choice(list(KINDS)),
        "d": rng.choice(DISTRICTS),
        "s": site or rng.choice(SITES),
        "g": dept or rng.choice(DEPTS),
        "n": rng.randint(3, 23),
        "m": rng.randint(2, 9),
    }


def _tell(rng: random.Random, e: dict, avoid: int | None = None) -> tuple[dict, int]:
    forms = KINDS[e["kind"]]
    pick = rng.choice([i for i in range(len(forms)) if i != avoid])
    body = forms[pick].format(**e)
    text = rng.choice(WRAP).format(t=body, who=rng.choice(NAMES))
    link = "https://" + rng.choice(HOSTS).format(a=rng.randint(1000, 99999), b=rng.randint(10**8, 10**9))
    if rng.random() < 0.5:
        text = f"{text} {link}"
    cut = body.split("，")[0].split("！")[0][:30]
    return {"title": cut, "text": text}, pick


def pairs(seed: int = 25) -> list[dict]:
    """Return the labelled pairs: same (1) and different (0) events."""
    rng = random.Random(seed)
    out: list[dict] = []
    for _ in range(90):  # the same event told twice: other words, other platform, other link
        e = _event(rng)
        a, pick = _tell(rng, e)
        b, _ = _tell(rng, e, avoid=pick)
        out.append({"a": a, "b": b, "same": 1, "why": "同一事件不同说法"})
    for _ in range(35):  # the same place, another incident
        e = _event(rng)
        f = _event(rng, kind=rng.choice([k for k in KINDS if k != e["kind"]]), site=e["s"], dept=e["g"]) | {"d": e["d"]}
        out.append({"a": _tell(rng, e)[0], "b": _tell(rng, f)[0], "same": 0, "why": "同一地点不同事件"})
    for _ in range(35):  # the same kind of incident somewhere else
        e = _event(rng)
        f = _event(rng, kind=e["kind"], site=rng.choice([s for s in SITES if s != e["s"]]))
        a, pick = _tell(rng, e)  # another author: other words
        out.append({"a": a, "b": _tell(rng, f, avoid=pick)[0], "same": 0, "why": "同类事件不同地点"})
    for _ in range(20):  # the same department, unrelated
        e = _event(rng)
        f = _event(rng, kind=rng.choice([k for k in KINDS if k != e["kind"]]), dept=e["g"])
        out.append({"a": _tell(rng, e)[0], "b": _tell(rng, f)[0], "same": 0, "why": "同一部门不同事件"})
    rng.shuffle(out)
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("same_event_pairs.jsonl")
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs()), encoding="utf-8")
    print(f"wrote {path}")
