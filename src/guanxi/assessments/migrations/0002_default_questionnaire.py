"""Ship the default questionnaire: code "partnership", version 1, active.

Twelve items in six dimensions, two each. Every item has a written anchor for each score in English
and Simplified Chinese: 1 describes the basic stage, 2 the cooperative stage, 3 the interdependent
stage, 4 integration under way and 5 full integration. The bands put a mean of 1–2 in the basic
stage, 2–3 cooperative, 3–4 interdependent and 4–5 integrated (docs/assessments.md).

The content is written out here rather than imported, so that this migration keeps shipping the same
version 1 whatever later versions change.
"""

from decimal import Decimal

from django.db import migrations

CODE = "partnership"
VERSION = 1

TITLE_EN = "B2B partnership stage"
TITLE_ZH = "企业客户关系阶段评估"
DESCRIPTION_EN = (
    "Score each item from 1 to 5 by choosing the description closest to how things stand today "
    "with this customer. Answer from what you have seen, not from what you hope for. Marketing "
    "staff, sales managers, senior managers and the customer answer separately."
)
DESCRIPTION_ZH = (
    "请为每一项打 1 到 5 分：选出最接近当前与该客户实际情况的描述。请依据亲眼所见作答，"
    "而非心中所愿。营销人员、销售经理、高级经理和客户分别独立作答。"
)

