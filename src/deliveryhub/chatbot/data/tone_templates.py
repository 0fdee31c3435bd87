# ruff: noqa: E501  -- Korean template lines: ruff counts Hangul as double width.
"""Second corpus round for tone (issue 18 item 3): the intent of angry and of polite messages.

The intent model had learned intents from neutral requests, so a quiet-anger message (an accusation, a
mocking question, praise wrapped around a failure) or a happy one was pulled to whatever topic word it
held. These templates teach the intent under the tone: the topic when there is one (a stuck refund stays
``refund_status``, harm to a person is ``damaged_item``, a card dispute is ``payment_issue``), ``other``
when the message is only anger, a threat, thanks or praise.

Written from the phenomena by a second author, never from either blind set (tests/unit/chatbot/
blind_escalation*.yaml; the blind-set test checks no blind sentence is in the shipped corpora). Same
grammar as corpus_templates.py: ``(a|b)`` one alternative, ``[x]`` optional, ``{slot}`` a slot filler.
The angry rows escalate; the polite rows do not and are kept out of the rows the VOC models borrow from
the intent corpus (model.py), so the VOC training data stays as it was.
"""

from __future__ import annotations

TONE_PER_TEMPLATE = 6

TONE_ANGRY: list[tuple[str, str]] = [
    # fraud / accusation, by topic
    (
        "delivery_delay",
        "(입금하고|결제하고) ({n}주째|열흘째|보름째) (발송 소식이|출고 소식이) 없는 거 보니 (돈만 챙기신|먹튀하신|사기 치신) (거 같네요|거죠|건가요)",
    ),
    (
        "delivery_delay",
        "(여기|이 가게) (사기 업체|사기 쇼핑몰)(인가 봐요|였네요|맞죠) (몇 주를|한참을) 기다려도 (안 보내요|출고가 안 돼요)",
    ),
    (
        "other",
        "(가짜 후기로|알바 리뷰로) (도배해 놓고|채워 놓고) (물건은|품질은) (엉망이네요|형편없네요) (사기 판매죠|기만이에요)",
    ),
    (
        "wrong_item",
        "(홈페이지|상세페이지) 사진이랑 (전혀 다른|완전 딴판인) (싸구려를|물건을) (보내셨네요|주셨네요) (이건 기만이에요|소비자 우롱이에요)",
    ),
    (
        "wrong_item",
        "(시리얼|정품 코드)(를|) 조회하니까 (정품이 아니래요|등록이 안 돼요) (짝퉁|가품) 파시는 (곳이었네요|가게였어요)",
    ),
    (
        "refund_status",
        "환불 (완료라고|처리했다고) (해 놓고|하시더니) (입금은|돈은) (안 됐던데|들어오지도 않았어요) (거짓말하신 거죠|속이신 거예요)",
    ),
    (
        "return_request",
        "(제가|저는) 반품을 (안 보냈다고|보낸 적 없다고) 하시는데 (택배사 기록에|회수 기록에) 다 (있거든요|남아 있어요)",
    ),
    (
        "track_order",
        "(조회도 안 되는|존재하지도 않는) (송장번호|운송장 번호)(를|) (주시고|알려 주시고) (발송했다고|보냈다고) 하시네요",
    ),
    (
        "refund_status",
        "(반품 받으시고|회수해 가시고) (돈은|환불은) (안 돌려주시네요|입 닦으시네요) (떼먹으실|꿀꺽하실) 건가요",
    ),
    # mocking questions
    ("other", "(상담 직원분들|CS 담당자분들) (출근은|일은) 하(시나요|시는 거죠|긴 하세요)"),
    ("exchange_request", "(교환 신청 버튼|교환 접수 메뉴)(은|는) (그냥|그저) 장식(인가요|이에요|이죠)"),
    ("other", "기다리라는 (말만|얘기만) 하시면 (다인가요|끝인가요|되는 건가요)"),
    (
        "stock_inquiry",
        "(팔 생각이|판매할 생각이) 있긴 한 (건지|거예요) (재고 있다더니|주문 받아 놓고) (품절이래요|취소래요)",
    ),
    (
        "other",
        "(이런 품질로|이런 물건으로) (돈을 받으시는|장사하시는) (게|거) (이해가 안 돼요|말이 되나요|정상이에요)",
    ),
    (
        "delivery_delay",
        "(보름|{n}주|한 달) (넘게|째) (안 오는 게|출고가 안 되는 게) (정상이에요|말이 돼요|맞는 건가요)",
    ),
    ("other", "(답장|회신)(을|) (하시긴|주시긴|보시긴) 하(는 건가요|나요|세요)"),
    (
        "missing_delivery",
        "(배송 사진은|완료 사진은) (남의 집 문 앞인데|엉뚱한 곳인데) (확인은|보시긴) 하신 (거예요|건가요)",
    ),
    # sarcasm, by topic
    ("wrong_item", "(아주|참) 잘 하셨네요 (이불|매트) 주문했는데 (베개 커버만|커버 한 장만) 왔어요"),
    ("delivery_delay", "(역대급|전설의) 배송이네요 ({n}주|보름|한 달) 만에 받았어요 (ㅋㅋ|ㅎㅎ|^^)"),
    ("damaged_item", "(기가 막히게|기똥차게) 포장하셨네요 (병이|그릇이|액자가) 다 (깨졌어요|박살 났어요)"),
    (
        "damaged_item",
        "(꼼꼼한 검수|철저한 검품) 덕분에 (얼룩진|구멍 난|실밥 터진) (셔츠|바지|니트) 잘 받았습니다",
    ),
    ("other", "(상담원분|담당자분) (대답|회신) 참 빠르시네요 (나흘째|사흘째|일주일째) 읽지도 않으시고"),
    (
        "refund_status",
        "(환불 정말|환불 참) 빨리 해 주시네요 (한 달째|{n}주째) (기다리는 중이에요|감감무소식이에요)",
    ),
    # elapsed, by topic
    (
        "refund_status",
        "(반품 회수해 가신 지|물건 돌려보낸 지) ({n}주|20일|열흘)(째인데|가 넘었는데) 환불 (처리 소식이 없어요|진행이 안 돼요)",
    ),
    (
        "exchange_request",
        "교환품 (발송한다고 하신 게|보내준다고 한 게) ({n}주 전|보름 전|열흘 전)인데 (아직 안 왔어요|소식이 없어요)",
    ),
    (
        "delivery_delay",
        "(배송 지연 안내|지연 문자) 받은 지 (열흘|{n}주|보름)(이 넘었어요|째예요|가 지났어요)",
    ),
    (
        "delivery_delay",
        "(주문 넣고|결제하고) (한 달 가까이|{n}주 가까이|보름 넘게) 기다리는 (중이에요|중인데 소식이 없어요)",
    ),
    # again, by topic
    (
        "wrong_item",
        "(지난 주문에도|저번 택배에도) (수량이 하나 적게|한 개 덜) (오더니|왔는데) (또|이번에도) (하나 모자라요|덜 왔어요)",
    ),
    ("damaged_item", "이번에도 (날짜 지난|유통기한 임박한) (우유가|요거트가|빵이) 왔네요"),
    (
        "damaged_item",
        "(새로 보내주신 것마저|교체품마저|두 번째 받은 것도) (작동을 안 해요|전원이 안 켜져요|금이 가 있어요)",
    ),
    (
        "other",
        "(번번이|매번) (배송기사님이|기사님이) 연락도 없이 (경비실에|아무 데나) (두고 가세요|던져 놓고 가세요)",
    ),
    # threats to outside parties
    (
        "other",
        "(한국소비자원|소비자원) (피해구제|분쟁조정) (접수 절차 밟겠습니다|신청서 작성 중이에요|진행합니다)",
    ),
    (
        "payment_issue",
        "(금감원이랑|금융감독원이랑) 카드사에 (동시에|같이) 민원 (넣을 예정입니다|넣겠습니다|넣었어요)",
    ),
    (
        "other",
        "(블로그에|유튜브에|인스타에) (이 쇼핑몰|이 업체) (후기로|사연으로) (낱낱이|전부) (까발리겠습니다|올리겠습니다)",
    ),
    (
        "other",
        "(SNS에|커뮤니티에) (상품 사진이랑|받은 물건이랑) (답변 내용|상담 내용) (전부|다) (올릴게요|공개할게요)",
    ),
    ("other", "(법률구조공단에|변호사 사무실에) (상담 예약했어요|상담 신청했습니다|자료 보냈어요)"),
    ("other", "경찰에 (사기 신고|고소장) (접수했습니다|제출했어요|넣을 거예요)"),
    (
        "payment_issue",
        "(카드 결제 건|이번 결제 건) (이의 신청|분쟁 접수) 들어갔으니 (그리 아세요|참고하세요)",
    ),
    # harm to a person
    (
        "damaged_item",
        "(모서리가|마감이) 날카로워서 (아들|딸|조카) (이마가|팔이) (찢어졌어요|긁혀서 피가 나요)",
    ),
    (
        "damaged_item",
        "(베개|이불|매트) (냄새가|화학 냄새가) 심해서 (자고 나니|하룻밤 쓰고) (가족 모두|온 식구가) (두통이 와요|머리가 아파요|기침해요)",
    ),
    (
        "damaged_item",
        "(전기포트|냄비) 손잡이가 (빠지면서|부러지면서) (뜨거운 물에|국물에) (데였어요|화상 입었어요)",
    ),
    (
        "damaged_item",
        "(장난감|블록) (작은 부품이|나사가) 떨어져서 (애기가|아기가) (입에 넣을 뻔했어요|삼킬 뻔했어요)",
    ),
    (
        "damaged_item",
        "(샴푸|로션|선크림) (쓰고|바르고) (두피가|팔이|얼굴이) (빨갛게 일어났어요|부어올랐어요) (피부과|병원) 다녀왔습니다",
    ),
    # several problems at once
    (
        "wrong_item",
        "(사이즈는 작게 오고|색은 다르게 오고) (단추는 떨어져 있고|올은 풀려 있고) (교환 신청은|문의는) (반려됐어요|답이 없어요)",
    ),
    (
        "refund_status",
        "환불 금액은 (덜 들어오고|반만 들어오고) (문의 답변은|전화는) (없고|안 되고) (정말 답답하네요|어쩌라는 건지)",
    ),
    (
        "missing_delivery",
        "(택배는 분실됐다 하고|물건은 없어졌다 하고) 재발송은 (안 된다 하고|못 한다 하고) 환불은 (기다리래요|나중에 된대요)",
    ),
    # repeated contacts
    (
        "other",
        "(메일|문의 메일) ({n}통|세 통|네 통) (보냈는데|드렸는데) (아무 회신이 없네요|답장 한 통 없네요)",
    ),
    ("other", "(채팅 상담만|상담 채팅만) (오늘|이번 주) ({n}번째|네 번째|다섯 번째)예요"),
    (
        "change_address",
        "(어제 오후에도|아까 아침에도) (오늘 아침에도|지금도) 같은 (질문|문의) 남겼어요 (배송지 변경|주소 변경) (됐나요|처리됐어요)",
    ),
    (
        "exchange_request",
        "몇 번을 (설명해야|말해야) (알아들으시나요|이해하시나요) (반품 아니고|환불 아니고) 교환이라고요",
    ),
]

