# ruff: noqa: E501  -- Korean lexicon lines: ruff counts Hangul as double width.
"""Compositional quiet-anger cues (issue 18 item 3): target x stance x intensity instead of fixed strings.

The fixed patterns of :mod:`deliveryhub.chatbot.nlu.quiet` name whole phrasings; this module combines
small word classes so that new phrasings of the same move are caught and polite look-alikes are not:

* **outside party x stance** -- a regulator, card company, lawyer, police, review or community (*target*)
  counts only with the customer's own action or intention (*stance*: "신청할게요", "넣었어요", "진행",
  "알아보고 있어요"); a polite question about a rule ("소비자원 기준으로 …인가요?") or the word used as a
  place ("변호사 사무실로", "경찰서 앞") does not. Reviews need a hostile *intensity* ("다", "하나하나",
  "최하", "있는 그대로") because "리뷰 남길게요" is usually kind;
* **praise x failure** -- sarcasm: a compliment ("빠르시네요", "꼼꼼하시네요", "감동이에요", "덕분에")
  in the same message as a failure (late, missing, broken, wrong, a long wait), unless the failure is
  framed as past and contrasted ("지난번엔 좀 늦었는데 이번엔 빨리 왔네요");
* **again x failure** -- "또", "이번에도", "…마저", "매번" near a failure word;
* **mocking question** -- "…긴 하세요?", "…생각은 있으세요?", "일부러 그러시는 거죠?", "이게 무슨 X예요",
  "…하시는 게 정상이에요?" (a question about the shop's conduct, not about a product);
* **accusation** -- lying, counterfeit, denial of what the customer did ("보냈는데 안 왔다고 우기시면"),
  fraud -- but not "사기 문자/스미싱/사칭" (a phishing message) or "사기 당할까봐" (worry, not blame);
* **person x symptom** -- harm to someone (a child, a parent, the customer) with a symptom word;
* **since x span** -- "신청한 지 보름", "한 달 전에 취소했는데 아직" -- an elapsed wait with an anchor;
* **several refusals** -- "환불도 안 되고 답변도 없고 …" (two or more "…도/…은 안/없" clauses), being sent
  round in circles ("…다 하고 …다 하고"), the shop's deeds listed ("거절하시고 … 받으시고"), a word said
  three times, resignation ("기다리라면 기다려야죠 언제까지요?");
* **broken promises and contradictions** -- "분명 … 하셨잖아요", "포장하셨다더니 … 열려서", "완료라고 떴는데
  카드사에선 없대요", "새 상품이라더니";
* **look-alike vetoes** -- a purchase ordinal ("몇 번째 주문"), product age ("받은 지 열흘"), a worry
  ("짝퉁일까봐", "사기 당하지 않으려면"), a negated problem ("불량은 아니고"), a past failure contrasted
  with a good present.

These rules were grown in rounds against tuning sets (dev_escalation_c.yaml, probes) and measured on
hold-out sets never tuned on (tests/unit/chatbot/test_blind_escalation_b.py has the figures): on fresh
text they catch a little over half of quiet anger, so they are a floor, not the whole answer.

:func:`stance_cues` returns family names shared with quiet.py; :func:`benign_mention` says when a
threat word is only a place or a polite policy question, which vetoes the fixed threat patterns too.
"""

from __future__ import annotations

import re

from deliveryhub.chatbot.nlu.normalize import any_of as _rx

