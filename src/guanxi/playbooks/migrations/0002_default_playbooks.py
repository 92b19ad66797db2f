"""The default playbooks (docs/playbooks.md). Edit or deactivate them in the admin; a playbook whose
code already exists is left as it is."""

from django.db import migrations

ACCOUNT_OWNER = "account_owner"

PLAYBOOKS = [
    {
        "code": "follow-up-after-purchase",
        "name_en": "Follow-up after each purchase",
        "name_zh": "购后回访",
        "description_en": (
            "Accountable customers, and those above them, hear from the company soon after every "
            "purchase: did the order arrive complete and on time, and does it work as expected?"
        ),
        "description_zh": (
            "对负责式及以上层次的客户,每次购买后都要及时回访:订单是否按时、完整送达,"
            "产品用得是否顺手。"
        ),
        "trigger": "per_purchase",
        "window_days": 7,
        "actual_levels": ["accountable", "proactive", "partnership"],
        "actions": [
            {
                "title_en": "Call back about the recent purchase",
                "title_zh": "就近期订单回访客户",
                "reason_en": (
                    "This customer is served at an accountable level or higher, so the company "
                    "checks in after every purchase. Ask whether the order arrived on time and "
                    "complete and whether it meets expectations, and note anything to improve."
                ),
                "reason_zh": (
                    "该客户处于负责式或更高的关系层次,公司应在每次购买后主动询问。"
                    "请确认订单是否按时、完整送达,是否符合预期,并记下需要改进之处。"
                ),
                "purpose": "follow_up",
                "channel": "phone",
                "due_offset_days": 7,
            }
        ],
    },
    {
        "code": "proactive-quarterly-contact",
        "name_en": "Quarterly proactive contact",
        "name_zh": "季度主动联系",
        "description_en": (
            "Proactive customers are contacted every quarter with useful advice or a relevant "
            "offer, without waiting for them to ask."
        ),
        "description_zh": (
            "对主动式客户,每个季度主动联系一次,提供有用的建议或合适的优惠,而不是等客户来找。"
        ),
        "actual_levels": ["proactive"],
        "actions": [
            {
                "title_en": "Get in touch with advice or an offer",
                "title_zh": "主动联系,提供建议或优惠",
                "reason_en": (
                    "The company keeps a proactive relationship with this customer: it reaches "
                    "out regularly with ideas for using the products better, new products that "
                    "fit their needs, or a suitable offer. No such contact has been made in the "
                    "last quarter."
                ),
                "reason_zh": (
                    "公司与该客户保持主动式关系:定期主动联系,介绍更好的使用方法、"
                    "符合其需求的新产品或合适的优惠。最近一个季度尚未进行此类联系。"
                ),
                "purpose": "advice",
                "channel": "phone",
                "due_offset_days": 14,
                "cadence_days": 90,
            }
        ],
    },
    {
        "code": "partnership-monthly-review",
        "name_en": "Monthly joint review",
        "name_zh": "月度联合评审",
        "description_en": (
            "Partners meet every month to review their joint plans, the results and the next "
            "steps together."
        ),
        "description_zh": "伙伴式客户每月与公司共同回顾合作计划、成果和下一步安排。",
        "actual_levels": ["partnership"],
        "actions": [
            {
                "title_en": "Hold the monthly joint review",
                "title_zh": "召开月度联合评审会",
                "reason_en": (
                    "This customer is a partner: both sides plan and work together. Meet this "
                    "month to review the shared goals, what was delivered and what each side "
                    "will do next."
                ),
                "reason_zh": (
                    "该客户是合作伙伴,双方共同规划、共同工作。请在本月会面,"
                    "回顾共同目标、已完成的工作以及双方下一步的分工。"
                ),
                "purpose": "joint_work",
                "channel": "meeting",
                "due_offset_days": 7,
                "cadence_days": 30,
            }
        ],
    },
    {
        "code": "b2b-basic-stage",
        "name_en": "Basic stage: flawless delivery, lower risk",
        "name_zh": "基础阶段:交付无误,降低风险",
        "description_en": (
            "At the basic stage the buyer is still testing whether the supplier gets everyday "
            "transactions right. Win trust with faultless ordering and delivery, and make trying "
            "the products less risky for them."
        ),
        "description_zh": (
            "基础阶段的客户仍在检验供应商能否把日常交易做好。"
            "以准确无误的下单和交付赢得信任,并降低客户试用产品的风险。"
        ),
        "partnership_stages": ["basic"],
        "actions": [
            {
                "title_en": "Review delivery and reduce the customer's risk",
                "title_zh": "检查交付情况,降低客户风险",
                "reason_en": (
                    "The relationship is at the basic stage of the B2B pyramid, where everything "
                    "rests on routine transactions. Check that recent orders were delivered on "
                    "schedule with correct paperwork, remove any friction in ordering, and offer "
                    "ways to lower the customer's risk such as samples, a trial or a "
                    "no-questions return promise."
                ),
                "reason_zh": (
                    "该关系处于企业客户关系金字塔的基础阶段,一切建立在日常交易之上。"
                    "请核实近期订单是否按期交付、单据是否准确,消除下单过程中的障碍,"
                    "并提供样品、试用或无理由退货承诺等降低客户风险的措施。"
                ),
                "purpose": "follow_up",
                "channel": "phone",
                "due_offset_days": 14,
                "cadence_days": 90,
            }
        ],
    },
    {
        "code": "b2b-cooperative-stage",
        "name_en": "Cooperative stage: dialogue and complaint resolution",
        "name_zh": "合作阶段:持续沟通,妥善处理投诉",
        "description_en": (
            "At the cooperative stage the customer is more open but still guarded. Keep up a "
            "conversation about what they need, make feedback easy and resolve every complaint "
            "with care."
        ),
        "description_zh": (
            "合作阶段的客户更加开放,但仍有所保留。要与客户持续沟通其真实需求,"
            "提供便捷的反馈渠道,认真解决每一项投诉。"
        ),
        "partnership_stages": ["cooperative"],
        "actions": [
            {
                "title_en": "Visit to hear how the products are used",
                "title_zh": "拜访客户,了解产品使用情况",
                "reason_en": (
                    "The relationship is at the cooperative stage. Visit the customer to learn "
                    "who uses the products and how, what they value most and which combination "
                    "of products and service would serve them better; ask for feedback and "
                    "follow any open complaint through until it is settled."
                ),
                "reason_zh": (
                    "该关系处于合作阶段。请拜访客户,了解产品由谁使用、如何使用,"
                    "客户最看重什么,哪种产品和服务组合更能为其增值;征求反馈意见,"
                    "并跟进尚未解决的投诉直至解决。"
                ),
                "purpose": "survey",
                "channel": "visit",
                "due_offset_days": 14,
                "cadence_days": 60,
            }
        ],
    },
    {
        "code": "b2b-interdependent-stage",
        "name_en": "Interdependent stage: customer team, contact at every level",
        "name_zh": "相互依存阶段:客户团队,多层级对接",
        "description_en": (
            "When both companies depend on each other, serve the customer with a "
            "cross-functional team and connect people at every level: managers with managers, "
            "engineers with engineers, finance with finance."
        ),
        "description_zh": (
            "双方相互依存时,应组建跨部门的客户服务团队,在各个层级建立对接:"
            "管理层对管理层,技术人员对技术人员,财务对财务。"
        ),
        "partnership_stages": ["interdependent"],
        "actions": [
            {
                "title_en": "Meet with the cross-functional customer team",
                "title_zh": "召开跨部门客户团队会议",
                "reason_en": (
                    "The relationship is interdependent: the customer treats the company as a "
                    "key supplier and shares sensitive information. Bring sales, technical, "
                    "production and finance staff together with their counterparts at the "
                    "customer to review the account and solve open issues jointly."
                ),
                "reason_zh": (
                    "该关系处于相互依存阶段:客户把公司视为关键供应商,并分享敏感信息。"
                    "请组织销售、技术、生产和财务人员与客户的对口人员一起,"
                    "共同审视合作现状,联合解决未决问题。"
                ),
                "purpose": "joint_work",
                "channel": "meeting",
                "due_offset_days": 21,
                "cadence_days": 90,
            }
        ],
    },
    {
        "code": "b2b-integrated-stage",
        "name_en": "Integrated stage: joint development and marketing",
        "name_zh": "功能整合阶段:联合开发与联合营销",
        "description_en": (
            "Strategic partners share resources across both value chains. Look for chances to "
            "develop products together, to promote and sell jointly, and to integrate supply."
        ),
        "description_zh": (
            "战略伙伴在双方价值链上共享资源。寻找共同开发产品、联合推广与共同销售、整合供应的机会。"
        ),
        "partnership_stages": ["integrated"],
        "actions": [
            {
                "title_en": "Plan joint development and marketing",
                "title_zh": "规划联合开发与联合营销",
                "reason_en": (
                    "The relationship is integrated: the two companies act as strategic "
                    "partners. Meet to plan joint product development, joint promotion or "
                    "co-selling, and find where the value chains can share resources so that "
                    "both sides gain."
                ),
                "reason_zh": (
                    "该关系已进入功能整合阶段,双方是战略伙伴。请会面规划联合产品开发、"
                    "联合推广或共同销售,寻找双方价值链可以共享资源之处,实现共赢。"
                ),
                "purpose": "joint_work",
                "channel": "meeting",
                "due_offset_days": 30,
                "cadence_days": 90,
            }
        ],
    },
    {
        "code": "retention-call",
        "name_en": "Retention call on decline",
        "name_zh": "退化期挽留回访",
        "description_en": (
            "A customer whose purchases are slowing down or shrinking gets a personal call "
            "before they drift away; neglect is a common reason customers are lost."
        ),
        "description_zh": (
            "购买变少或金额下降的客户,在流失之前应得到一次个人回访;被忽视是客户流失的常见原因。"
        ),
        "lifecycle_stages": ["decline"],
        "actions": [
            {
                "title_en": "Call to find out why purchases are falling",
                "title_zh": "致电了解购买下降的原因",
                "reason_en": (
                    "This relationship is in decline: the customer buys less often or spends "
                    "less than before. Call to ask how things are going, whether something "
                    "disappointed them, and what would bring them back to their usual rhythm."
                ),
                "reason_zh": (
                    "该客户处于退化期:购买频率或金额都在下降。请致电询问客户近况、"
                    "是否有不满意之处,以及怎样才能让其恢复往常的购买节奏。"
                ),
                "purpose": "follow_up",
                "channel": "phone",
                "due_offset_days": 7,
                "cadence_days": 30,
            }
        ],
    },
    {
        "code": "win-back-offer",
        "name_en": "Win-back offer for lost valuable customers",
        "name_zh": "流失重要客户挽回优惠",
        "description_en": (
            "Special and key customers (classes A and B) who have stopped buying are worth "
            "winning back with a personal offer."
        ),
        "description_zh": "已停止购买的特别客户和重点客户(A类、B类)值得用个性化的优惠争取回来。",
        "lifecycle_stages": ["churned"],
        "value_classes": ["A", "B"],
        "actions": [
            {
                "title_en": "Make a personal win-back offer",
                "title_zh": "提出个性化挽回优惠",
                "reason_en": (
                    "A customer who brought the company a large share of its profit appears to "
                    "have left. Contact them with an offer chosen for what they used to buy, and "
                    "ask what made them stop."
                ),
                "reason_zh": (
                    "这位曾为公司贡献大量利润的客户似乎已经流失。"
                    "请根据其以往的购买偏好提出有针对性的优惠,并询问其停止购买的原因。"
                ),
                "purpose": "offer",
                "channel": "phone",
                "due_offset_days": 14,
                "cadence_days": 90,
            }
        ],
    },
    {
        "code": "foundation-repair",
        "name_en": "Foundation repair",
        "name_zh": "基础服务修复",
        "description_en": (
            "Every level of service rests on the basics: on-time delivery, accurate orders and "
            "complaints resolved in time. When they fail, repair them first; for a customer at a "
            "high level or stage (a foundation alert) the task is urgent."
        ),
        "description_zh": (
            "各个层次的关系都建立在基础之上:按时交付、订单准确、投诉及时解决。"
            "基础出现问题时要先修复;对处于高层次或高阶段的客户(基础预警),此任务为紧急任务。"
        ),
        "foundation_health": ["at_risk"],
        "actions": [
            {
                "title_en": "Repair the basics and tell the customer",
                "title_zh": "修复基础服务并告知客户",
                "reason_en": (
                    "Deliveries, order accuracy or complaint handling are failing for this "
                    "customer (the score snapshot lists which). Find the cause, put it right and "
                    "let the customer know what was done: no relationship grows on a foundation "
                    "that does not hold."
                ),
                "reason_zh": (
                    "该客户的交付、订单准确性或投诉处理出现问题(评分快照中列出了具体原因)。"
                    "请查明原因并加以纠正,同时告知客户采取了哪些措施:基础不牢,关系无法向上发展。"
                ),
                "purpose": "follow_up",
                "channel": "phone",
                "due_offset_days": 14,
                "alert_due_offset_days": 3,
                "cadence_days": 30,
            }
        ],
    },
    {
        "code": "step-up-plan",
        "name_en": "Step-up plan for under-served customers",
        "name_zh": "服务不足客户升级计划",
        "description_en": (
            "Customers whose segment warrants a higher relationship level than they receive are "
            "moved up one level at a time."
        ),
        "description_zh": (
            "所在细分群体应得到更高关系层次、但目前服务不足的客户,要制定计划逐级提升。"
        ),
        "level_gaps": ["under_served"],
        # Only live relationships: a prospect or a lost customer needs winning first.
        "lifecycle_stages": ["exploration", "formation", "stability"],
        "actions": [
            {
                "title_en": "Plan the step up to the recommended level",
                "title_zh": "制定升级到建议层次的计划",
                "reason_en": (
                    "Given how many customers share this customer's segment and the margin they "
                    "bring, the recommended relationship level is higher than the one the "
                    "company practises now. Agree a plan to move up a level, such as a follow-up "
                    "after each purchase or a regular call with advice, and make the first "
                    "contact."
                ),
                "reason_zh": (
                    "根据该客户所在细分群体的客户数量和利润水平,建议的关系层次高于公司目前的做法。"
                    "请制定提升一个层次的计划,例如每次购买后回访,或定期致电提供建议,"
                    "并完成第一次联系。"
                ),
                "purpose": "advice",
                "channel": "phone",
                "due_offset_days": 14,
                "cadence_days": 90,
            }
        ],
    },
]


def create_defaults(apps, schema_editor):
    Playbook = apps.get_model("playbooks", "Playbook")
    PlaybookAction = apps.get_model("playbooks", "PlaybookAction")
    for spec in PLAYBOOKS:
        spec = dict(spec)
        actions = spec.pop("actions")
        if Playbook.objects.filter(code=spec["code"]).exists():
            continue
        playbook = Playbook.objects.create(**spec)
        for position, action in enumerate(actions, start=1):
            PlaybookAction.objects.create(
                playbook=playbook, position=position, owner_rule=ACCOUNT_OWNER, **action
            )


def remove_defaults(apps, schema_editor):
    apps.get_model("playbooks", "Playbook").objects.filter(
        code__in=[spec["code"] for spec in PLAYBOOKS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("playbooks", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