# Polite messages with the same words (사기/피싱, 리뷰·후기, 카드 취소, 몇 번째, 또·다시, 아이, 성분,
# the name of a court or the police, thanks and praise) and their intent: the bot keeps them.
TONE_POLITE: list[tuple[str, str]] = [
    (
        "other",
        "(문자로 받은|카톡으로 온) 링크 (눌러도 되는 건지|열어도 되는지) 모르겠어요 (공식 번호가|공식 채널이) 뭐예요",
    ),
    ("other", "(결제하라는|입금하라는) 메시지가 왔는데 (피싱|사칭) 같아서 (여쭤봐요|확인차 물어봐요)"),
    ("other", "(상품평|구매평) (작성 기간이|작성 기한이) 따로 있나요"),
    (
        "refund_status",
        "(승인 취소 문자는|취소 완료 문자는) 왔는데 (결제 내역에|카드 앱에) 아직 남아 있어요 (정상인가요|원래 그런가요)",
    ),
    ("refund_status", "(체크카드로|계좌이체로) 결제한 건 (환불되면|취소하면) (계좌로 바로|언제) 들어오나요"),
    ("payment_issue", "(재구매 할인 코드|단골 쿠폰) 아직 쓸 수 있나요"),
    ("stock_inquiry", "(작년에도|예전에도) 샀는데 (올해 신상|새 색상) 나왔나요"),
    ("stock_inquiry", "또 살게요 (ㅎㅎ|^^) 다음 입고 (알려주세요|언제예요)"),
    ("other", "(이렇게|이리) 빨리 올 줄 몰랐어요 (감사해요|고마워요)"),
    ("other", "(상품이|옷이) 사진보다 (훨씬|더) (예뻐요|좋아요) (만족합니다|대만족이에요)"),
    ("other", "(조카|손녀) 선물인데 (메시지 카드|편지) 넣어 주실 수 있어요"),
    ("other", "(임산부가|어르신이) (써도|드셔도) 되는 (성분인가요|제품인가요)"),
    ("other", "(반려견|고양이) 간식인데 (원재료|성분) 알려주세요"),
    ("payment_issue", "(법인 명의로|사업자 명의로) (세금계산서|계산서) 발행 가능한가요"),
    ("change_address", "(회사 주소로|사무실 주소로) 바꿔야 하는데 아직 출고 전이죠"),
    ("change_address", "(출장 때문에|여행 때문에) 다음 주엔 집에 없어서 (수령지|배송지) 변경하려고요"),
    (
        "track_order",
        "(주문 제작이라|맞춤 제작이라) 시간이 걸린다고 하셨는데 지금 어느 (단계인가요|과정이에요)",
    ),
    ("return_request", "(반품은|반품 신청은) 몇 번까지 (가능한가요|되나요)"),
    ("change_address", "번거롭게 해 드려서 죄송해요 (주소|동 호수) 한 글자 틀렸어요"),
    ("other", "(두 번째 상자는|나머지 하나는) 내일 온다고 문자 받았어요 (감사해요|확인했어요)"),
    ("other", "지난번에 교환해 주셔서 감사했어요 이번엔 (다른 색|다른 디자인) 사 보려고요"),
    ("other", "(파손 없이|깨진 거 없이) 잘 왔어요 (포장 감사해요|꼼꼼하게 싸 주셨네요)"),
    ("other", "(아기 옷인데|니트인데) (세탁기 돌려도|건조기 써도) 되나요"),
    (
        "notification_issue",
        "(알림 설정에서|설정에서) 문자 대신 카톡으로 받으려면 (어떻게 해요|어디서 바꿔요)",
    ),
    (
        "track_order",
        "(택배 조회하니|배송 조회해 보니) (집하 완료로|간선 하차로) 나오네요 (내일 올까요|언제쯤 올까요)",
    ),
    ("other", "(관공서나|학교나) (경찰서 같은 곳으로도|공공기관으로도) 배송되나요"),
    ("other", "(혹시|이거) 가품 (걱정은|염려는) 없는 거죠 (정품 인증서|보증서) 같이 오나요"),
    ("other", "(법적으로|규정상) (교환 기간이|반품 기한이) 며칠인지 (궁금해요|알려 주세요)"),
    ("other", "(몇 번째 주문인지|몇 번 샀는지) 모르겠네요 (늘|항상) 잘 쓰고 있어요"),
    ("track_order", "(또|다시) 주문했어요 (이번 것도|이번 건도) (언제쯤|며칠 안에) 받을 수 있을까요"),
]
