"""The words the demo company is made of: names, places, products, staff and note texts.

Everything here is static; the generator draws from these lists with the run's random stream, so
the same seed picks the same words. Chinese names carry their pinyin so e-mail addresses and WeChat
ids can be made from them.
"""

from typing import NamedTuple

# (汉字, pinyin, relative frequency) — the most common surnames, roughly by population share.
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1),
    ("李", "li", 7.0),
    ("张", "zhang", 6.9),
    ("刘", "liu", 5.4),
    ("陈", "chen", 4.6),
    ("杨", "yang", 3.1),
    ("黄", "huang", 2.4),
    ("赵", "zhao", 2.3),
    ("吴", "wu", 2.0),
    ("周", "zhou", 1.9),
    ("徐", "xu", 1.5),
    ("孙", "sun", 1.4),
    ("马", "ma", 1.4),
    ("朱", "zhu", 1.3),
    ("胡", "hu", 1.2),
    ("郭", "guo", 1.2),
    ("何", "he", 1.1),
    ("高", "gao", 1.1),
    ("林", "lin", 1.1),
    ("罗", "luo", 1.0),
    ("郑", "zheng", 0.9),
    ("梁", "liang", 0.9),
    ("谢", "xie", 0.8),
    ("宋", "song", 0.7),
    ("唐", "tang", 0.7),
    ("许", "xu", 0.6),
    ("韩", "han", 0.6),
    ("冯", "feng", 0.6),
    ("邓", "deng", 0.6),
    ("曹", "cao", 0.6),
    ("彭", "peng", 0.5),
    ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.5),
    ("田", "tian", 0.5),
    ("董", "dong", 0.5),
    ("袁", "yuan", 0.4),
    ("潘", "pan", 0.4),
    ("蒋", "jiang", 0.4),
    ("蔡", "cai", 0.4),
    ("叶", "ye", 0.4),
    ("程", "cheng", 0.3),
    ("苏", "su", 0.3),
    ("魏", "wei", 0.3),
    ("丁", "ding", 0.3),
    ("沈", "shen", 0.3),
)

GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("华", "hua"),
    ("建华", "jianhua"),
    ("婷", "ting"),
    ("浩", "hao"),
    ("宇", "yu"),
    ("欣怡", "xinyi"),
    ("子涵", "zihan"),
    ("梓轩", "zixuan"),
    ("晨", "chen"),
    ("雪", "xue"),
    ("佳", "jia"),
    ("思远", "siyuan"),
    ("嘉怡", "jiayi"),
    ("俊杰", "junjie"),
    ("文博", "wenbo"),
    ("雨桐", "yutong"),
    ("一鸣", "yiming"),
    ("晓燕", "xiaoyan"),
    ("志强", "zhiqiang"),
    ("海燕", "haiyan"),
    ("建国", "jianguo"),
    ("丹", "dan"),
    ("鹏", "peng"),
    ("琳", "lin"),
    ("慧", "hui"),
    ("颖", "ying"),
    ("博", "bo"),
    ("倩", "qian"),
    ("梦琪", "mengqi"),
)

# English given names, used with a Chinese surname in pinyin ("Emily Chen") as many urban
# customers do, and a few foreign surnames for expatriate customers.
ENGLISH_GIVEN_NAMES: tuple[str, ...] = (
    "Emily", "David", "Michael", "Jennifer", "Kevin", "Grace", "Jason", "Amy", "Tony", "Lily",
    "Eric", "Vivian", "Frank", "Cindy", "Peter", "Sophia", "Jack", "Helen", "Leo", "Nancy",
    "Daniel", "Iris", "Ryan", "Coco", "Andy", "Judy", "Steven", "Wendy", "Alex", "Sunny",
)  # fmt: skip
FOREIGN_SURNAMES: tuple[str, ...] = (
    "Smith", "Brown", "Miller", "Garcia", "Kim", "Tanaka", "Nguyen", "Müller", "Rossi", "Dubois",
)  # fmt: skip