# --- outside parties and the customer's stance towards them ------------------------------------------
AUTHORITY = _rx(
    r"소비자(원|보호원|단체|센터|상담센터)|소보원|(?<!\d)1372(?!\d)|공정(위|거래위원회|거래위)|국민신문고|신문고|식약처|금감원|금융감독원",
    r"소비자보호법|전자상거래법|상거래법|카드(사|회사)|차지백|지급정지|이의(제기|신청)|변호사|법무(법인|사)|경찰|고소|고발|소송|내용증명|법적|법대로|민사|형사",
    r"맘카페|커뮤니티|언론|기자|방송국|제보|법률구조공단|법률구조|법률상담|대한법률",
)
REVIEW = _rx(r"리뷰|후기|구매평|상품평|평점|별점|블로그|인스타|sns|유튜브|카페")
EVIDENCE = _rx(r"녹음|녹취|캡처|캡쳐|스샷|스크린샷|증거")
# The customer's own action or intention (declarative, first person).
ACTION = _rx(
    r"(할|하겠|할거|할께|갈|갈거|넣을|올릴|적을|쓸|남길|알릴|보낼|걸|진행할|신청할|접수할|공유할)(게|께|거|겁|예정|생각|려고|까합|까해|까봐요|랍니다)",
    r"(하겠|넣겠|올리겠|적겠|쓰겠|남기겠|알리겠|보내겠|걸겠|진행하겠|신청하겠|접수하겠|공유하겠|대응하겠|조치하겠)",
    r"(했|넣었|올렸|적었|썼|남겼|알렸|보냈|걸었|진행했|신청했|접수했|공유했|해뒀|해놨|해놓|해두|떠놨|떠뒀)(어|습|고|으니|는데|다)",
    r"(신청|접수|진행|제기|고소|신고|민원|대응|공유|제보)(합니다|해요|할게|들어갑|들어가|중|예정|준비|하려|할까|하고있)",
    r"(방법|절차)(을|를)?(알아보|찾아보|확인하고)|알아보고(있|있어|있습)|준비(하고|중|했)",
    r"(가야|해야|넣어야|걸어야|내야)(되|하|겠|할|될)|(해야겠|해야할것같|해야지|해야될것같|할수밖에|하는수밖에)|공유해야|올려야|알려야|써야겠|적어야",
    r"알아서하세요|두고보|두고봐|가만(히)?(안|있지않|안있)",
)
# Hostile intensity for reviews ("리뷰에 다/하나하나/있는 그대로/최하로").
REVIEW_HOSTILE = _rx(
    r"다(올|쓰|쓸|적|남기|남길|까|공개|알리)|(전부|모두|하나하나|낱낱이|있는그대로|그대로|적나라|자세히|상세히|솔직하게|최하|최저|1점|일점|별하나|이과정|과정|대화|내용|경험|사진이랑|캡처)",
)
# A threat word used as a place, a name or a flavour, not as a threat.
PLACE_USE = _rx(
    r"(변호사|법무|세무|경찰|법원|소방)(님)?(사무실|사무소|서|청|댁|집|앞|근처|옆|건물|회사|공무원|관사|학교|대학|시험|교재|직원|가족)",
    r"(경찰|소방|군인)(제복|복|옷|코스프레|장난감|놀이)|고소(한|하고|해서|하네|함|한맛)",
)
# A polite question about a rule or a standard ("…기준으로 …인가요?", "표준약관대로 …되나요?").
POLICY_QUESTION = _rx(
    r"(기준|표준약관|약관|규정|권고|고시|법상|법에따르|법적으로는|에따르면|대로)(으로|이|상|에|대로)?.{0,24}(나요|까요|가요|인가요|인지|있나요|되나요|맞나요|어떻게|알려주|궁금|\?)",
    r"(어디서|어떻게|가능한가요|가능할까요|되나요|해도되나요|궁금)",
)