# (dimension, question en, question zh, [(anchor en, anchor zh) for scores 1..5])
ITEMS = [
    (
        "contact",
        "How many people and functions in the two companies deal with each other?",
        "两家公司之间有多少人员、多少部门彼此打交道？",
        [
            (
                "One salesperson and one buyer; nearly every contact goes through the two of them.",
                "只有一名销售和一名采购，几乎所有往来都经过他们两人。",
            ),
            (
                "A few people on each side (sales, purchasing, logistics) talk when an order or a "
                "problem needs it.",
                "双方各有少数几人（销售、采购、物流），在订单或问题需要时联系。",
            ),
            (
                "Several functions have their own counterparts, from senior managers to "
                "technicians, and talk without going through sales.",
                "多个部门各有对口人员，从高层经理到技术人员，无需经过销售即可直接沟通。",
            ),
            (
                "Cross-company teams for some areas meet on a fixed schedule and share the work.",
                "部分领域组建了跨公司团队，按固定日程会面并分担工作。",
            ),
            (
                "Mixed teams from both companies work together every day, as if one organisation.",
                "双方人员组成的混合团队每天一起工作，如同一个组织。",
            ),
        ],
    ),
    (
        "contact",
        "What does our account manager mainly do for this customer?",
        "我方客户经理对这个客户主要做什么？",
        [
            (
                "Chases orders and works towards this quarter's sales target.",
                "跟进订单，为完成本季度销售指标而努力。",
            ),
            (
                "Handles the customer's requests and complaints and visits regularly after sales.",
                "处理客户的需求和投诉，售后定期拜访。",
            ),
            (
                "Coordinates the many contacts between the two companies and makes sure nothing "
                "harms the relationship.",
                "协调两家公司之间的众多往来，确保没有任何事情损害双方关系。",
            ),
            (
                "Leads a cross-functional team for this customer with an account plan agreed with "
                "them.",
                "带领针对该客户的跨部门团队，执行与客户商定的客户计划。",
            ),
            (
                "Leads, together with the customer's managers, a joint team that shapes both "
                "companies' shared strategy.",
                "与客户的管理层共同领导联合团队，制定双方共同的战略。",
            ),
        ],
    ),
    (
        "information",
        "What information do the two companies share?",
        "双方分享哪些信息？",
        [
            (
                "Only what an order needs: prices, quantities and delivery dates.",
                "仅限订单所需的信息：价格、数量和交货日期。",
            ),
            (
                "Routine operating information such as forecasts and product news; nothing "
                "sensitive.",
                "需求预测、产品动态等日常经营信息；不涉及敏感内容。",
            ),
            (
                "Sensitive information (costs, quality problems, capacity limits) is shared as a "
                "matter of course, and strategy is discussed at times.",
                "成本、质量问题、产能限制等敏感信息已常规分享，偶尔也讨论战略问题。",
            ),
            (
                "Strategic plans are shared in confidence on most subjects.",
                "在大多数议题上，双方会在保密前提下分享战略规划。",
            ),
            (
                "Plans, product roadmaps and market intelligence are open to each other and "
                "worked out together.",
                "计划、产品路线图和市场情报彼此公开，并共同制定。",
            ),
        ],
    ),
    (
        "information",
        "How far ahead do the two companies plan together?",
        "双方共同规划到多远的未来？",
        [
            ("No further than the order in hand.", "仅限手头的订单。"),
            (
                "Next season's needs are talked over when the customer asks.",
                "客户提出时，会一起谈谈下一季度的需求。",
            ),
            (
                "Needs and prospects for the coming year are reviewed together on a regular basis.",
                "定期共同回顾未来一年的需求和前景。",
            ),
            (
                "Plans covering several years are made together and reviewed by both managements.",
                "共同制定覆盖数年的计划，并由双方管理层审阅。",
            ),
            (
                "Long-term strategy (markets, products, investment) is set together.",
                "共同确定长期战略（市场、产品、投资）。",
            ),
        ],
    ),
    (
        "trust",
        "How far does the customer trust us?",
        "客户对我们的信任到什么程度？",
        [
            (
                "No further than the last delivery; every order is checked and compared with "
                "other offers.",
                "信任仅限于上一次交付；每笔订单都要核查，并与其他报价比较。",
            ),
            (
                "We have proved ourselves on delivery and quality, but they keep reservations "
                "and a second supplier in reserve.",
                "我们在交货和质量上已证明了自己，但客户仍有保留，并留有备选供应商。",
            ),
            (
                "Each side sees the other as important and relies on it in matters that affect "
                "its own business.",
                "双方都认为对方很重要，在关系自身业务的事情上依靠对方。",
            ),
            (
                "They let us act on their behalf in some areas, for example managing their stock "
                "of our products.",
                "在某些方面客户让我们代其行事，例如由我们管理其所存的我方产品库存。",
            ),
            (
                "Trust runs both ways without reservation; each acts for the other with "
                "confidence.",
                "双方互信毫无保留，可以放心地代表对方行事。",
            ),
        ],
    ),
    (
        "trust",
        "How are disagreements between the two companies handled?",
        "两家公司之间的分歧如何处理？",
        [
            (
                "By the letter of the contract; each side defends its position and one dispute "
                "can end the business.",
                "按合同条文办；各自坚持自己的立场，一次纠纷就可能终止生意。",
            ),
            (
                "As complaints settled one by one, often only after escalation.",
                "作为投诉逐件解决，往往要层层上报之后才能解决。",
            ),
            (
                "Worked out together with the long term in mind; neither side thinks of walking "
                "away.",
                "从长远出发共同协商解决；双方都不考虑一走了之。",
            ),
            (
                "Agreed joint procedures and regular reviews catch problems before they become "
                "disputes.",
                "依靠约定的共同程序和定期复盘，在问题演变成纠纷前就加以化解。",
            ),
            (
                "A joint steering group owns shared problems; disputes hardly arise.",
                "由双方共同的指导小组负责处理共同的问题；几乎不会出现纠纷。",
            ),
        ],
    ),
    (
        "commercial",
        "How are our prices to this customer set?",
        "我们对该客户的价格如何确定？",
        [
            (
                "Order by order at the going rate; the customer compares quotes every time.",
                "逐单按市场行情定价；客户每次都比价。",
            ),
            (
                "Negotiated for a season or a year, with discounts for volume.",
                "按季度或年度谈定，并按采购量给予折扣。",
            ),
            (
                "Long-term and stable: fixed, or moving by an agreed formula, so there is little "
                "to bargain over.",
                "长期稳定：价格固定，或按约定公式调整，几乎无需讨价还价。",
            ),
            (
                "Open-book: costs are shared and savings from joint improvements are split as "
                "agreed.",
                "成本公开：双方分享成本信息，联合改进带来的节约按约定分成。",
            ),
            (
                "Set from a shared model of cost and value across the joint value chain, with "
                "gains and risks shared.",
                "依据双方共同的整条价值链成本与价值模型确定，收益与风险共担。",
            ),
        ],
    ),
    (
        "commercial",
        "How does the customer rank us among its suppliers?",
        "客户在其供应商中如何看待我们？",
        [
            (
                "One of many interchangeable suppliers, chosen on price.",
                "众多可以互相替代的供应商之一，按价格挑选。",
            ),
            (
                "An approved supplier they are content with, one of several.",
                "令其满意的合格供应商，但只是几家之一。",
            ),
            (
                "Their first choice: asked first, and a supplier whose loss would hurt them.",
                "首选供应商：有需求先找我们，失去我们会对其造成损失。",
            ),
            (
                "Their sole or main source for what we supply, written into their own plans.",
                "我们所供产品的唯一或主要来源，已写入其自身的计划。",
            ),
            (
                "A strategic partner, counted as part of their own competitive advantage.",
                "战略伙伴，被视为其自身竞争优势的一部分。",
            ),
        ],
    ),
    (
        "cooperation",
        "What do the two companies do together: development, delivery, promotion?",
        "两家公司共同开展哪些工作：开发、配送、推广？",
        [
            ("Nothing; we sell and they buy.", "没有；我们卖，他们买。"),
            (
                "Now and then we solve a problem together, such as a late or damaged delivery.",
                "偶尔一起解决问题，例如一次延误或受损的交货。",
            ),
            (
                "Planned joint work in at least one of development, delivery or promotion.",
                "在开发、配送或推广中至少一项上有计划地共同开展工作。",
            ),
            (
                "Joint development, joint delivery and joint promotion all run, with shared plans "
                "and budgets.",
                "共同开发、协同配送和联合推广同时开展，并有共同的计划和预算。",
            ),
            (
                "Products are developed, launched and sold together as a matter of course.",
                "共同开发、共同推出和共同销售产品已成常态。",
            ),
        ],
    ),
    (
        "cooperation",
        "How do the technical staff of the two companies work together?",
        "双方技术人员如何合作？",
        [
            (
                "They do not meet; technical questions go through sales.",
                "彼此不见面；技术问题都通过销售转达。",
            ),
            (
                "Our engineers visit when the customer asks for support or has a complaint.",
                "客户需要支持或有投诉时，我方工程师才上门。",
            ),
            (
                "Engineers from both sides work together on product improvement and quality "
                "control.",
                "双方工程师一起参与产品改进和质量控制。",
            ),
            (
                "Each side's engineers take part in the other's projects from the start of design.",
                "双方工程师从设计之初就参与对方的项目。",
            ),
            (
                "Joint technical teams own design, quality and improvement, and know-how flows "
                "both ways.",
                "联合技术团队共同负责设计、质量和改进，经验和技术双向流动。",
            ),
        ],
    ),
    (
        "integration",
        "What would it cost the customer to stop buying from us?",
        "客户如果不再向我们采购，要付出什么代价？",
        [
            (
                "Next to nothing; they could switch with the next order.",
                "几乎没有；下一单就可以换供应商。",
            ),
            (
                "Some effort: approving a new supplier and getting used to new procedures.",
                "需要花些精力：认证新的供应商，适应新的流程。",
            ),
            (
                "A heavy loss: what both sides have invested in the relationship would be wasted.",
                "损失沉重：双方为这段关系所做的投入都将白费。",
            ),
            (
                "Products and processes on both sides are designed around each other and would "
                "have to be redone.",
                "双方的产品和流程都是相互配合设计的，离开就得推倒重来。",
            ),
            (
                "It would mean rebuilding a value chain shared with us; it is not considered.",
                "离开意味着重建与我们共享的价值链；对方从未考虑过。",
            ),
        ],
    ),
    (
        "integration",
        "How closely are the two companies' business processes linked?",
        "双方的业务流程衔接得多紧密？",
        [
            (
                "Not at all; orders come by phone or email and are keyed in again.",
                "完全没有衔接；订单通过电话或邮件下达，再人工录入。",
            ),
            (
                "Orders and invoices are exchanged electronically, but each side runs its own "
                "process.",
                "订单和发票以电子方式交换，但双方各自按自己的流程运作。",
            ),
            (
                "Some processes are aligned, such as replenishing against the customer's "
                "forecasts.",
                "部分流程已对接，例如按客户的预测补货。",
            ),
            (
                "Key processes are redesigned across both companies, such as supplier-managed "
                "inventory or shared production planning.",
                "关键流程已跨两家公司重新设计，例如供应商管理库存或共同的生产计划。",
            ),
            (
                "Planning, supply, quality and development run as one value chain on shared "
                "systems.",
                "计划、供应、质量和开发在共享系统上作为一条价值链运转。",
            ),
        ],
    ),
]