# (region, weight, ((city, address prefix, (district, district)), ...))
REGIONS: tuple[tuple[str, float, tuple[tuple[str, str, tuple[str, str]], ...]], ...] = (
    (
        "华东",
        0.32,
        (
            ("上海", "上海市", ("浦东新区", "徐汇区")),
            ("杭州", "浙江省杭州市", ("西湖区", "滨江区")),
            ("南京", "江苏省南京市", ("鼓楼区", "建邺区")),
            ("苏州", "江苏省苏州市", ("姑苏区", "工业园区")),
            ("宁波", "浙江省宁波市", ("鄞州区", "海曙区")),
            ("合肥", "安徽省合肥市", ("蜀山区", "包河区")),
            ("福州", "福建省福州市", ("鼓楼区", "仓山区")),
            ("厦门", "福建省厦门市", ("思明区", "湖里区")),
            ("济南", "山东省济南市", ("历下区", "市中区")),
            ("青岛", "山东省青岛市", ("市南区", "崂山区")),
        ),
    ),
    (
        "华南",
        0.20,
        (
            ("广州", "广东省广州市", ("天河区", "越秀区")),
            ("深圳", "广东省深圳市", ("南山区", "福田区")),
            ("东莞", "广东省东莞市", ("南城街道", "松山湖")),
            ("佛山", "广东省佛山市", ("禅城区", "顺德区")),
            ("南宁", "广西壮族自治区南宁市", ("青秀区", "西乡塘区")),
            ("海口", "海南省海口市", ("龙华区", "美兰区")),
        ),
    ),
    (
        "华北",
        0.17,
        (
            ("北京", "北京市", ("朝阳区", "海淀区")),
            ("天津", "天津市", ("和平区", "南开区")),
            ("石家庄", "河北省石家庄市", ("长安区", "裕华区")),
            ("太原", "山西省太原市", ("小店区", "迎泽区")),
            ("呼和浩特", "内蒙古自治区呼和浩特市", ("新城区", "赛罕区")),
        ),
    ),
    (
        "华中",
        0.11,
        (
            ("武汉", "湖北省武汉市", ("武昌区", "江汉区")),
            ("长沙", "湖南省长沙市", ("岳麓区", "芙蓉区")),
            ("郑州", "河南省郑州市", ("金水区", "二七区")),
            ("南昌", "江西省南昌市", ("东湖区", "红谷滩区")),
        ),
    ),
    (
        "西南",
        0.10,
        (
            ("成都", "四川省成都市", ("锦江区", "武侯区")),
            ("重庆", "重庆市", ("渝中区", "江北区")),
            ("昆明", "云南省昆明市", ("五华区", "盘龙区")),
            ("贵阳", "贵州省贵阳市", ("南明区", "云岩区")),
        ),
    ),
    (
        "西北",
        0.05,
        (
            ("西安", "陕西省西安市", ("雁塔区", "碑林区")),
            ("兰州", "甘肃省兰州市", ("城关区", "七里河区")),
            ("乌鲁木齐", "新疆维吾尔自治区乌鲁木齐市", ("天山区", "沙依巴克区")),
            ("银川", "宁夏回族自治区银川市", ("兴庆区", "金凤区")),
        ),
    ),
    (
        "东北",
        0.05,
        (
            ("沈阳", "辽宁省沈阳市", ("和平区", "沈河区")),
            ("大连", "辽宁省大连市", ("中山区", "沙河口区")),
            ("哈尔滨", "黑龙江省哈尔滨市", ("南岗区", "道里区")),
            ("长春", "吉林省长春市", ("朝阳区", "南关区")),
        ),
    ),
)

STREETS: tuple[str, ...] = (
    "人民路", "中山路", "解放路", "建设路", "和平路", "新华路", "长江路", "黄河路", "文化路",
    "胜利路", "科技路", "学府路", "滨江大道", "世纪大道", "青年路", "光明街", "花园路", "东风路",
)  # fmt: skip