# --- praise used as sarcasm ------------------------------------------------------------------------
PRAISE = _rx(
    r"(빠르|빨르|친절하|대단하|훌륭하|꼼꼼하|신속하|정확하|성실하|부지런하|센스있|센스가|재주(도|가)?좋|능력(도|이)?좋|잘하|멋지)(시|세|십|으시|으세|셔)?(네|군|다|요|어요|죠)",
    r"(예술|최고|감동|일품|명품|대박)(이네|이에|입니|이다|이군|네요)|(감사|고맙)(해요|합니다|네요|습니다)?(정말|진짜|ㅎㅎ)|(정말|진짜|참|너무)(감사|고맙)",
    r"덕분에|잘받으시네|잘받으세|잘(도)?하시네|놀랍네|놀라워|신기하네|신박하|(보내|하|주|파)시다니",
)
FAILURE = _rx(
    r"늦|지연|안와|안오|안옴|안보내|안받|못받|안들어|안되|안돼|없이|없어|빠져|빠졌|누락|모자|부족|반만|짝짝이|딴판|다른(거|게|걸|색|사이즈|상품|물건)|엉뚱",
    r"잘못(온|왔|보내)|틀|깨|파손|찌그러|젖|불량|고장|망가|부러|찢|터져|상해|녹아|흠집|스크래치|기스|오배송|망쳤|망했|날렸",
    r"열려서|열려있|뜯겨|뜯긴|샜어|새서|부서져|부서진|부서졌|비슷하지도않|전혀다른|딴거|젖고|젖은|젖었|떨어져(있|나|서|왔)|떨어진|하나도없|아무것도없|없네요|없던데|터진|터졌|실밥|뜯어진|찢어진|늘어난|보풀|변색|곰팡|임박|유통기한|소비기한|날짜(가)?지난|기한(이)?지난|박살|금(이)?(가|간|갔)|금간|찍혀|긁혀|뭉개|구멍|얼룩|곰팡|걸렸|걸리|(열흘|보름|일주일|한달|몇주|몇달|\d+주|\d+달|\d+개월|[1-9]\d일)만에|(\d|일|주|달|며칠|몇일|보름|열흘|한시간|시간)째|지나(고|서)|끝나(고|서)|복붙|신호만|한번(이|꼴)|한번\b|멈춰|그대로|감감|무소식|읽씹|안읽",
)
# "지난번엔 좀 늦었는데 이번엔 빨리 왔네요": a past failure contrasted with a good present.
PAST_CONTRAST = _rx(r"(지난번|저번|예전|전에|지난주문)(엔|에는|은|때는)[^.?!]{0,16}(는데|지만|었는데|었지만)")

# --- again / repeated failure --------------------------------------------------------------------------
AGAIN_WORD = _rx(
    r"([두세네]|\d)번째(도|마저|까지)|오늘도|지금도|또(다시|한번)?|이번(주문|것|거|건|택배)?(에도|도)|(받은|해준|보내준|보내주신|해주신|교환받은|재발송받은|재배송받은|다시받은)(것|거|물건|상품)?(도|마저|까지)|마저|매번|맨날|번번이|역시나?"
)
# "또 주문할게요", "이번에도 만족", "매번 빠르게": the same words about a good thing.
AGAIN_GOOD = _rx(
    r"(또|다시|이번에도|매번|역시)(주문|구매|살|사려|재구매|만족|빠르|친절|잘|부탁|감사|예쁘|좋)"
)