BANDS = [
    ("basic", Decimal("1.00"), Decimal("2.00")),
    ("cooperative", Decimal("2.00"), Decimal("3.00")),
    ("interdependent", Decimal("3.00"), Decimal("4.00")),
    ("integrated", Decimal("4.00"), Decimal("5.00")),
]


def add_default_questionnaire(apps, schema_editor):
    Questionnaire = apps.get_model("assessments", "Questionnaire")
    QuestionnaireItem = apps.get_model("assessments", "QuestionnaireItem")
    ScoreBand = apps.get_model("assessments", "ScoreBand")
    if Questionnaire.objects.filter(code=CODE, version=VERSION).exists():
        return
    has_active = Questionnaire.objects.filter(code=CODE, is_active=True).exists()
    questionnaire = Questionnaire.objects.create(
        code=CODE,
        version=VERSION,
        title_en=TITLE_EN,
        title_zh=TITLE_ZH,
        description_en=DESCRIPTION_EN,
        description_zh=DESCRIPTION_ZH,
        is_active=not has_active,
    )
    items = []
    for position, (dimension, text_en, text_zh, anchors) in enumerate(ITEMS, start=1):
        fields = {}
        for score, (anchor_en, anchor_zh) in enumerate(anchors, start=1):
            fields[f"anchor_{score}_en"] = anchor_en
            fields[f"anchor_{score}_zh"] = anchor_zh
        items.append(
            QuestionnaireItem(
                questionnaire=questionnaire,
                position=position,
                dimension=dimension,
                text_en=text_en,
                text_zh=text_zh,
                **fields,
            )
        )
    QuestionnaireItem.objects.bulk_create(items)
    ScoreBand.objects.bulk_create(
        ScoreBand(questionnaire=questionnaire, stage=stage, min_score=low, max_score=high)
        for stage, low, high in BANDS
    )


def remove_default_questionnaire(apps, schema_editor):
    Questionnaire = apps.get_model("assessments", "Questionnaire")
    # Assessments protect their questionnaire: a version that was answered stays.
    Questionnaire.objects.filter(code=CODE, version=VERSION, assessments__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [migrations.RunPython(add_default_questionnaire, remove_default_questionnaire)]