# Companies: city + brand word + industry + legal form; a fifth carry an English name.
BRAND_WORDS: tuple[str, ...] = (
    "恒达", "华信", "金桥", "远航", "鼎盛", "瑞丰", "嘉禾", "天成", "宏图", "新元",
    "博远", "万通", "国泰", "中联", "盛世", "永信", "安捷", "明德", "云帆", "同舟",
)  # fmt: skip
INDUSTRIES: tuple[str, ...] = (
    "科技", "贸易", "餐饮管理", "文化传媒", "建筑工程", "医疗器械", "物流", "酒店管理",
    "教育咨询", "软件", "会计师事务所", "律师事务所", "广告", "电子商务", "健康管理",
)  # fmt: skip
COMPANY_FORMS: tuple[str, ...] = ("有限公司", "股份有限公司", "有限公司", "集团有限公司")
CHANNEL_FORMS: tuple[str, ...] = (
    "商贸有限公司",
    "茶业经销部",
    "贸易商行",
    "加盟店",
    "分销有限公司",
)
ENGLISH_BRANDS: tuple[str, ...] = (
    "Harbor", "Summit", "Jade", "Pacific", "Golden Bridge", "Evergreen", "Orient", "Lotus",
    "Silk Road", "Dragon Gate", "Blue Peak", "Red Lantern",
)  # fmt: skip
ENGLISH_INDUSTRIES: tuple[str, ...] = (
    "Trading", "Technology", "Hospitality", "Logistics", "Consulting", "Foods", "Medical", "Media",
)  # fmt: skip
ENGLISH_CHANNEL_FORMS: tuple[str, ...] = ("Distribution Co., Ltd.", "Tea Traders", "Wholesale")
INTERNAL_UNITS: tuple[str, ...] = (
    "行政部", "市场部", "人力资源部", "财务部", "研发中心", "门店", "仓库", "员工福利社",
    "培训中心", "客户服务部",
)  # fmt: skip
JOB_TITLES: tuple[str, ...] = (
    "采购经理", "总经理", "行政主管", "财务经理", "运营总监", "店长", "采购专员",
    "Purchasing Manager", "Office Manager", "General Manager",
)  # fmt: skip
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")

# Tags: (name, share of consumers, business, channel, internal customers that carry it).
TAGS: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("VIP", (0.04, 0.10, 0.08, 0.0)),
    ("价格敏感", (0.15, 0.10, 0.25, 0.0)),
    ("团购", (0.05, 0.20, 0.0, 0.10)),
    ("会员俱乐部", (0.20, 0.0, 0.0, 0.0)),
    ("线上优先", (0.18, 0.08, 0.05, 0.0)),
    ("批发", (0.0, 0.05, 0.60, 0.0)),
    ("节日礼品", (0.08, 0.30, 0.15, 0.20)),
    ("新店", (0.0, 0.03, 0.10, 0.05)),
)