# --- mocking questions about the shop's conduct -------------------------------------------------
MOCKING = _rx(
    r"[가-힣](긴|기는|기나|기라도)(하|한|했|있|계시|하신|보신|읽으)[가-힣]{0,6}(나요|냐|니|까|죠|지|는지|세요|가요|거예요|거에요|건가|거야|\?)",
    r"생각(은|이)?(있|없)(으세요|으신|긴|는거|는건|어요\?|나요|습니까)|(계획|생각)이(세요|신가요|십니까)\?",
    r"(일부러|고의로|작정하고)(그러|이러|이렇게|저렇게|하시|보내|안)",
    r"이게(도대체|대체)?무슨(?!뜻|의미|말인지|단어|용어|표시|상태|문자|코드|알림|색|소리|냄새)[가-힣]{1,6}(인가요|이에요|예요|이냐|냐|입니까|이죠|죠)",
    r"(하시|보내시|파시|처리하시|일하시|장사하시)는(게|거|건)(맞|정상|말이)",
    r"(확인|검수|관리|답변)(은|는|을|를)?(해보|하고|해주|해보신|하신)[가-힣]{0,4}(건가|거맞|건지|거예|거에|긴)",
    r"(듣고|읽고|보고|일하고)(계신|계시는|계시긴|있으신)(거|건)(죠|가요|맞|예요|에요|지)",
    r"(그냥|단순)?장식(인가|이에|이죠|이냐|용인가)|누가(사|삽|사요|살까|사겠|주문하)",
    r"(장사|응대|일)(를|을)?이렇게(하시|해서|하면)",
    r"걸리는(게|거|건)(맞|정상|말이)",
    r"(데|곳|회사|가게|쇼핑몰|업체)(가|이)?(어딨|어디있|세상에어디)",
    r"(뭐|뭘)(하시는|하는)(거|건|곳|데)(예요|에요|죠|야|냐|지|인가|입니까)",
    r"(는데|는데만)(일주일|며칠|한달|보름|열흘|\d+일|\d+주|몇주|몇시간)(이|씩|나|이나)?(필요하|걸리)(세|시|나|냐)",
    r"어떻게(매번|이렇게|그렇게|맨날|또)[가-힣]{0,14}(수가있|수있)(죠|나요|어요|습니까|냐|지)",
    r"(탓|핑계)(만|하|으로|을|대)",
    r"(양심|상식|개념|책임감)(이|은|은좀)?(있|있긴|있으)[가-힣]{0,8}(맞|가요|나요|\?|세요|신가|으신)",
    r"(가게|회사|쇼핑몰|업체|곳)(맞아요|맞나요|맞습니까|맞죠)\?",
    r"(이런|이렇게)[가-힣]{0,6}(쇼핑몰|가게|회사|업체|곳|서비스|응대|경우)(은|는)?(처음|난생처음)",
    r"(이런식|이딴식|이렇게|그런식)(으로)?(일|장사|응대|처리|운영)(하시|하면|해서|하는)[가-힣]{0,6}(곤란|안되|안돼|되겠|됩니까|되나)",
    r"(거|건|게|는|은|데|왜)(냐|느냐)고요|냐구요|냐니까요|라니까요|다니까요|했잖아요",
    r"(어떻게된|뭐하는|무슨)(거|건|짓)(예요|에요|죠|야|냐|지|입니까)이게",
)

# --- accusations ------------------------------------------------------------------------------------
ACCUSE = _rx(
    r"거짓말|허위|가짜로|짝퉁|가품|위조|먹튀|사기꾼|사기업체|사기(치|쳐|친|죠|네|잖|같|인거|였|다|야|예요|에요|아니에요|아닌가요|아니냐|아니야|아닌지|였네|당했|당한)",
    r"(보냈|반품했|돌려보냈|받았|못받았|안왔|배송했|드렸)(다고|는데|잖아요)?.{0,12}(우기|안왔다고|못받았다고|없다고|안받았다고|그러시|하시)(시|세|네|면|는데|고)",
    r"(해준다|해주겠다|보내준다|준다)고(해놓고|하더니|해놓구|하시더니).{0,12}(연락|잠수|끊|안|없)",
    r"연락(을)?끊|잠수|읽씹|속이신|속인거|속인건|속이고|속이려|속였",
    r"사과(한마디|한번|는|도|조차|의말)?(없|안하|안해|한마디없)|(놓고|놓구)[^.?!]{0,12}(모른척|나몰라|사과)|받아먹|받아챙|챙겨먹|(돈|비|금)만챙",
    r"누가(입었|입던|쓰던|썼던|쓴|신던|사용하던|사용한)|(보내신|파신|주신|하신)(거|건)아니(에요|예요|죠|야|냐|가요)",
    r"누구(말|말씀)이(맞|진짜)|(완료|처리|발송|배송|환불)(라고|됐다고|했다고|완료라고)(떴|나와|하셨|했)[^.?!]{0,20}(없대|아니래|안됐대|모른대|없다고)",
    r"하셨잖|그러셨잖|말씀하셨잖|분명(히)?[가-힣]{0,12}(하셨|했다고|그러셨|된다고)",
    r"(셨다더니|했다더니|하셨다더니|다더니|다면서)[^.?!]{0,16}(깨|파손|찌그러|젖|불량|고장|망가|부러|부서|찢|터|열려|뜯|샜|새서|흠집|스크래치|기스|얼룩|누락|빠져|빠졌|다른|딴|엉뚱|중고|냄새)",
    r"(새상품|새제품|새것|새거|정품|국내산|국산|원목|순금|천연|유기농|무료)(이)?(라더니|라면서|이라더니|이라면서)",
    r"(중고|재포장|리퍼|반품된|반품들어온)(를|을|제품을|품을|상품을|걸|거)?(파|팔|보내)|(쓰던|사용|쓴|입던)흔적",
    r"(한달|몇주|보름|열흘|\d+주|\d+일)(을|이나|씩이나)?(끌|끄)|피해자(가|들|분)|피해(보신|본|입은)(분|사람)|당한(분|사람)(이|들)",
    r"시간(을)?(끄|끌)|뭉개|(안해주|안주|안보내|안돌려주|안하|미루)려고",
    r"(준다|주겠다|드린다|드리겠다|해준다|보내준다|된다|하겠다)고(했|하셨|하더니|해놓고)[가-힣]{0,4}[^.?!]{0,12}(감감|무소식|소식(이)?없|연락(이)?없|연락도없)",
)
# 사기 about a phishing message or a worry, not about this shop.
SCAM_BENIGN = _rx(
    r"사기[가-힣]{0,4}(사이트|문자|전화|링크|메일|메시지|톡|수법|피해사례)|사기(가|꾼이|꾼들이)?많|사칭|스미싱|피싱|보이스피싱|(사기|짝퉁|가품|위조품)(당하지|안당|피하|예방|당할까|일까봐|인지|아닌지|일까|아닐까|여부|아니죠|아니겠죠|걱정|염려|우려|는없|은없|가능성)|사기(인지|일까요|인가요)\?*(확인|궁금|알려)",
)

# --- harm to a person -------------------------------------------------------------------------------------
PERSON = _rx(
    r"아이|애기|아기|애가|딸|아들|아버지|어머니|엄마|아빠|할머니|할아버지|가족|남편|아내|와이프|동생|조카|손주|제가|저도|손가락|손이|손을|발이|얼굴|피부|입안|목이|강아지|고양이"
)
SYMPTOM = _rx(
    r"토했|토하|구토|베였|베이|다쳤|다치|넘어지|넘어졌|응급|병원|배아프|배가아프|아프다고|복통|설사|두드러기|발진|(?<!전)(?<!영)화상|데였|찔려|찔렸|피가|부었|부어(올|서|있|오르)|어지러|숨이|삼켰|삼킬|질식|가려워|따가워",
    r"(알러지|알레르기)(반응|가올|가생|가났|가일|때문에병원)|반응(와|이와|이왔|이올|이나|나서)",
)
SWALLOWED = _rx(
    r"(녹아|녹은|이물|조각|파편|가루|곰팡|벌레|플라스틱|유리)[^.?!]{0,16}(먹었|먹어|마셨|삼켰|들어갔|넣었)|(먹었|마셨|삼켰)는데(괜찮|몸|건강|이상)|입에(넣|물)"
)
FOOD_SYMPTOM = _rx(
    r"(먹|드시|드셨|마시|마셨|발랐|바르|썼는데|쓰고)[가-힣]{0,10}(복통|설사|구토|토했|토하|배탈|두드러기|배아프|배가아프|아프|가려|따가|발진|부어)"
)
STRONG_HAZARD = _rx(r"부풀|팽창|터질것|폭발할|불날뻔|불날것|불이붙|불났|감전|합선|스파크")
HAZARD = _rx(
    r"탄내|타는냄새|탄냄새|연기|불꽃|스파크|합선|감전|폭발|불이(붙|났|나서|번|옮)|녹아내|날카로|칼날|유리조각|파편|위험"
)