class Category(NamedTuple):
    """A product category: its margin range (share of price) decides whether it is a low-margin
    commodity or a high-margin premium line."""

    code: str
    label: str
    margin: tuple[float, float]
    price_yuan: tuple[float, float]
    # How much a buyer of each type takes per line: consumer, business, channel, internal.
    quantity: tuple[float, float, float, float]
    # Share of each type's lines that fall in this category.
    mix: tuple[float, float, float, float]
    items: tuple[tuple[str, str], ...]
    variants: tuple[tuple[str, float], ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "TEA", "茶叶 Tea", (0.50, 0.62), (60, 480), (0.5, 6, 24, 2), (0.28, 0.15, 0.32, 0.10),
        (
            ("西湖龙井", "Longjing green tea"), ("铁观音", "Tieguanyin oolong"),
            ("普洱熟茶", "Ripe Pu'er"), ("正山小种", "Lapsang souchong"),
            ("白毫银针", "Silver Needle white tea"), ("武夷大红袍", "Da Hong Pao"),
            ("洞庭碧螺春", "Biluochun"), ("茉莉花茶", "Jasmine tea"),
            ("云南滇红", "Dianhong black tea"), ("六安瓜片", "Lu'an Guapian"),
        ),
        (("50 g", 0.25), ("250 g", 1.0), ("500 g 礼盒 gift box", 2.3)),
    ),
    Category(
        "WARE", "茶具 Teaware", (0.45, 0.55), (40, 900), (0.2, 2, 6, 1), (0.10, 0.05, 0.10, 0.02),
        (
            ("宜兴紫砂壶", "Yixing clay teapot"), ("青花盖碗", "Blue-and-white gaiwan"),
            ("玻璃公道杯", "Glass fairness pitcher"), ("竹制茶盘", "Bamboo tea tray"),
            ("旅行茶具套装", "Travel tea set"), ("双层玻璃杯", "Double-wall glass"),
            ("陶瓷茶宠", "Ceramic tea pet"),
        ),
        (("标准 standard", 1.0), ("精品 premium", 2.2)),
    ),
    Category(
        "SNACK", "零食 Snacks", (0.12, 0.20), (12, 120), (1.2, 10, 40, 6),
        (0.25, 0.10, 0.25, 0.20),
        (
            ("每日坚果", "Daily mixed nuts"), ("五香牛肉干", "Spiced beef jerky"),
            ("芒果干", "Dried mango"), ("广式月饼", "Cantonese mooncakes"),
            ("绿豆糕", "Mung bean cakes"), ("凤梨酥", "Pineapple cakes"),
            ("焦糖瓜子", "Caramel sunflower seeds"), ("苏打饼干", "Soda crackers"),
        ),
        (("小包装 single", 1.0), ("家庭装 family pack", 2.6)),
    ),
    Category(
        "HOME", "日用品 Household", (0.10, 0.18), (9, 160), (1.0, 8, 30, 5),
        (0.22, 0.07, 0.20, 0.20),
        (
            ("抽纸", "Facial tissues"), ("洗衣液", "Laundry detergent"),
            ("不锈钢保温杯", "Vacuum flask"), ("折叠雨伞", "Folding umbrella"),
            ("纯棉毛巾", "Cotton towels"), ("收纳盒", "Storage box"), ("洗洁精", "Dish soap"),
        ),
        (("单件 single", 1.0), ("量贩装 bulk pack", 3.2)),
    ),
    Category(
        "OFFICE", "办公用品 Office", (0.15, 0.25), (8, 360), (0.8, 12, 30, 10),
        (0.03, 0.25, 0.05, 0.35),
        (
            ("A4 复印纸", "A4 copy paper"), ("中性笔", "Gel pens"), ("文件夹", "File folders"),
            ("笔记本", "Notebooks"), ("订书机", "Stapler"), ("打印机墨盒", "Printer cartridge"),
            ("白板笔", "Whiteboard markers"),
        ),
        (("单件 single", 1.0), ("整箱 carton", 4.5)),
    ),
    Category(
        "TECH", "电子设备 Electronics", (0.18, 0.28), (99, 4200), (0.3, 2, 5, 1),
        (0.08, 0.15, 0.05, 0.08),
        (
            ("蓝牙耳机", "Bluetooth earbuds"), ("移动电源", "Power bank"),
            ("智能手环", "Fitness band"), ("办公投影仪", "Office projector"),
            ("会议摄像头", "Conference camera"), ("无线路由器", "Wi-Fi router"),
            ("智能音箱", "Smart speaker"),
        ),
        (("标准版 standard", 1.0), ("专业版 pro", 1.8)),
    ),
    Category(
        "GIFT", "礼品定制 Corporate gifts", (0.40, 0.55), (150, 1200), (0.3, 20, 10, 15),
        (0.03, 0.15, 0.03, 0.05),
        (
            ("定制茶礼", "Custom tea gift set"), ("年会礼盒", "Company gala gift box"),
            ("中秋礼盒", "Mid-Autumn gift box"), ("春节礼盒", "Spring Festival hamper"),
            ("员工福利卡", "Employee benefit card"),
        ),
        (("标准 standard", 1.0), ("尊享 deluxe", 2.0)),
    ),
    Category(
        "SERV", "服务 Services", (0.60, 0.78), (300, 9800), (0.0, 0, 0, 0), (0.01, 0.08, 0.0, 0.0),
        (
            ("茶艺培训", "Tea ceremony training"), ("茶水间托管", "Office pantry service"),
            ("设备安装调试", "Equipment installation"), ("年度维保合同", "Annual maintenance"),
            ("企业品鉴会", "Corporate tasting event"), ("会员年费", "Membership annual fee"),
        ),
        (("", 1.0),),
    ),
)  # fmt: skip