# --- elapsed waits with an anchor ---------------------------------------------------------------------
_NUM = r"(\d{1,3}|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|몇|수)"
# Ten days or more: a week is still an ordinary "when will it come" (the fixed rules count "일주일째").
_SPAN = r"((\d{1,3}|[2-9]|두|세|네|다섯|여섯|일곱|여덟|아홉|열|몇|수)(주일|주)|(\d{1,2}|한|두|세|몇)(달|개월)|(1\d|[2-9]\d|열|스무|스물|삼십)(일|날)|열흘|보름|한달|몇주|몇달)"
# What the wait is counted from: the customer's order, payment, return, claim or contact -- not the day a
# product was received, bought or first used ("받은 지 열흘 됐는데 반품 될까요" is a policy question).
_ANCHOR = r"(주문한|결제한|입금한|보낸|돌려보낸|반품한|회수된|회수해간|취소한|신청한|요청한|접수한|넣은|기다린|연락한|문의한|남긴|교환한|발송된|출고된|안온|못받은|된)"
SINCE = re.compile(
    _ANCHOR
    + r"지(가|도)?(벌써|거의|이미|어느덧|무려|꼬박)?"
    + _SPAN
    + r"|"
    + _ANCHOR[:-1]
    + r"|낸|넣은)(게|것이|건|거)"
    + _SPAN
    + r"(전|째|넘|이넘|가넘|지났|이지|가지|됐|되었)"
    + r"|"
    + _SPAN
    + r"(?!(전에?|전에도)(받은|산|샀|구매한|구입한|쓴|입은|신은))(전에|전|째|넘게|가넘|이넘|이지|가지|이다|가다|나지|나기다|동안|이나|씩이나)(?!에?까지)[^.?!]{0,24}(아직|여태|안와|안오|안됐|안돼|안되|안들어|없|못받|그대로|소식)"
    + r"|(지난달|저번달)[가-힣]{0,6}(했|한|넣|보냈|신청|접수|요청|주문|결제)[^.?!]{0,16}(아직|여태|그대로|소식이없)"
    # a claim (not an order) filed last week and still untouched
    + r"|(지난주|저번주)[가-힣]{0,6}(환불|반품|교환|취소|회수)[가-힣]{0,4}(접수|신청|요청|했|보냈)[^.?!]{0,8}(아직도|여태)"
)

# --- several refusals in one message ---------------------------------------------------------------
# Being sent round in circles: "분실됐다 하고 재발송은 못 한다 하고 …" (two reported answers or more).
REPORTED = re.compile(r"[가-힣](다|라|래|대)(하고|고하고|하더니|고하더니|면서)")
REFUSAL = re.compile(
    r"(?<!에)(도|은|는|조차|마저)(오류|에러|거절|반려|거부|안되|안돼|안해|안받|안주|안오|안와|없고|없어|없네|없으|없습|못받|제대로안|읽씹|무시)"
)
UPSET_END = _rx(
    r"(라면|라시면|하라면|하시면)[가-힣]{0,6}(야죠|야지요|야겠죠|야겠네요)|언제까지요\?|봇만|기계만|자동응답만|(망신|창피|민망)(만|을|를|당|했|하)|체면(이|을)?(구겼|말이)",
    r"(한달|일주일|몇주|몇달|보름|열흘|일년)더\?|(또|계속|평생)기다릴게요|평생기다",
    r"(라는|다는|단|란|겠다는)(말|얘기|답변|소리)(만|뿐)|되풀이|돼풀이|앵무새|복붙|진(이)?빠|녹초|질렸|질린다|지긋지긋|넌더리|신물",
    r"까지(겹|한꺼번|터졌|생겼)|(한두|한둘)(가|개)?아니",
    r"더이상(못|안)|이번이마지막|마지막(입니다|이에요|경고|기회)|뭐하나(제대로|되는)|제대로(되는|하는)(게|거)(없|하나)",
)