class StaffMember(NamedTuple):
    username: str
    first_name: str
    last_name: str
    role: str  # one of guanxi.core.choices.Role
    team: str | None
    language: str
    # How long this person takes over a case compared with the others (1.0 = typical).
    case_slowness: float = 1.0


TEAM_EAST = "华东销售部 East China Sales"
TEAM_NATIONAL = "全国销售部 National Sales"
TEAM_SERVICE = "客户服务部 Customer Service"
TEAM_ANALYTICS = "数据分析组 Analytics"
TEAMS: tuple[str, ...] = (TEAM_EAST, TEAM_NATIONAL, TEAM_SERVICE, TEAM_ANALYTICS)
# East China has its own sales team; the national team covers every other region.
EAST_REGION = "华东"

DEMO_USERNAME = "demo"
# The demo company's published login: for the demo only, never for real data.
DEMO_PASSWORD = "guanxi-demo"
STAFF: tuple[StaffMember, ...] = (
    StaffMember(DEMO_USERNAME, "Demo", "Administrator", "admin", None, "en"),
    StaffMember("wang.fang", "王芳", "", "manager", TEAM_EAST, "zh-hans"),
    StaffMember("liu.qiang", "刘强", "", "manager", TEAM_NATIONAL, "zh-hans"),
    StaffMember("chen.jing", "陈静", "", "manager", TEAM_SERVICE, "zh-hans", 0.9),
    StaffMember("li.wei", "李伟", "", "sales", TEAM_EAST, "zh-hans"),
    StaffMember("zhang.min", "张敏", "", "sales", TEAM_EAST, "zh-hans"),
    StaffMember("emily.zhou", "Emily", "Zhou", "sales", TEAM_EAST, "en"),
    StaffMember("zhao.lei", "赵磊", "", "sales", TEAM_NATIONAL, "zh-hans"),
    StaffMember("yang.yang", "杨洋", "", "sales", TEAM_NATIONAL, "zh-hans"),
    StaffMember("huang.yong", "黄勇", "", "sales", TEAM_NATIONAL, "zh-hans"),
    StaffMember("zhou.ting", "周婷", "", "service", TEAM_SERVICE, "zh-hans", 0.8),
    StaffMember("wu.hao", "吴昊", "", "service", TEAM_SERVICE, "zh-hans", 1.0),
    # Sun Li is overloaded: her cases take much longer and more of them miss the deadline.
    StaffMember("sun.li", "孙丽", "", "service", TEAM_SERVICE, "zh-hans", 2.6),
    StaffMember("michael.xu", "Michael", "Xu", "service", TEAM_SERVICE, "en", 1.1),
    StaffMember("xu.ming", "徐明", "", "analyst", TEAM_ANALYTICS, "zh-hans"),
)
STAFF_EMAIL_DOMAIN = "example.com"