# --- repeated contacts -------------------------------------------------------------------------------------
CONTACT_COUNT = _rx(
    r"([3-9]|\d{2}|세|네|다섯|여섯|일곱|여덟|아홉|열|몇|수십|스무|스물|여러)(번|통|차례|회)(째|이나|넘게|넘|이상|을|를|씩)?.{0,4}(문의|연락|전화|채팅|톡|글|메일|상담|드렸|넣었|남겼|걸었|말씀|물어|여쭤)",
    r"(\d+|세|네|다섯|여섯|일곱|여덟|아홉|열|몇)번째(문의|연락|전화|채팅|톡|글|메일|상담|말씀|얘기|요청|듣|이야기)",
    r"(전화|연락|문의|채팅|톡)(를|을)?(\d{2,}|스무|스물|수십|열|여러)(통|번)",
    r"(어제|그제|그저께|아까|오전|지난주|저번주|며칠전)(에도|도)[^.?!]{0,20}(오후|오늘|어제|아까|지금)(에도|도)",
    r"(계속|여러번|몇번|수차례|자꾸|매일)[^.?!]{0,12}(했|넣었|드렸|남겼|보냈|걸었)(는데|지만).{0,10}(답|연락|소식|회신|대답)(이|도|은)?(없|안)",
    r"몇번을(말|얘기|말씀|문의|물어|남겨|설명)",
    r"(어제|그제|그저께|지난주|저번주|아까|전에|며칠전)(에도|도)[^.?!]{0,14}(여쭤|물어|문의|연락|말씀|얘기|남겼|드렸)",
    r"(하루종일|오전내내|오후내내|몇시간|한시간|종일|내내)[^.?!]{0,10}(걸었|걸엇|전화|기다렸|대기)[^.?!]{0,10}(통화중|연결이안|연결안|안받|안돼|신호만)",
)


def _praise_with_failure(c: str) -> bool:
    if not PRAISE.search(c):
        return False
    rest = PAST_CONTRAST.sub("", c)
    return FAILURE.search(rest) is not None


# "옵션이 틀렸는데 또 그러네요": the failure named first, then "again" pointing back at it.
AGAIN_BACK = _rx(
    r"(또|이번에도|이번것도|이번주문도|역시나?)(그러|이러|이래|그래|마찬가지|똑같|같은)",
    r"(저번|지난번|전번|예전)(이랑|하고|과|와|처럼|이랑똑같이)(똑같|같|마찬가지)",
)
# The same failure every time: "세 번 예약했는데 세 번 다 안 오셨어요".
EVERY_TIME = _rx(
    r"([세네]|다섯|여러|몇|\d)번(다|모두|전부|이나|째)[가-힣]{0,4}(안|못|없|틀|늦|다른|깨|불량)|(매번|번번이|갈때마다|올때마다)[가-힣]{0,6}(안|못|없|틀|늦|다른|깨)"
)


PAST_TOO = _rx(
    r"(저번|지난|전번|이전|예전|작년)(달|주|번|주문|택배|주문때|번주문|번에)?(에|때)?(도|에도|때도)"
)
# "저번에도 문의했던 사람인데요 …": what happened before was a contact or a purchase, not the failure.
_NOT_A_FAILURE_BEFORE = _rx(r"문의|연락|전화|사람|주문했|주문한|구매|샀|산|이용|말씀|여쭤")
# The shop's deeds listed one after another: "교환은 거절하시고 반품비는 두 배로 받으시고".
GRIEVANCE = re.compile(r"(으시|하시|시)고(?!객)")
POLITE_ASK = _rx(r"주세요|부탁|바랍니다|주시면|주실|해주시고")


def _again(c: str) -> bool:
    past = PAST_TOO.search(c)
    if past:
        window = c[past.end() : past.end() + 16]
        fail = FAILURE.search(window)
        if fail and not _NOT_A_FAILURE_BEFORE.search(window[: fail.start()]):
            return True
    back = AGAIN_BACK.search(c)
    if (
        back
        and (FAILURE.search(c[: back.start()]) or re.search(r"(보내|오|왔|주)(셨|시)", c))
        and not POLITE_ASK.search(c)
    ):
        return True
    if EVERY_TIME.search(c):
        return True
    for m in AGAIN_WORD.finditer(c):
        if AGAIN_GOOD.match(c, m.start()):
            continue
        window = c[m.end() : m.end() + 14]  # the failure follows the "again" word
        if FAILURE.search(window):
            return True
    return False


def _authority_threat(c: str) -> bool:
    if not AUTHORITY.search(c) or PLACE_USE.search(c) and not ACTION.search(PLACE_USE.sub("", c)):
        return False
    if not ACTION.search(c):
        return False
    return not (POLICY_QUESTION.search(c) and not _declared(c))


_CONSIDERING = _rx(
    r"(신고|고소|고발|소송|민원|신문고|제보|경찰서|경찰에|소비자원에|카드사에|변호사)[가-힣]{0,4}(가야|해야|넣어야|걸어야|내야|찾아가야|물어봐야)(되|하|겠|할|될)"
)


def _declared(c: str) -> bool:
    """A first-person declaration of what the customer does (not a question about whether they may)."""
    if _CONSIDERING.search(c):
        return True  # "경찰서 가야 되나요": a question in form, a threat in fact
    return (
        re.search(
            r"(할게|할께|하겠|했어|했습|넣었|접수했|신청했|갑니다|들어갑|진행합|할거|할겁|예정|준비)", c
        )
        is not None
    )


def _review_threat(c: str) -> bool:
    m = REVIEW.search(c)
    if not m or not ACTION.search(c):
        return False
    return (
        REVIEW_HOSTILE.search(c) is not None
        and re.search(r"(이벤트|적립|포인트|혜택|쿠폰|어디서|어떻게|방법|참여|예쁘게|정성|꼭|좋은)", c)
        is None
    )


def benign_mention(c: str) -> bool:
    """A threat word used as a place/flavour, or inside a polite policy question without any action."""
    if PLACE_USE.search(c) and not ACTION.search(PLACE_USE.sub("", c)):
        return True
    if SCAM_BENIGN.search(c):
        return True
    return bool(AUTHORITY.search(c) and POLICY_QUESTION.search(c) and not _declared(c))


def stance_cues(c: str) -> list[str]:
    """Quiet-anger families found compositionally in a normalised, spacing-free text."""
    found: list[str] = []
    if _authority_threat(c) or _review_threat(c) or (EVIDENCE.search(c) and ACTION.search(c)):
        found.append("external")
    if ACCUSE.search(c) and not SCAM_BENIGN.search(c):
        found.append("accusation")
    if MOCKING.search(c):
        found.append("rhetorical")
    if _praise_with_failure(c):
        found.append("sarcasm")
    if _again(c):
        found.append("again")
    if (
        (PERSON.search(c) and SYMPTOM.search(c))
        or FOOD_SYMPTOM.search(c)
        or STRONG_HAZARD.search(c)
        or SWALLOWED.search(c)
        or (HAZARD.search(c) and (PERSON.search(c) or SYMPTOM.search(c)))
    ):
        found.append("harm")
    if SINCE.search(c):
        found.append("long_wait")
    grievances = len(GRIEVANCE.findall(c)) >= 2 and not POLITE_ASK.search(c)
    if (
        re.search(r"([가-힣]{2,4})\1\1", c)
        or len(REFUSAL.findall(c)) >= 2
        or len(REPORTED.findall(c)) >= 2
        or UPSET_END.search(c)
        or grievances
    ):
        found.append("exasperation")
    if CONTACT_COUNT.search(c):
        found.append("repeat")
    return found