# Interaction notes, by purpose. An empty string leaves the note blank, as staff often do.
NOTES: dict[str, tuple[str, ...]] = {
    "follow_up": (
        "回访：已收货，使用正常",
        "回访：客户对包装提出小建议",
        "回访：介绍冲泡方法，客户满意",
        "回访：确认安装完成",
        "Follow-up call: delivery fine, customer happy",
        "",
    ),
    "advice": (
        "分享新品冲泡指南",
        "建议调整采购周期以减少库存",
        "推荐适合办公室的茶饮方案",
        "提醒设备保养",
        "Sent seasonal tea guide",
    ),
    "offer": (
        "中秋礼盒预订优惠",
        "会员积分兑换活动",
        "新品试饮邀请",
        "批量采购折扣方案",
        "Spring Festival early-bird offer",
    ),
    "joint_work": (
        "季度联合经营规划会",
        "联合促销方案讨论",
        "新品联合开发评审",
        "渠道库存与补货计划对接",
        "Joint business review",
    ),
    "complaint": ("客户来电投诉", "意见卡：对服务不满", "网页留言投诉", ""),
    "survey": ("意见卡：总体满意", "意见卡：希望增加小包装", "网页问卷反馈", ""),
    "other": (
        "咨询产品规格与价格",
        "询问企业采购流程",
        "咨询门店地址与营业时间",
        "Asked about bulk prices",
        "",
    ),
}

# Bond notes, by instrument. An empty string leaves the note blank.
BOND_NOTES: dict[str, tuple[str, ...]] = {
    "loyalty_membership": ("银卡会员", "金卡会员", "门店办理会员卡", "Online store member", ""),
    "points": ("结账时开通积分账户", "积分商城账户", "Points account", ""),
    "volume_discount": ("年度采购返利协议", "阶梯价格协议", "Annual volume rebate agreement"),
    "club": ("茶友会会员", "品鉴会常客", "Tea club member"),
    "community": ("加入客户微信群", "经销商交流群", "User community member", ""),
    "personal_contact": ("客户经理定期拜访", "与采购负责人建立联系", "Key account contact"),
    "support_contract": ("设备维保合同", "年度技术支持服务", "Annual maintenance contract"),
    "shared_system": ("接入订货系统", "库存数据共享", "EDI ordering link"),
    "custom_solution": ("定制礼品方案", "专属拼配茶", "Custom blend for the customer"),
}


# Notes raters leave on a partnership stage assessment, by the stage their answers came to
# (basic, cooperative, interdependent, integrated).
ASSESSMENT_NOTES: tuple[tuple[str, ...], ...] = (
    ("只谈订单和价格，联系人只有采购", "比价后下单，随时可能换供应商", "Orders and prices only"),
    (
        "沟通顺畅，但不愿分享销售数据",
        "对服务满意，仍在比较其他供应商",
        "Open, but keeps its options",
    ),
    ("已签长期价格协议，双方技术人员直接沟通", "共享库存和销售预测", "Joint planning has started"),
    ("联合开发新品，共同制定年度计划", "双方组建常设联合团队", "Runs with us as one value chain"),
)


class CaseCategory(NamedTuple):
    kind: str  # guanxi.engagement.choices.CaseKind
    code: str
    subject: str
    resolution: str
    weight: float


CASE_CATEGORIES: tuple[CaseCategory, ...] = (
    CaseCategory("complaint", "delivery", "配送延迟 Late delivery", "已致歉并补偿运费券", 3.0),
    CaseCategory("complaint", "quality", "商品质量问题 Quality issue", "已换货", 2.0),
    CaseCategory("complaint", "damaged", "商品破损 Damaged goods", "已补发", 1.5),
    CaseCategory("complaint", "billing", "发票或账单错误 Billing error", "已重开发票", 1.0),
    CaseCategory("complaint", "staff", "服务态度问题 Staff attitude", "已致歉并安排培训", 0.6),
    CaseCategory("feedback", "product", "产品建议 Product suggestion", "已转交产品部", 2.0),
    CaseCategory("feedback", "packaging", "包装建议 Packaging", "已记录，下批改进", 1.2),
    CaseCategory("feedback", "website", "网站体验反馈 Website", "已提交网站团队", 0.8),
    CaseCategory("feedback", "praise", "表扬服务人员 Praise", "已转达并感谢", 1.0),
    CaseCategory("question", "usage", "使用与冲泡咨询 How to use", "已电话解答", 2.0),
    CaseCategory("question", "order_status", "订单进度查询 Order status", "已告知物流进度", 1.5),
    CaseCategory("question", "invoice", "开票咨询 Invoice", "已说明开票流程", 0.8),
)
